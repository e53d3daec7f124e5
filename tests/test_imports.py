"""Spreadsheet imports: reading files, checking rows, importing, undoing, the CLI."""
import csv
import io
import os
import time
import zipfile

import pytest
from flask import session
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, insert, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.imports import operations, parsing, reports
from registry.imports.models import (ALREADY_IMPORTED, CHECKED, DUPLICATE_IN_FILE, FAILED,
                                     IMPORTED, INVALID, PROBABLY_EXISTS, UNDONE, UPLOADED,
                                     VALID, ImportBatch, ImportRow)
from registry.intake.models import PENDING, REJECTED, Submission
from registry.people.models import ARCHIVED, SUBMITTED, Person, PersonVersion
from tests.factories import BIM_SON

HEADER = ("source_ref,full_name,gender,date_of_birth,hometown_commune,hometown_district,"
          "country,city,address,phone,email,passport_number,occupation")
HUONG = ("TH-001,Nguyễn Thị Hương,F,12/05/1991,Phường Bỉm Sơn,,JP,Osaka,,090-1234-5678,"
         "huong@example.com,C1234567,Công nhân")
TAI = "TH-002,Mai Văn Tài,Nam,1988,Bỉm Sơn,,Nhật Bản,Tokyo,,+81 90 2222 3333,,,Kỹ sư"
LAN = "TH-003,Hà Thị Lan,nữ,1990-03,Xã Mường Lát,,KR,Seoul,,010-1234-5678,,,"


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join((header, *lines)).encode(encoding) + b"\n"


def xlsx_bytes(rows: list[list], formulas: dict | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for address, formula in (formulas or {}).items():
        sheet[address] = formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def checked(content: bytes, filename: str = "people.csv") -> ImportBatch:
    """Open a batch for content and run its dry run, as the CLI does."""
    batch, _is_new = operations.start_batch(filename, content, None)
    operations.check_batch(batch, content)
    db.session.commit()
    return batch


def imported(content: bytes, filename: str = "people.csv") -> ImportBatch:
    batch = checked(content, filename)
    operations.import_batch(batch, None, after_chunk=db.session.commit)
    db.session.commit()
    return batch


def verdicts(batch: ImportBatch) -> dict[int, tuple[str, list]]:
    query = select(ImportRow).where(ImportRow.batch_id == batch.id)
    return {row.row_number: (row.status, [(e["column"], e["message"]) for e in row.errors or []])
            for row in db.session.scalars(query)}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def refused(filename: str, content: bytes) -> str:
    with pytest.raises(parsing.FileRefused) as caught:
        table = parsing.read_table(filename, content)
        parsing.count_rows(table)
    return caught.value.msgid % (caught.value.params or {})


def upload(client, content: bytes, filename: str = "people.csv", **fields):
    data = {"file": (io.BytesIO(content), filename), "source_name": "", **fields}
    return client.post("/imports/", data=data, content_type="multipart/form-data")


# Reading files -------------------------------------------------------------------

def test_utf8_with_and_without_bom_and_utf16_read_alike(app_ctx):
    plain = csv_bytes(HUONG)
    readings = [parsing.read_table("a.csv", content) for content in (
        plain, b"\xef\xbb\xbf" + plain, "\n".join((HEADER, HUONG)).encode("utf-16"))]

    assert {tuple(table.headers) for table in readings} == {tuple(HEADER.split(","))}
    assert [list(table.rows) for table in readings] == [[(2, HUONG.split(","))]] * 3


def test_semicolons_from_excel_are_read_as_separators(app_ctx):
    table = parsing.read_table("a.csv", csv_bytes(HUONG.replace(",", ";"),
                                                  header=HEADER.replace(",", ";")))

    assert list(table.rows)[0][1][1] == "Nguyễn Thị Hương"


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"  \n \n", "The file is empty."),
    (b",,\nA,B,C\n", "The first row must hold the column names."),
    ("full_name\nLe Van Hung\nJosé Müller\n".encode("latin-1"), "Line 3 is not in UTF-8"),
    ("full_name\nLê\n".encode("utf-8") + b"\xff\xfe\x00bad", "Line 3 is not in UTF-8"),
    (b"full_name,city\nA,B\rC,D\n", "Line 2 ends with a lone carriage return"),
    (b'full_name,city\nA,"Osaka\nB,Tokyo\n', "Row 2 is not valid CSV"),
    (b'full_name,city\nA,B\n"C"D,E\n', "Row 3 is not valid CSV"),
    (b"name,Name\nA,B\n", "Two columns are called"),
], ids=["empty", "blank lines", "no header", "latin-1", "bad bytes", "bare CR",
        "unbalanced quote", "text after a quote", "same header twice"])
