"""Pages of the imports domain: upload, map columns, dry run report, import, undo."""
from flask import (Blueprint, abort, current_app, flash, make_response, redirect,
                   render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.core.setup import wants_write
from registry.extensions import db
from registry.imports import operations, reports
from registry.imports.forms import STATE_LABELS, STATUS_LABELS, MappingForm, UploadForm
from registry.imports.models import RUNNING, UPLOADED, ImportBatch
from registry.imports.rows import FIELD_LABELS, error_text

bp = Blueprint("imports", __name__, url_prefix="/imports")
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/", methods=["GET", "POST"])
@requires("imports.manage")
def index():
    """Show the upload form and the latest batches; open a batch for a file sent."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            batch, is_new = operations.receive_upload(upload.filename, upload.read(),
                                                      current_user, form.source_name.data)
        except BadInput as error:
            form.file.errors.append(error.message)
        else:
            return _after_upload(batch, is_new)
    batches = db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())
                                 .limit(20)).all()
    return render_template("imports/index.html", form=form, batches=batches,
                           state_labels=STATE_LABELS), 422 if form.errors else 200


@bp.get("/template.<kind>")
@requires("imports.manage")
def template(kind: str):
    """Download the blank template, with headers in Vietnamese and English."""
    if kind not in ("csv", "xlsx"):
        abort(404)
    content = reports.template_xlsx() if kind == "xlsx" else reports.template_csv()
    return _download(content, kind, "mau-nhap-danh-sach")


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@requires("imports.manage")
def mapping(batch_id: int):
    """Ask which field each unrecognised column holds, then start the dry run."""
    batch = _get(batch_id)
    if batch.state != UPLOADED:
        return redirect(url_for("imports.show", batch_id=batch.id))
    form = MappingForm.for_columns(operations.unknown_columns(batch))
    if form.validate_on_submit():
        try:
            operations.set_mapping(batch, form.chosen())
        except BadInput as error:
            flash(error.message, "error")
        else:
            operations.queue_check(batch)
            return redirect(url_for("imports.show", batch_id=batch.id))
    missing = [FIELD_LABELS[name] for name in operations.missing_fields(batch.mapping)]
    return render_template("imports/mapping.html", batch=batch, form=form, missing=missing,
                           field_labels=FIELD_LABELS), 422 if request.method == "POST" else 200


@bp.get("/<int:batch_id>")
@requires("imports.manage")
def show(batch_id: int):
    """Show a batch: its state, the dry run's counts and the rows not imported."""
    batch = _get(batch_id)
    page = max(request.args.get("page", 1, type=int), 1)
    problems, total = operations.problem_rows(batch, page, PER_PAGE)
    return render_template(
        "imports/batch.html", batch=batch, problems=problems, total=total, page=page,
        per_page=PER_PAGE, counts=operations.status_counts(batch), error_text=error_text,
        status_labels=STATUS_LABELS, state_labels=STATE_LABELS, running=RUNNING,
        can_import=operations.can_import(batch), can_undo=operations.can_undo(batch),
        failure=operations.failure_of(batch), interrupted=operations.is_interrupted(batch),
        review_url=_review_url(batch))


@bp.get("/<int:batch_id>/progress")
@requires("imports.manage")
def progress(batch_id: int):
    """Return the progress bar of a batch; reload the page once the work is done."""
    batch = _get(batch_id)
    response = make_response(render_template("imports/_progress.html", batch=batch,
                                             running=RUNNING, state_labels=STATE_LABELS))
    if batch.state not in RUNNING or not batch.job_id:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.get("/<int:batch_id>/report.<kind>")
@requires("imports.manage")
def report(batch_id: int, kind: str):
    """Download the dry run report of a batch as CSV or XLSX."""
    if kind not in ("csv", "xlsx"):
        abort(404)
    wants_write()
    batch = _get(batch_id)
    content = reports.report_xlsx(batch) if kind == "xlsx" else reports.report_csv(batch)
    operations.note_download(batch, kind)
    return _download(content, kind, f"bao-cao-nhap-{batch.id}")


@bp.post("/<int:batch_id>/import")
@requires("imports.manage")
def start_import(batch_id: int):
    """Import the valid rows of a checked batch, in the background."""
    batch = _get(batch_id)
    operations.queue_import(batch, current_user)
    flash(_("The import has started."), "info")
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.post("/<int:batch_id>/undo")
@requires("imports.manage")
def undo(batch_id: int):
    """Take back the people of a batch who are still waiting for review."""
    batch = _get(batch_id)
    operations.queue_undo(batch, current_user)
    flash(_("The batch is being undone."), "info")
    return redirect(url_for("imports.show", batch_id=batch.id))


def _get(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _review_url(batch: ImportBatch) -> str | None:
    if "intake.queue" not in current_app.view_functions:
        return None
    return url_for("intake.queue", batch=batch.id)


def _after_upload(batch: ImportBatch, is_new: bool):
    if not is_new:
        flash(_("This file was sent before: here is its batch."), "info")
    if batch.state == UPLOADED:
        return redirect(url_for("imports.mapping", batch_id=batch.id))
    return redirect(url_for("imports.show", batch_id=batch.id))


def _download(content: bytes, kind: str, stem: str):
    response = make_response(content)
    response.headers["Content-Type"] = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{kind}"'
    return response
