"""The dashboard, exports, annual reports and API clients, within each user's scope."""
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import date

from flask import abort
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from sqlalchemy import func, select

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.time import utcnow, vietnam_today
from registry.extensions import db
from registry.people import search
from registry.reports import annual, exports, pdf, statistics
from registry.reports.labels import Labels, table_title
from registry.reports.models import AnnualReport, ApiClient

log = logging.getLogger(__name__)

EXPORT_MAX_ROWS = 100_000
TOKEN_PREFIX_BYTES = 6
API_ROLES = ("officer", "district", "viewer")


# Dashboard -------------------------------------------------------------------------

def dashboard(user) -> dict:
    """Return what the dashboard shows user: figures and, for officers, the queues,
    the coming occasions and the running campaigns."""
    figures = statistics.figures_for(user)
    waiting = review_counts() if user.can("review.manage") else None
    return {"figures": figures, "waiting": waiting,
            "outreach": outreach_summary() if user.can("outreach.manage") else None}


def outreach_summary() -> dict:
    """Return the coming occasions (date order) and the running campaigns with counts."""
    from registry.outreach import campaigns, operations as outreach

    return {"occasions": outreach.coming_occasions(horizon_days=120),
            "campaigns": campaigns.running()}


def review_counts() -> dict[str, int]:
    """Return how many items wait for review, by kind, and the open duplicate pairs."""
    from registry.intake import operations as intake
    from registry.matching import operations as matching

    counts = dict(intake.queue_counts())
    counts["duplicates"] = matching.pair_counts()["open"]
    return counts


# Exports ---------------------------------------------------------------------------

def export_people(criteria: search.Criteria, user, kind: str) -> tuple[bytes, int]:
    """Return (file, rows) of the people matching criteria within user's scope; audited."""
    if not user.can("people.export"):
        abort(403)
    from registry.people import operations as people

    query = people.visible(search.build_query(criteria, db.engine.dialect.name), user)
    rows = _count(query)
    if rows > EXPORT_MAX_ROWS:
        raise BadInput(_("The list has more than %(limit)s people. Narrow the filters "
                         "and export again.", limit=format_number(EXPORT_MAX_ROWS)))

    labels = Labels()
    people_found = db.session.scalars(query.execution_options(yield_per=1000))
    lines = [exports.header(), *(exports.person_line(p, labels) for p in people_found)]
    content = exports.to_csv(lines) if kind == "csv" else \
        exports.to_xlsx([(_("People"), lines)])

    audit.record("export", object_type="person",
                 details={"format": kind, "rows": rows, "filter": describe(criteria)})
    log.info("User %s exported %d people as %s", user.id, rows, kind)
    return content, rows


def csv_file(lines) -> bytes:
    """Return lines as the CSV file every export writes: UTF-8, formula cells escaped."""
    return exports.to_csv(lines)


def describe(criteria: search.Criteria) -> dict:
    """Return the filter of an export as plain data, for the audit trail."""
    values = {"q": criteria.q, "country": criteria.country, "hometown": criteria.hometown,
              "status": criteria.status, "purpose": criteria.purpose,
              "residence_status": criteria.residence_status, "sort": criteria.sort}
    if criteria.units is not None:
        values["units"] = sorted(criteria.units)
    return {key: value for key, value in values.items() if value}


def _count(query) -> int:
    limited = query.order_by(None).with_only_columns(search.Person.id) \
        .limit(EXPORT_MAX_ROWS + 1)
    return db.session.scalar(select(func.count()).select_from(limited.subquery()))


# Annual reports --------------------------------------------------------------------

def create_annual_report(year: int, cut_off: date, actor) -> AnnualReport:
    """Build the annual report for year up to cut_off and store its figures."""
    if cut_off.year < year or cut_off > vietnam_today():
        raise BadInput(_("The cut-off date must be in or after the report's year, and "
                         "not in the future."), field="cut_off")
    started = time.perf_counter()
    figures = annual.compute(year, cut_off)
    report = AnnualReport(year=year, cut_off=cut_off, created_by_id=actor.id,
                          figures=figures, seconds=round(time.perf_counter() - started, 3))
    db.session.add(report)
    db.session.flush()

    audit.record("report.create", report, details={"year": year,
                                                   "cut_off": cut_off.isoformat()})
    log.info("Annual report %s for %s built by user %s in %.1f s", report.id, year,
             actor.id, report.seconds)
    return report


def annual_reports() -> list[AnnualReport]:
    """Return the annual reports built so far, newest first."""
    query = select(AnnualReport).order_by(AnnualReport.year.desc(), AnnualReport.id.desc())
    return list(db.session.scalars(query))


def get_annual_report(report_id: int) -> AnnualReport:
    """Return one annual report, or answer 404."""
    report = db.session.get(AnnualReport, report_id)
    if report is None:
        abort(404)
    return report


@dataclass
class ReportRow:
    key: str
    label: str
    count: int


def report_tables(report: AnnualReport) -> dict[str, list[ReportRow]]:
    """Return the frozen tables of a report with their rows named."""
    labels = Labels()
    frozen = report.figures.get("labels", {})
    tables = {}
    for name, rows in report.figures["tables"].items():
        names = frozen.get(name, {})
        tables[name] = [ReportRow(key, names.get(key) or _row_label(labels, name, key), count)
                        for key, count in rows]
    return tables