def test_unreadable_csv_files_are_refused_with_a_clear_message(app_ctx, content, message):
    assert message in refused("people.csv", content)


def test_a_file_over_the_size_limit_is_refused(app_ctx, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_BYTES", 1024 * 1024)

    message = refused("people.csv", csv_bytes(*[HUONG] * 10000))

    assert message == "The file is larger than 1 MB. Split it into smaller files."


def test_a_file_over_the_row_limit_is_refused(app_ctx, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 3)

    assert "more than 3 rows" in refused("people.csv", csv_bytes(*[HUONG] * 4))
    assert "more than 3 rows" in refused("people.xlsx", xlsx_bytes(
        [HEADER.split(",")] + [HUONG.split(",")] * 4))


def test_other_kinds_of_file_are_refused(app_ctx):
    assert refused("people.ods", b"whatever") == "Send a CSV or XLSX file."
    assert "not an XLSX" in refused("people.xlsx", b"PK\x03\x04 not really a zip")
    assert "not an XLSX" in refused("people.xlsx", csv_bytes(HUONG))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(app_ctx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))

    assert len(buffer.getvalue()) < 200 * 1024
    assert "far too large once unpacked" in refused("bomb.xlsx", buffer.getvalue())


def test_an_archive_of_too_many_parts_is_refused(app_ctx, monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ZIP_MEMBERS", 50)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(51):
            archive.writestr(f"part{number}.xml", b"<a/>")

    assert "far too large once unpacked" in refused("many.xlsx", buffer.getvalue())


def test_xlsx_cells_come_as_text_and_formulas_are_not_evaluated(app_ctx):
    from datetime import datetime

    content = xlsx_bytes([["full_name", "date_of_birth", "phone", "city"],
                          ["Lê Văn Hùng", datetime(1990, 4, 2), 901234567, "Osaka"]],
                         formulas={"D2": "=HYPERLINK(\"http://x\")"})

    table = parsing.read_table("people.xlsx", content)
    [(number, cells)] = list(table.rows)

    assert (number, cells[:3]) == (2, ["Lê Văn Hùng", "1990-04-02", "901234567"])
    assert isinstance(cells[3], parsing.Formula)


# Header names ----------------------------------------------------------------------

def test_known_headers_are_recognised_in_either_language_whatever_the_spelling(app_ctx):
    from registry.imports.rows import auto_mapping

    headers = ["HỌ VÀ TÊN", "gioi tinh", "Ngày  sinh", "Quê quán", "Huyện (cũ)",
               "Nuoc cu tru", "City", "Địa chỉ", "Số điện thoại", "E-mail",
               "passport number", "Nghề nghiệp", "Mã tham chiếu", "Ghi chú"]

    mapping, unknown = auto_mapping(headers)

    assert list(mapping.values()) == [
        "full_name", "gender", "date_of_birth", "hometown_commune", "hometown_district",
        "country", "city", "address", "phone", "email", "passport_number", "occupation",
        "source_ref"]
    assert unknown == ["Ghi chú"]


def test_the_template_maps_every_column_by_itself(app_ctx):
    content = reports.template_csv() + HUONG.encode() + b"\n"

    batch = checked(content, "mau.csv")

    assert operations.unknown_columns(batch) == []
    assert verdicts(batch) == {2: (VALID, [])}
    book = load_workbook(io.BytesIO(reports.template_xlsx()), read_only=True)
    assert [cell.value for cell in next(book.active.iter_rows())] == \
        reports.template_headers()


# Checking rows ---------------------------------------------------------------------

def test_rows_are_checked_like_the_person_form(app_ctx):
    batch = checked(csv_bytes(
        HUONG, TAI, LAN,
        "TH-010,<b>Lan</b>,F,1990,Bỉm Sơn,,JP,,,,,,",
        "TH-011,Lê Văn Hùng,F,31/02/1990,Bỉm Sơn,,JP,,,,,,",
        "TH-012,Lê Văn Hùng,X,1990,Không Có Xã Này,,JP,,,,,,",
        "TH-013,Lê Văn Hùng,M,1990,Bỉm Sơn,,Atlantis,,,,,,",
        "TH-014,Lê Văn Hùng,M,1990,Bỉm Sơn,,JP,,,12,not-an-address,C1,",
        "TH-015," + "N" * 121 + ",M,1990,Bỉm Sơn,,JP,,,,,,",
        "TH-016,,M,1990,,,,,,,,,",
    ))

    found = verdicts(batch)

    assert [found[row][0] for row in (2, 3, 4)] == [VALID, VALID, VALID]
    assert found[5] == (INVALID, [("full_name", "A name may contain only letters, spaces, "
                                                "hyphens and apostrophes.")])
    assert found[6] == (INVALID, [("date_of_birth", "This date does not exist.")])
    assert [column for column, _message in found[7][1]] == ["gender", "hometown_commune"]
    assert found[8] == (INVALID, [("country", "No country is called “%(name)s”.")])
    assert [column for column, _message in found[9][1]] == [
        "phone", "email", "passport_number"]
    assert found[10] == (INVALID, [("full_name", "At most %(max)d characters.")])
    assert [column for column, _message in found[11][1]] == [
        "full_name", "hometown_commune", "country"]
    assert (batch.row_count, batch.valid_count, batch.invalid_count) == (10, 3, 7)
    assert count(Person) == 0


def test_cleaned_values_are_kept_for_the_import(app_ctx):
    batch = checked(csv_bytes(TAI, LAN))

    data = [row.data for row in db.session.scalars(
        select(ImportRow).where(ImportRow.batch_id == batch.id).order_by(ImportRow.row_number))]

    assert data[0]["gender"] == "male" and data[0]["birth"] == [1988, None, None]
    assert data[0]["country_code"] == "JP" and data[0]["phones"] == [
        ["+819022223333", "9022223333"]]
    assert data[0]["hometown"][0] == BIM_SON
    assert data[1]["gender"] == "female" and data[1]["birth"] == [1990, 3, None]
    assert data[1]["phones"][0][0] == "+821012345678"


def test_a_formula_cell_makes_its_row_invalid(app_ctx):
    content = xlsx_bytes([HEADER.split(","), HUONG.split(","), TAI.split(",")],
                         formulas={"B3": "=CONCAT(\"Mai\",\" Tài\")"})

    found = verdicts(checked(content, "people.xlsx"))

    assert found[2] == (VALID, [])
    assert ("full_name", "Formulas are not accepted.") in found[3][1]


def test_duplicates_inside_the_file_are_caught_by_reference_or_by_person(app_ctx):
    same_person = HUONG.replace("TH-001", "TH-099")
    batch = checked(csv_bytes(HUONG, TAI, HUONG.replace("Nguyễn", "Lê"), same_person))

    found = verdicts(batch)

    assert found[4] == (DUPLICATE_IN_FILE, [("source_ref", "The same person as row %(row)d.")])
    assert found[5] == (DUPLICATE_IN_FILE, [(None, "The same person as row %(row)d.")])
    assert batch.duplicate_count == 2


def test_a_dry_run_that_meets_a_broken_row_fails_the_batch_and_keeps_no_rows(app_ctx):
    content = csv_bytes(HUONG, TAI)
    batch, _is_new = operations.start_batch("people.csv", content, None)

    operations.check_batch(batch, content + b'"broken\n')

    assert batch.state == FAILED and "not valid CSV" in operations.failure_of(batch)["message"]
    assert count(ImportRow) == 1  # the reason, for the file as a whole


# Importing -------------------------------------------------------------------------

def test_valid_rows_become_submitted_people_in_one_batch_for_review(app_ctx):
    batch = imported(csv_bytes(HUONG, TAI, "TH-009,<i>x</i>,F,1990,Bỉm Sơn,,JP,,,,,,"))

    people = db.session.scalars(select(Person).order_by(Person.id)).all()
    assert [(p.full_name, p.status, p.source, p.source_ref) for p in people] == [
        ("Nguyễn Thị Hương", SUBMITTED, "import", "TH-001"),
        ("Mai Văn Tài", SUBMITTED, "import", "TH-002")]
    assert (people[0].family_name, people[0].given_name) == ("Nguyễn", "Hương")
    assert [phone.number for phone in people[0].phones] == ["+819012345678"]
    assert [email.address for email in people[0].emails] == ["huong@example.com"]
    assert people[0].passport_number == "C1234567"
    submissions = db.session.scalars(select(Submission)).all()
    assert {(s.kind, s.state, s.batch_id) for s in submissions} == {
        ("import", PENDING, batch.id)}
    assert {s.person_id for s in submissions} == {p.id for p in people}
    assert count(PersonVersion) == 2
    assert (batch.state, batch.imported_count) == (IMPORTED, 2)
    assert operations.pending_batches_count() == 1
    created = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "person.create")).all()
    assert {event.user_agent for event in created} == {"cli"}
    assert {event.actor_id for event in created} == {None}


