"""Pages of the reports domain: dashboard, exports, annual reports, API clients."""
import pycountry
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.core.setup import wants_write
from registry.reports import forms, operations
from registry.reports.labels import Labels, table_title

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHARTS = (("country", "bar"), ("district", "bar"), ("purpose", "doughnut"),
          ("status", "doughnut"), ("age", "bar"), ("gender", "doughnut"), ("month", "line"))


@bp.get("/dashboard")
@requires("stats.read")
def dashboard():
    """Show the figures of the user's scope as charts, tables and a world map."""
    shown = operations.dashboard(current_user)
    may_list = current_user.can("people.read")
    return render_template(
        "reports/dashboard.html", **shown, charts=CHARTS, labels=Labels(),
        table_title=table_title, numeric=_iso_numeric, may_list=may_list,
        may_export=current_user.can("people.export"), number=format_number)


@bp.get("/exports")
@requires("people.export")
def exports_page():
    """Show the filters of a people list to download."""
    from flask_babel import get_locale

    from registry.people.models import PURPOSES, STATUSES
    from registry.places import operations as places

    criteria = forms.criteria_from(request.args,
                                   see_every_status=not current_user.can("people.set_status"))
    return render_template(
        "reports/exports.html", criteria=criteria, statuses=STATUSES, purposes=PURPOSES,
        country_choices=places.country_choices(str(get_locale())),
        unit_choices=places.unit_choices(), limit=operations.EXPORT_MAX_ROWS)


@bp.get("/exports/people.<kind>")
@requires("people.export")
def export_people(kind: str):
    """Download the people list, filtered as on the people page, as CSV or XLSX."""
    if kind not in ("csv", "xlsx"):
        return redirect(url_for("reports.export_people", kind="csv", **request.args))
    wants_write()  # the export is audited
    criteria = forms.criteria_from(request.args,
                                   see_every_status=not current_user.can("people.set_status"))
    content, _rows = operations.export_people(criteria, current_user, kind)
    mimetype = "text/csv; charset=utf-8" if kind == "csv" else XLSX
    return _download(content, mimetype, f"nguoi-thanh-hoa-o-nuoc-ngoai.{kind}")


@bp.route("/reports/annual", methods=["GET", "POST"])
@requires("reports.annual")
def annual_reports():
    """List the annual reports built so far, and build a new one."""
    form = forms.AnnualReportForm()
    if form.validate_on_submit():
        try:
            report = operations.create_annual_report(form.year.data, form.cut_off.data,
                                                     current_user)
        except BadInput as error:
            form.cut_off.errors.append(error.message)
        else:
            flash(_("The annual report was built."), "success")
            return redirect(url_for("reports.annual_report", report_id=report.id))
    elif request.method == "GET":
        form.fill_defaults()
    status = 422 if form.errors else 200
    return render_template("reports/annual_list.html", form=form,
                           reports=operations.annual_reports()), status


@bp.get("/reports/annual/<int:report_id>")
@requires("reports.annual")
def annual_report(report_id: int):
    """Show an annual report as a printable page with the department's heading."""
    report = operations.get_annual_report(report_id)
    return render_template("reports/annual_report.html", report=report,
                           tables=operations.report_tables(report), table_title=table_title,
                           total_label=operations.total_label,
                           pdf_available=operations.pdf_available())


@bp.get("/reports/annual/<int:report_id>.xlsx")
@requires("reports.annual")
def annual_report_xlsx(report_id: int):
    """Download an annual report as a workbook with a sheet per table."""
    wants_write()  # the download is audited
    report = operations.get_annual_report(report_id)
    content = operations.report_xlsx(report)
    return _download(content, XLSX, f"bao-cao-nam-{report.year}-{report.id}.xlsx")


@bp.get("/reports/annual/<int:report_id>.pdf")
@requires("reports.annual")
def annual_report_pdf(report_id: int):
    """Download an annual report as PDF, when WeasyPrint is installed."""
    if not operations.pdf_available():
        abort(404)
    wants_write()  # the download is audited
    report = operations.get_annual_report(report_id)
    page = render_template("reports/annual_report.html", report=report,
                           tables=operations.report_tables(report), table_title=table_title,
                           total_label=operations.total_label)
    content = operations.report_pdf(report, page, request.url_root)
    return _download(content, "application/pdf", f"bao-cao-nam-{report.year}-{report.id}.pdf")


@bp.route("/api-clients", methods=["GET", "POST"])
@requires("api.manage")
def api_clients():
    """List the partner systems' tokens and issue a new one."""
    form = forms.ApiClientForm()
    token = None
    if form.validate_on_submit():
        try:
            _client, token = operations.issue_token(form.name.data, form.role.data,
                                                    form.areas(), current_user)
        except BadInput as error:
            getattr(form, error.field or "name").errors.append(error.message)
    status = 422 if form.errors else 200
    return render_template("reports/api_clients.html", form=form, token=token,
                           clients=operations.api_clients(),
                           role_labels=forms.API_ROLE_LABELS), status


@bp.post("/api-clients/<int:client_id>/revoke")
@requires("api.manage")
def revoke_api_client(client_id: int):
    """Stop one partner system's token from working."""
    client = operations.get_api_client(client_id)
    operations.revoke_token(client, current_user)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("reports.api_clients"))


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _iso_numeric(alpha_2: str) -> str:
    country = pycountry.countries.get(alpha_2=alpha_2) if alpha_2 else None
    return country.numeric if country else ""