def _row_label(labels: Labels, table: str, key: str) -> str:
    if key == annual.OTHER and table in ("expertise", "occupation"):
        return _("Other")
    if table == "age" and key:
        return key
    if table == "month":
        return f"{key[5:]}/{key[:4]}"
    return labels.of(table, key)


def report_xlsx(report: AnnualReport) -> bytes:
    """Return the annual report as a workbook: totals, then a sheet per table, in Vietnamese."""
    with force_locale("vi"):
        audit.record("export", report, details={"format": "xlsx", "report": report.id})
        return exports.to_xlsx(_report_sheets(report))


def pdf_available() -> bool:
    """Tell whether annual reports can be downloaded as PDF on this server."""
    return pdf.available()


def report_pdf(report: AnnualReport, page: str, base_url: str) -> bytes:
    """Return the annual report's printable page as PDF; audited."""
    audit.record("export", report, details={"format": "pdf", "report": report.id})
    log.info("Annual report %s written as PDF", report.id)
    return pdf.from_html(page, base_url)


def _report_sheets(report: AnnualReport) -> list[tuple[str, list]]:
    totals = report.figures["totals"]
    heading = [[_("Annual report %(year)s", year=report.year)],
               [_("Cut-off date"), report.cut_off.strftime("%d/%m/%Y")], []]
    sheets = [(_("Totals"), heading + [[_("Figure"), _("Number")]] + [
        [total_label(name), value] for name, value in totals.items()])]
    for name, rows in report_tables(report).items():
        lines = [[table_title(name)], [_("Item"), _("Number of people")]]
        lines += [[row.label, row.count] for row in rows]
        sheets.append((table_title(name), lines))
    return sheets


def total_label(name: str) -> str:
    """Return the heading of one total of the annual report."""
    return {"people": _("People abroad (active records)"),
            "registrations": _("New registrations during the year"),
            "updated": _("People whose record was updated during the year"),
            "merges": _("Duplicate records merged during the year"),
            "campaigns": _("Outreach campaigns sent during the year"),
            "messages": _("Greetings delivered during the year")}.get(name, name)


# API clients -----------------------------------------------------------------------

@dataclass
class ClientArea:
    """An area of a district token, shaped like an account's area for scope_units."""

    kind: str
    code: str


class ApiPrincipal:
    """Who a request with a token acts as: a role and areas, like a staff account."""

    def __init__(self, client: ApiClient):
        self.client = client
        self.id = client.id
        self.role = client.role
        self.areas = [ClientArea(area["kind"], area["code"]) for area in client.areas or ()]

    def can(self, capability: str) -> bool:
        from registry.accounts import roles

        return roles.can(self.role, capability)


def issue_token(name: str, role: str, areas: list[tuple[str, str]], actor
                ) -> tuple[ApiClient, str]:
    """Create an API client; return it and its token, which is shown only this once."""
    if role not in API_ROLES:
        raise BadInput(_("Choose the role the token acts as."), field="role")
    if role == "district" and not areas:
        raise BadInput(_("A district token needs at least one area."), field="communes")
    _check_areas(areas)
    prefix = secrets.token_hex(TOKEN_PREFIX_BYTES)
    token = f"reg_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(name=name.strip(), role=role, token_prefix=prefix,
                       token_hash=_digest(token), created_by_id=actor.id,
                       areas=[{"kind": kind, "code": code} for kind, code in areas]
                       if role == "district" else [])
    db.session.add(client)
    db.session.flush()

    audit.record("api_client.create", client, details={"role": role, "name": client.name,
                                                       "areas": client.areas})
    log.info("API client %s (%s) created by user %s", client.id, role, actor.id)
    return client, token


def revoke_token(client: ApiClient, actor) -> None:
    """Stop a client's token from working."""
    if client.revoked_at is not None:
        return
    client.revoked_at = utcnow()
    db.session.flush()
    audit.record("api_client.revoke", client)
    log.info("API client %s revoked by user %s", client.id, actor.id)


def api_clients() -> list[ApiClient]:
    """Return every API client, newest first."""
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.id.desc())))


def get_api_client(client_id: int) -> ApiClient:
    """Return one API client, or answer 404."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        abort(404)
    return client


def client_of_token(token: str | None) -> ApiClient | None:
    """Return the active client a bearer token belongs to, or None."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "reg" or len(parts[1]) != TOKEN_PREFIX_BYTES * 2:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_prefix == parts[1]))
    if client is None or not client.is_active:
        return None
    if not hmac.compare_digest(client.token_hash, _digest(token)):
        log.warning("API token with a known prefix but a wrong secret for client %s",
                    client.id)
        return None
    return client


def note_use(client: ApiClient) -> None:
    """Remember when a client last called, at most once a minute to spare writes."""
    now = utcnow()
    last = client.last_used_at
    if last is None or (now - last.replace(tzinfo=now.tzinfo)).total_seconds() > 60:
        client.last_used_at = now


def _check_areas(areas: list[tuple[str, str]]) -> None:
    from registry.accounts.models import AREA_COMMUNE, AREA_FORMER_DISTRICT
    from registry.places.models import FormerDistrict, Unit

    for kind, code in areas:
        model = {AREA_COMMUNE: Unit, AREA_FORMER_DISTRICT: FormerDistrict}.get(kind)
        if model is None or db.session.get(model, code) is None:
            raise BadInput(_("There is no unit or former district %(code)s.", code=code),
                           field="communes")


def _digest(token: str) -> str:
    # A token carries 256 random bits, so a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()
