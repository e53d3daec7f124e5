"""Exports of people lists and annual reports: scope, formula escaping, audit, frozen figures."""
import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.people.models import MERGED
from registry.reports import operations, pdf
from registry.reports.exports import escape_cell
from registry.reports.models import AnnualReport
from tests.factories import MUONG_LAT, commune_area, create_person

MUONG_LAT_FORM = {"hometown": "Xã Mường Lát", "hometown_code": MUONG_LAT}


@pytest.fixture
def officer(app_ctx, make_user):
    return db.session.get(User, make_user("officer").id)


def csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def export_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")))


@pytest.mark.parametrize("value", ["=1+2", "+84 90", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_a_spreadsheet_would_run_are_escaped(value):
    assert escape_cell(value) == "'" + value


def test_plain_cells_and_numbers_are_left_as_they_are():
    assert escape_cell("Nguyễn Văn A") == "Nguyễn Văn A"
    assert escape_cell(42) == 42


def test_officer_exports_the_filtered_list_as_csv_with_formulas_escaped(
        officer, client, make_user, login_as):
    create_person(officer, full_name="Lê Văn Tám", city="=HYPERLINK(\"x\")")
    create_person(officer, full_name="Trần Thị Chín", country="KR")
    login_as(officer)

    response = client.get("/exports/people.csv", query_string={"country": "JP"})

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = csv_rows(response)
    assert len(rows) == 2
    assert rows[1][1] == "Lê Văn Tám"
    assert "'=HYPERLINK(\"x\")" in rows[1]
    [event] = export_events()
    assert event.actor_id == officer.id
    assert event.details == {"format": "csv", "rows": 1,
                             "filter": {"country": "JP", "status": "active", "sort": "name"}}


def test_xlsx_export_never_holds_a_formula(officer, client, login_as):
    create_person(officer, full_name="Lê Văn Tám", city="=1+1")
    login_as(officer)

    response = client.get("/exports/people.xlsx")

    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=1+1" in values
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    assert export_events()[0].details["rows"] == 1


def test_district_official_exports_only_their_areas(officer, client, make_user, login_as):
    create_person(officer, full_name="Mai Văn Tài")
    create_person(officer, full_name="Hà Thị Lan", **MUONG_LAT_FORM)
    district = make_user("district", areas=[commune_area()])
    login_as(district)

    rows = csv_rows(client.get("/exports/people.csv"))

    assert [row[1] for row in rows[1:]] == ["Mai Văn Tài"]
    assert export_events()[0].details["rows"] == 1


def test_viewer_and_police_may_not_export(client, make_user, login_as, app_ctx):
    for role in ("viewer", "police"):
        login_as(make_user(role))
        assert client.get("/exports/people.csv").status_code == 403
    assert export_events() == []


def test_annual_report_gives_the_same_numbers_when_opened_again(officer, client, login_as):
    for number in range(3):
        create_person(officer, full_name=f"Lê Văn Số {number}")
    login_as(officer)
    client.post("/lang/en")
    year = vietnam_today().year

    response = client.post("/reports/annual", data={"year": year,
                                                    "cut_off": vietnam_today().isoformat()})
    assert response.status_code == 302
    report = db.session.scalar(select(AnnualReport))
    first = client.get(f"/reports/annual/{report.id}").get_data(as_text=True)
    create_person(officer, full_name="Người Đến Sau")
    again = client.get(f"/reports/annual/{report.id}").get_data(as_text=True)

    assert report.figures["totals"]["people"] == 3
    assert report.figures["totals"]["registrations"] == 3
    assert _body(first) == _body(again)
    assert 'data-total="people">3<' in again
    assert "Sở Ngoại vụ" in again


def _body(page: str) -> str:
    return page.split('id="report-totals"', 1)[1].split("</main>", 1)[0]


def test_annual_report_counts_people_not_merged_records(officer):
    kept = create_person(officer, full_name="Lê Văn Một")
    absorbed = create_person(officer, full_name="Lê Văn Một")
    absorbed.status, absorbed.merged_into_id = MERGED, kept.id
    db.session.commit()

    report = operations.create_annual_report(vietnam_today().year, vietnam_today(), officer)

    assert report.figures["totals"]["people"] == 1
    assert dict(map(tuple, report.figures["tables"]["country"])) == {"JP": 1}


def test_annual_report_downloads_as_a_workbook_with_a_sheet_per_table(officer, client,
                                                                      login_as):
    create_person(officer, full_name="Lê Văn Một", occupation="Kỹ sư")
    report = operations.create_annual_report(vietnam_today().year, vietnam_today(), officer)
    db.session.commit()
    login_as(officer)

    response = client.get(f"/reports/annual/{report.id}.xlsx")

    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert len(workbook.sheetnames) == 1 + len(report.figures["tables"])
    assert export_events()[0].details == {"format": "xlsx", "report": report.id}


@pytest.mark.skipif(not pdf.available(), reason="WeasyPrint or its Pango libraries missing")
def test_annual_report_downloads_as_pdf_with_the_departments_heading(officer, client,
                                                                     login_as):
    create_person(officer, full_name="Lê Văn Một")
    report = operations.create_annual_report(vietnam_today().year, vietnam_today(), officer)
    db.session.commit()
    login_as(officer)

    assert 'id="download-pdf"' in client.get(f"/reports/annual/{report.id}").get_data(True)
    response = client.get(f"/reports/annual/{report.id}.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.get_data())
    assert "SỞ NGOẠI VỤ" in text.upper() and "Download" not in text
    assert export_events()[0].details == {"format": "pdf", "report": report.id}


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_is_not_offered_where_weasyprint_cannot_load(officer, client, login_as,
                                                         monkeypatch):
    monkeypatch.setattr(pdf, "available", lambda: False)
    report = operations.create_annual_report(vietnam_today().year, vietnam_today(), officer)
    db.session.commit()
    login_as(officer)

    assert 'id="download-pdf"' not in client.get(f"/reports/annual/{report.id}").get_data(True)
    assert client.get(f"/reports/annual/{report.id}.pdf").status_code == 404


def test_cut_off_date_before_the_year_is_refused(officer, client, login_as):
    login_as(officer)

    response = client.post("/reports/annual", data={"year": 2026, "cut_off": "2025-12-31"})

    assert response.status_code == 422
    assert db.session.scalar(select(AnnualReport)) is None


def test_occupations_typed_freely_fall_into_groups():
    from registry.reports.annual import occupation_group

    assert occupation_group("Kỹ sư cơ khí") == "professionals"
    assert occupation_group("Thợ xây dựng") == "workers"
    assert occupation_group("Thông dịch viên") == "professionals"
    assert occupation_group("Sinh viên") == "students"
    assert occupation_group("Nhà thơ") == "other"
    assert occupation_group("") == ""