def test_imported_people_show_in_the_review_queue(app, app_ctx):
    from registry.intake import operations as intake

    batch = imported(csv_bytes(HUONG, TAI))

    with app.test_request_context():
        session["lang"] = "en"
        items = intake.queue_items(intake.QueueFilters(kind="import"))
    assert [item.note for item in items] == ["2 people waiting"]
    assert str(batch.id) in items[0].title and "people.csv" in items[0].title


def test_the_same_file_twice_creates_nobody_twice(app_ctx):
    content = csv_bytes(HUONG, TAI)
    first = imported(content)

    again, is_new = operations.start_batch("renamed.csv", content, None)

    assert (again.id, is_new) == (first.id, False)
    assert count(Person) == 2


def test_a_reference_imported_before_is_not_imported_again(app_ctx):
    imported(csv_bytes(HUONG))

    batch = imported(csv_bytes(HUONG.replace("Osaka", "Kyoto"), TAI))

    assert verdicts(batch)[2] == (ALREADY_IMPORTED, [
        ("source_ref", "Reference “%(ref)s” was imported before.")])
    assert count(Person) == 2


def test_rows_of_people_already_in_the_registry_are_flagged_and_still_imported(app_ctx):
    first = imported(csv_bytes(HUONG, TAI))
    again = HUONG.replace("TH-001", "HD-77")  # the same woman, from another district's list

    batch = checked(csv_bytes(again, LAN), filename="other.csv")

    [(status, problems)] = [verdict for number, verdict in verdicts(batch).items()
                            if number == 2]
    huong = db.session.scalar(select(ImportRow.person_id).where(
        ImportRow.batch_id == first.id, ImportRow.row_number == 2))
    assert status == PROBABLY_EXISTS
    assert problems[0][1] == parsing.msgid_of(operations.PROBABLY_SAME)
    assert verdicts(batch)[3] == (VALID, [])
    assert f"#{huong} (" in reports.report_csv(batch).decode("utf-8-sig")
    assert operations.import_batch(batch, None) == 2


