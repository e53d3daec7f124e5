"""Commands for the statistics: rebuild the cached counts (for cron)."""
import click

from registry.core.cli import registry_cli
from registry.extensions import db


@registry_cli.command("stats-refresh")
def stats_refresh() -> None:
    """Count the statistics cells again from the person table."""
    from registry.reports import statistics

    build = statistics.rebuild_cells()
    db.session.commit()
    click.echo(f"{build.cell_count} cells in {build.seconds:.1f} s.")
