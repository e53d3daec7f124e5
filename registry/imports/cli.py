"""`flask --app wsgi registry import PATH`: the same path as the pages, chunk by chunk."""
import logging
import os

import click

from registry.core.cli import registry_cli
from registry.core.errors import BadInput
from registry.extensions import db

log = logging.getLogger(__name__)


@registry_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the rows and save nothing.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Write the rows that are not imported to this CSV or XLSX file.")
@click.option("--source", "source_name", help="Where the list comes from.")
def import_file(path: str, dry_run: bool, report_path: str | None,
                source_name: str | None) -> None:
    """Check a CSV or XLSX file of people and import its valid rows for review."""
    from registry.imports import operations, parsing

    if os.path.getsize(path) > parsing.MAX_BYTES:
        raise click.ClickException(str(parsing.FileRefused(
            parsing.TOO_LARGE, max=parsing.MAX_BYTES // (1024 * 1024))))
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        batch = _checked_batch(os.path.basename(path), content, source_name)
        _print_report(batch, report_path)
        if dry_run:
            db.session.rollback()
            click.echo("Dry run: nothing was saved.")
            return
        db.session.commit()
        if operations.can_import(batch) or batch.state == "importing":
            operations.import_batch(batch, None, after_chunk=db.session.commit)
            db.session.commit()
    except BadInput as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"Batch {batch.id}: {batch.imported_count} people imported, waiting for "
               "review.")


def _checked_batch(filename: str, content: bytes, source_name: str | None):
    """Return the batch of the file, dry run done (an earlier batch of it, if any)."""
    from registry.imports import operations
    from registry.imports.models import FAILED, UPLOADED

    batch, is_new = operations.start_batch(filename, content, None, source_name)
    if not is_new:
        click.echo(f"This file was sent before as batch {batch.id} ({batch.state}).")
    ignored = operations.unknown_columns(batch)
    if ignored:
        click.echo("Columns ignored (not recognised): " + ", ".join(ignored))
    if batch.state == UPLOADED:
        operations.check_batch(batch, content)
    if batch.state == FAILED:
        from registry.imports.rows import error_text

        raise BadInput(error_text(operations.failure_of(batch)))
    return batch


def _print_report(batch, report_path: str | None) -> None:
    from registry.imports import operations, reports
    from registry.imports.forms import STATUS_LABELS

    counts = operations.status_counts(batch)
    click.echo(f"Rows: {batch.row_count}")
    for status, label in STATUS_LABELS.items():
        click.echo(f"  {label}: {counts.get(status, 0)}")
    lines = reports.report_lines(batch)
    next(lines)
    for row_number, label, column, message, _ref in lines:
        click.echo(f"Row {row_number}: {label}" + (f" [{column}]" if column else "") +
                   (f" {message}" if message else ""))
    if report_path:
        content = (reports.report_xlsx(batch) if report_path.lower().endswith(".xlsx")
                   else reports.report_csv(batch))
        with open(report_path, "wb") as handle:
            handle.write(content)
        click.echo(f"Report written to {report_path}")