def test_an_import_killed_half_way_ends_with_exactly_the_files_rows_when_run_again(
        app_ctx, monkeypatch):
    monkeypatch.setattr(operations, "CHUNK_SIZE", 2)
    lines = [f"K-{n},Lê Văn Hùng,M,1990,Bỉm Sơn,,JP,,,090-1234-{n:04d},,," for n in range(7)]
    batch = checked(csv_bytes(*lines))
    real_chunk, calls = operations._import_chunk, []

    def dying_chunk(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real_chunk(*args)

    monkeypatch.setattr(operations, "_import_chunk", dying_chunk)
    with pytest.raises(RuntimeError):
        operations.import_batch(batch, None, after_chunk=db.session.commit)
    db.session.rollback()
    assert count(Person) == 4

    operations.import_batch(db.session.get(ImportBatch, batch.id), None,
                            after_chunk=db.session.commit)
    db.session.commit()

    assert count(Person) == 7 and count(Submission) == 7
    assert sorted(db.session.scalars(select(Person.source_ref))) == [f"K-{n}" for n in range(7)]
    assert db.session.scalar(select(func.count(ImportRow.id)).where(
        ImportRow.person_id.is_(None))) == 0
    assert db.session.get(ImportBatch, batch.id).imported_count == 7


def test_a_background_import_that_dies_can_be_resumed(app_ctx, monkeypatch, make_user):
    officer = make_user("officer")
    monkeypatch.setattr(operations, "CHUNK_SIZE", 1)
    batch = checked(csv_bytes(HUONG, TAI, LAN))
    real_chunk, calls = operations._import_chunk, []

    def dying_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real_chunk(*args)

    monkeypatch.setattr(operations, "_import_chunk", dying_chunk)
    operations.queue_import(batch, officer)
    db.session.expire_all()
    assert operations.is_interrupted(batch) and operations.can_import(batch)

    operations.queue_import(batch, officer)

    assert count(Person) == 3 and db.session.get(ImportBatch, batch.id).state == IMPORTED


def test_undo_archives_the_people_still_waiting_and_keeps_the_accepted(app_ctx, make_user):
    officer = make_user("officer")
    batch = imported(csv_bytes(HUONG, TAI, LAN))
    accepted = db.session.scalar(select(Person).where(Person.source_ref == "TH-002"))
    accepted.status = "active"
    db.session.commit()

    archived, kept = operations.undo_batch(batch, officer)
    db.session.commit()

    statuses = dict(db.session.execute(select(Person.source_ref, Person.status)).all())
    assert statuses == {"TH-001": ARCHIVED, "TH-002": "active", "TH-003": ARCHIVED}
    assert (archived, kept, batch.state) == (2, 1, UNDONE)
    assert db.session.scalar(select(func.count(Submission.id)).where(
        Submission.state == REJECTED, Submission.reason == "import.undo")) == 2
    assert db.session.scalar(select(func.count(PersonVersion.id)).where(
        PersonVersion.action == "status")) == 2
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import.undo"))
    # Once undone, the same file may be sent and imported again.
    again = imported(csv_bytes(HUONG, TAI, LAN))
    assert again.id != batch.id and verdicts(again)[2] == (VALID, [])


# Reports ---------------------------------------------------------------------------

def test_report_cells_that_look_like_formulas_are_escaped(app_ctx):
    batch = checked(csv_bytes("=2+3,<b>x</b>,F,1990,Bỉm Sơn,,JP,,,,,,",
                              "@SUM(A1),,F,1990,Bỉm Sơn,,JP,,,,,,"))

    lines = list(csv.reader(io.StringIO(reports.report_csv(batch).decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(reports.report_xlsx(batch)))
    cells = [[cell.value for cell in row] for row in book.active.iter_rows()]

    assert [line[4] for line in lines[1:]] == ["'=2+3", "'@SUM(A1)"]
    assert [row[4] for row in cells[1:]] == ["'=2+3", "'@SUM(A1)"]
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)
    assert reports.escape_cell("-1") == "'-1" and reports.escape_cell("\tx") == "'\tx"
    assert reports.escape_cell("Hà Nội") == "Hà Nội" and reports.escape_cell(3) == 3


def test_the_report_is_written_in_the_readers_language(app_ctx):
    batch = checked(csv_bytes("TH-1,Lê Văn Hùng,M,31/02/1990,Bỉm Sơn,,JP,,,,,,"))

    with force_locale("vi"):
        vietnamese = reports.report_csv(batch).decode("utf-8-sig")
    with force_locale("en"):
        english = reports.report_csv(batch).decode("utf-8-sig")

    assert "This date does not exist." in english
    assert "This date does not exist." not in vietnamese


# The command line ------------------------------------------------------------------

def test_cli_dry_run_prints_the_report_and_saves_nothing(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(HUONG, "TH-2,Lê Văn Hùng,M,31/02/1990,Bỉm Sơn,,JP,,,,,,"))
    report = tmp_path / "report.csv"

    result = app.test_cli_runner().invoke(args=[
        "registry", "import", str(path), "--dry-run", "--report", str(report)])

    assert result.exit_code == 0, result.output
    assert "Rows: 2" in result.output and "Row 3:" in result.output
    assert "[date_of_birth]" in result.output and "Dry run" in result.output
    assert report.read_bytes().decode("utf-8-sig").count("\n") == 2
    with app.app_context():
        assert count(ImportBatch) == 0 and count(Person) == 0


def test_cli_imports_the_valid_rows_and_a_second_run_adds_nobody(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(HUONG, TAI, LAN))
    runner = app.test_cli_runner()

    first = runner.invoke(args=["registry", "import", str(path), "--source", "Hoằng Hóa"])
    second = runner.invoke(args=["registry", "import", str(path)])

    assert first.exit_code == 0, first.output
    assert "3 people imported" in first.output
    assert second.exit_code == 0 and "sent before" in second.output
    with app.app_context():
        assert count(Person) == 3
        assert db.session.scalar(select(ImportBatch.source_name)) == "Hoằng Hóa"


def test_cli_refuses_an_unreadable_file(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b"full_name\nA\rB\n")

    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])

    assert result.exit_code != 0
    assert "lone carriage return" in result.output or "Dòng 2" in result.output


