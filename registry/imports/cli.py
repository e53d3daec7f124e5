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
              help="Write the rows not imported, and those probably in the registry "
                   "already, to this CSV or XLSX file.")
@click.option("--source", "source_name", help="Where the list comes from.")
@click.option("--map", "pairs", multiple=True, metavar="'COLUMN=FIELD'",
              help="Say which field a column holds, for a column not recognised; "
                   "repeat for several.")
def import_file(path: str, dry_run: bool, report_path: str | None,
                source_name: str | None, pairs: tuple[str, ...]) -> None:
    """Check a CSV or XLSX file of people and import its valid rows for review."""
    from registry.imports import operations, parsing

    if os.path.getsize(path) > parsing.MAX_BYTES:
        raise click.ClickException(str(parsing.FileRefused(
            parsing.TOO_LARGE, max=parsing.MAX_BYTES // (1024 * 1024))))
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        chosen = _chosen_fields(pairs)
        batch = _checked_batch(os.path.basename(path), content, source_name, chosen)
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
    except click.ClickException:
        db.session.rollback()
        raise
    click.echo(f"Batch {batch.id}: {batch.imported_count} people imported, waiting for "
               "review.")


def _chosen_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    """Return {column: field} from the --map options, refusing an unknown field."""
    from registry.imports.rows import FIELDS

    chosen = {}
    for pair in pairs:
        # A field name holds no "=", a column name might.
        header, equals, name = pair.rpartition("=")
        header, name = header.strip(), name.strip()
        if not equals or not header or name not in FIELDS:
            raise click.BadParameter(
                f"'{pair}' is not COLUMN=FIELD with a known field. Fields: "
                + ", ".join(FIELDS), param_hint="--map")
        chosen[header] = name
    return chosen


def _checked_batch(filename: str, content: bytes, source_name: str | None,
                   chosen: dict[str, str]):
    """Return the batch of the file, dry run done (an earlier batch of it, if any)."""
    from registry.imports import operations
    from registry.imports.models import FAILED, UPLOADED

    batch, is_new = operations.start_batch(filename, content, None, source_name)
    if not is_new:
        click.echo(f"This file was sent before as batch {batch.id} ({batch.state}).")
    if batch.state == UPLOADED and chosen:
        operations.set_mapping(batch, _known_columns(batch, chosen))
    ignored = operations.unknown_columns(batch)
    if ignored:
        click.echo("Columns ignored (not recognised): " + ", ".join(ignored))
    if batch.state == UPLOADED:
        _refuse_missing_fields(batch, ignored)
        operations.check_batch(batch, content)
    if batch.state == FAILED:
        from registry.imports.rows import error_text

        raise BadInput(error_text(operations.failure_of(batch)))
    return batch


def _known_columns(batch, chosen: dict[str, str]) -> dict[str, str]:
    """Return chosen, refusing a column the file does not have."""
    strangers = [header for header in chosen if header not in batch.mapping]
    if strangers:
        raise click.BadParameter(
            "No column of the file is called " + ", ".join(map(repr, strangers))
            + ". Its columns: " + ", ".join(batch.mapping), param_hint="--map")
    return chosen


def _refuse_missing_fields(batch, ignored: list[str]) -> None:
    """Refuse to check a file when no column holds a required field."""
    from registry.imports import operations
    from registry.imports.rows import FIELDS

    missing = operations.missing_fields(batch.mapping)
    if missing:
        raise click.ClickException(
            "No column holds the required " + ", ".join(missing) + ". Columns not "
            "recognised: " + (", ".join(ignored) or "none") + ". Say what they hold with "
            "--map 'COLUMN=FIELD'; the fields are: " + ", ".join(FIELDS) + ".")


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


@registry_cli.command("clean-uploads")
@click.option("--hours", type=click.IntRange(min=0), default=24, show_default=True,
              help="Delete the files kept longer than this.")
def clean_uploads(hours: int) -> None:
    """Delete uploaded files kept for batches whose dry run never ran."""
    from registry.imports import operations

    removed = operations.clean_uploads(max_age=hours * 3600)
    db.session.commit()
    click.echo(f"{removed} kept uploads deleted.")
