"""Spreadsheet import as an officer clicks through it: upload, map, dry run, import.

Jobs run at once in the browser tests' app (JOBS_IMMEDIATE), so the progress
shown is the finished state; the polling itself is covered in tests/test_imports.py.
"""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CSV = ("Tên đầy đủ,Giới tính,Ngày sinh,Quê quán,Nước cư trú,Số điện thoại,Ghi chú\n"
       "Lê Văn Hùng,Nam,1988,Phường Bỉm Sơn,Nhật Bản,090-1234-5678,\n"
       "Trịnh Thị Mai,Nữ,12/05/1991,Bỉm Sơn,KR,010-1234-5678,đi học\n"
       "<b>Không</b>,Nam,31/02/1990,Xã Không Có,JP,,\n").encode("utf-8")


def test_officer_maps_a_column_checks_imports_and_finds_the_batch_for_review(
        page, url_for, signed_in, english):
    signed_in("officer")
    english(page)
    page.goto(url_for("imports.index"))
    expect(page.get_by_role("heading", name="Spreadsheet import")).to_be_visible()

    page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(
        files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_label("Where the list comes from").fill("UBND Bỉm Sơn")
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Columns of danh-sach.csv")).to_be_visible()
    page.get_by_label("Tên đầy đủ").select_option(label="Full name")
    expect(page.get_by_label("Ghi chú")).to_have_value("")
    page.get_by_role("button", name="Check the rows").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    expect(page.locator('[data-count="valid"]')).to_have_text("2")
    expect(page.locator('[data-count="invalid"]')).to_have_text("1")
    problems = page.get_by_role("row").filter(has_text="This date does not exist.")
    expect(problems).to_have_count(1)
    expect(problems.get_by_role("cell").first).to_have_text("4")

    page.get_by_role("button", name="Import 2 valid rows").click()

    expect(page.get_by_role("alert")).to_contain_text("The import has started.")
    expect(page.locator("#batch-progress")).to_contain_text("Imported")
    expect(page.locator("#batch-progress")).to_contain_text("2 of 2 valid rows imported.")
    page.get_by_role("link", name="Review these people").click()
    expect(page.locator("main")).to_contain_text("Lê Văn Hùng")
    expect(page.locator("main")).to_contain_text("Trịnh Thị Mai")