UNNAMED = "Tên đầy đủ,Năm sinh,Quê quán,Nơi ở hiện nay,Ghi chú"


def test_cli_refuses_a_file_whose_required_columns_are_not_recognised(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes("Lê Văn Hùng,1990,Bỉm Sơn,JP,", header=UNNAMED))

    result = app.test_cli_runner().invoke(args=["registry", "import", str(path)])

    assert result.exit_code != 0
    assert "required full_name, country" in result.output
    assert "Tên đầy đủ, Nơi ở hiện nay, Ghi chú" in result.output
    assert "hometown_district" in result.output and "--map" in result.output
    with app.app_context():
        assert count(ImportBatch) == 0


def test_cli_imports_columns_mapped_on_the_command_line(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes("Lê Văn Hùng,1990,Bỉm Sơn,JP,", header=UNNAMED))

    result = app.test_cli_runner().invoke(args=[
        "registry", "import", str(path), "--map", "Tên đầy đủ=full_name",
        "--map", " Nơi ở hiện nay = country "])

    assert result.exit_code == 0, result.output
    assert "Columns ignored (not recognised): Ghi chú" in result.output
    assert "1 people imported" in result.output
    with app.app_context():
        batch = db.session.scalar(select(ImportBatch))
        assert batch.mapping["Nơi ở hiện nay"] == "country"
        assert db.session.scalar(select(Person.country_code)) == "JP"


