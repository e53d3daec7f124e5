"""Commands for people records: synthetic demo data."""
import logging

import click
from sqlalchemy import select

from registry.core.cli import registry_cli
from registry.extensions import db

log = logging.getLogger(__name__)


@registry_cli.command("seed-demo")
@click.option("--people", "count", default=500, show_default=True,
              help="How many synthetic people to create.")
@click.option("--seed", default=2026, show_default=True, help="Random seed.")
def seed_demo(count: int, seed: int) -> None:
    """Fill the registry with synthetic people (never real personal data)."""
    from registry.people.demo import PeopleGenerator, insert_people
    from registry.places.models import Unit

    units = list(db.session.scalars(select(Unit.code)))
    if not units:
        raise click.ClickException("Load the administrative units first: flask db upgrade.")
    generator = PeopleGenerator(units, seed=seed)
    connection = db.session.connection()
    for start in range(0, count, 5000):
        rows = [generator.person(n) for n in range(start, min(start + 5000, count))]
        insert_people(connection, rows)
    db.session.commit()
    log.info("Seeded %d synthetic people", count)
    click.echo(f"Created {count} synthetic people.")
