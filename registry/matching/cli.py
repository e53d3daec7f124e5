"""`flask --app wsgi registry dedupe | export-pairs PATH | rebuild-match-keys`."""
import csv
import logging

import click

from registry.core.cli import registry_cli
from registry.extensions import db

log = logging.getLogger(__name__)

EXPORT_COLUMNS = ("source_ref_a", "source_ref_b", "person_id_a", "person_id_b", "score",
                  "band")


@registry_cli.command("rebuild-match-keys")
def rebuild_match_keys() -> None:
    """Compute the match keys of every active and submitted person again."""
    from registry.matching import operations

    written = operations.rebuild_keys(
        after_chunk=lambda count: click.echo(f"  {count:,} keys", err=True))
    db.session.commit()
    click.echo(f"Match keys written for {written:,} people.")


@registry_cli.command("dedupe")
def dedupe() -> None:
    """Scan all active and submitted people for duplicates and fill the review queue."""
    from registry.matching import operations

    run = operations.start_run(None)
    db.session.commit()
    try:
        run = operations.run_dedupe(run.id, echo=_echo_progress)
    except Exception as error:  # noqa: BLE001  the run row says failed; tell the user
        raise click.ClickException(f"The scan failed: {error}") from None
    click.echo(f"Scan {run.id}: {run.people_scanned:,} people, {run.pairs_found:,} pairs "
               f"({run.pairs_new:,} new).")
    counts = operations.pair_counts()
    click.echo(f"Waiting for review: {counts['likely']:,} very likely, "
               f"{counts['possible']:,} possible.")


@registry_cli.command("export-pairs")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def export_pairs(path: str) -> None:
    """Write the undecided duplicate pairs to PATH as CSV, best score first."""
    from registry.matching import operations

    written = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for a, b, score, band, ref_a, ref_b in operations.undecided_pairs():
            writer.writerow((ref_a or "", ref_b or "", a, b, f"{score:.6f}", band))
            written += 1
    log.info("%d duplicate pairs exported to %s", written, path)
    click.echo(f"{written:,} pairs written to {path}.")


def _echo_progress(stage: str, percent: int) -> None:
    click.echo(f"  {stage}: {percent}%", err=True)