@pytest.mark.parametrize("pair, message", [
    ("Tên đầy đủ", "is not COLUMN=FIELD"), ("Tên đầy đủ=name", "Fields: source_ref"),
    ("Họ tên=full_name", "No column of the file is called 'Họ tên'"),
    ("Tên đầy đủ=country", "Error: "),  # in the default language, from set_mapping
], ids=["no field", "unknown field", "unknown column", "field taken"])
def test_cli_refuses_a_mapping_it_cannot_follow(app, tmp_path, pair, message):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes("Lê Văn Hùng,1990,Bỉm Sơn,JP,", header=UNNAMED))

    result = app.test_cli_runner().invoke(args=[
        "registry", "import", str(path), "--map", "Nơi ở hiện nay=country",
        "--map", pair])

    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert count(ImportBatch) == 0


# Writing in bulk ---------------------------------------------------------------

def test_rows_written_in_bulk_read_back_like_rows_the_orm_wrote(app_ctx):
    from datetime import UTC, datetime

    from registry.imports import bulk
    from registry.people.models import Email

    at = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)
    imported(csv_bytes(HUONG))
    person = db.session.scalar(select(Person.id))
    connection = db.session.connection()
    bulk.insert_rows(connection, AuditEvent.__table__, [
        {"occurred_at": at, "action": "test.bulk", "details": {"tên": "Hương", "n": [1]}},
        {"occurred_at": at, "action": "test.bulk", "details": None}])
    bulk.Copying(connection).execute(insert(Email.__table__),
                                     [{"person_id": person, "address": "b@example.com"}])

    found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.bulk")
                               .order_by(AuditEvent.id)).all()
    assert [event.details for event in found] == [{"tên": "Hương", "n": [1]}, None]
    assert found[0].occurred_at.replace(tzinfo=UTC) == at
    email = db.session.scalar(select(Email).where(Email.address == "b@example.com"))
    assert email.is_verified is False  # the column's default, as an INSERT gives it


# Kept uploads ------------------------------------------------------------------

def kept_files(folder) -> set[str]:
    return set(os.listdir(folder / "imports"))


def age(path, hours: int) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_uploads_never_checked_are_deleted_after_a_day(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    waiting, _is_new = operations.receive_upload(
        "old.csv", csv_bytes("Lê Văn Hùng,1990,Bỉm Sơn,JP,", header=UNNAMED), None)
    recent, _is_new = operations.receive_upload(
        "new.csv", csv_bytes("Lê Văn Hùng,1991,Bỉm Sơn,JP,", header=UNNAMED), None)
    db.session.commit()
    orphan = tmp_path / "imports" / "batch-9999.csv"  # its request rolled back
    orphan.write_bytes(b"full_name\n")
    (tmp_path / "imports" / "notes.txt").write_text("not an upload")
    for path in (operations.upload_path(waiting), orphan, tmp_path / "imports" / "notes.txt"):
        age(path, 25)

    removed = operations.clean_uploads()
    db.session.commit()

    assert removed == 2
    assert kept_files(tmp_path) == {f"batch-{recent.id}.csv", "notes.txt"}
    assert (waiting.state, recent.state) == (FAILED, UPLOADED)
    expired = parsing.msgid_of(operations.UPLOAD_EXPIRED)
    assert operations.failure_of(waiting)["message"] == expired


def test_a_file_whose_dry_run_is_under_way_is_kept(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    batch, _is_new = operations.start_batch("a.csv", csv_bytes(HUONG), None)
    operations.keep_upload(batch, csv_bytes(HUONG))
    batch.state, batch.job_id = "checking", "job-1"
    db.session.commit()
    age(operations.upload_path(batch), 48)

    assert operations.clean_uploads() == 0
    assert kept_files(tmp_path) == {f"batch-{batch.id}.csv"}


def test_cli_cleans_kept_uploads(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    (tmp_path / "imports").mkdir()
    for name, hours in (("batch-1.csv", 30), ("batch-2.xlsx", 2)):
        (tmp_path / "imports" / name).write_bytes(b"x")
        age(tmp_path / "imports" / name, hours)

    result = app.test_cli_runner().invoke(args=["registry", "clean-uploads"])

    assert result.exit_code == 0, result.output
    assert "1 kept uploads deleted" in result.output
    assert kept_files(tmp_path) == {"batch-2.xlsx"}


# The pages -------------------------------------------------------------------------

def test_officer_uploads_checks_and_imports_a_file(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))

    response = upload(client, csv_bytes(HUONG, TAI, "TH-3,Lê Văn Hùng,M,31/02/1990,"
                                                    "Bỉm Sơn,,JP,,,,,,"))
    batch = db.session.scalar(select(ImportBatch))
    assert response.status_code == 302 and response.location == f"/imports/{batch.id}"
    assert batch.state == CHECKED and count(Person) == 0
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-count="valid">2<' in page and 'data-count="invalid">1<' in page

    response = client.post(f"/imports/{batch.id}/import")

    assert response.status_code == 302
    db.session.expire_all()
    assert (batch.state, count(Person)) == (IMPORTED, 2)
    assert db.session.get(ImportBatch, batch.id).created_by_id is not None


def test_unknown_columns_are_mapped_by_the_user(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    content = csv_bytes("Lê Văn Hùng,1990,Bỉm Sơn,JP,ghi chú",
                        header="Tên đầy đủ,Năm sinh,Quê quán,Nước cư trú,Ghi chú")

    response = upload(client, content)
    batch = db.session.scalar(select(ImportBatch))
    assert response.location == f"/imports/{batch.id}/mapping"
    assert batch.state == UPLOADED
    page = client.get(response.location).get_data(as_text=True)
    assert "Tên đầy đủ" in page and "Ghi chú" in page

    response = client.post(response.location, data={"column_0": "full_name",
                                                     "column_1": ""})

    assert response.location == f"/imports/{batch.id}"
    db.session.expire_all()
    assert batch.mapping["Tên đầy đủ"] == "full_name" and batch.mapping["Ghi chú"] is None
    assert verdicts(batch) == {2: (VALID, [])}


def test_an_unreadable_upload_is_refused_on_the_form(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    client.post("/lang/en")

    response = upload(client, b"full_name\nA\rB\n")

    assert response.status_code == 422
    assert "Line 2 ends with a lone carriage return" in response.get_data(as_text=True)
    assert count(ImportBatch) == 0


def test_the_same_file_uploaded_again_leads_to_its_batch(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    content = csv_bytes(HUONG)
    first = upload(client, content).location

    assert upload(client, content, "copy.csv").location == first
    assert count(ImportBatch) == 1


def test_the_report_pages_through_the_rows_not_imported(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    lines = [f"B-{n},<b>x</b>,F,1990,Bỉm Sơn,,JP,,,,,," for n in range(60)]
    batch = checked(csv_bytes(*lines))

    first = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    second = client.get(f"/imports/{batch.id}?page=2").get_data(as_text=True)

    assert first.count("<tr>") == 51 and second.count("<tr>") == 11


def test_reports_and_templates_download(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    batch = checked(csv_bytes("TH-3,Lê Văn Hùng,M,31/02/1990,Bỉm Sơn,,JP,,,,,,"))

    as_csv = client.get(f"/imports/{batch.id}/report.csv")
    as_xlsx = client.get(f"/imports/{batch.id}/report.xlsx")

    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(as_xlsx.data)).active["A2"].value == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "export")) == 2
    assert client.get("/imports/template.csv").data.startswith(b"\xef\xbb\xbf")
    assert client.get("/imports/template.xlsx").status_code == 200
    assert client.get("/imports/template.ods").status_code == 404


def test_the_progress_fragment_polls_while_running_and_reloads_when_done(
        app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    batch = checked(csv_bytes(HUONG))
    batch.state, batch.job_id = "importing", "some-job"
    db.session.commit()

    running = client.get(f"/imports/{batch.id}/progress")
    batch.state = IMPORTED
    db.session.commit()
    done = client.get(f"/imports/{batch.id}/progress")

    assert 'hx-trigger="every 2s"' in running.get_data(as_text=True)
    assert "<progress" in running.get_data(as_text=True) and "style=" not in \
        running.get_data(as_text=True)
    assert "HX-Refresh" not in running.headers
    assert done.headers["HX-Refresh"] == "true"


def test_undo_from_the_page(app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))
    batch = imported(csv_bytes(HUONG, TAI))

    response = client.post(f"/imports/{batch.id}/undo")

    assert response.status_code == 302
    db.session.expire_all()
    assert batch.state == UNDONE
    assert set(db.session.scalars(select(Person.status))) == {ARCHIVED}


@pytest.mark.parametrize("role", ["district", "police", "viewer"])
def test_other_roles_cannot_import(app_ctx, client, make_user, login_as, role):
    login_as(make_user(role, areas=[("commune", BIM_SON)] if role == "district" else []))

    response = upload(client, csv_bytes(HUONG))

    assert response.status_code == 403
    assert count(ImportBatch) == 0
