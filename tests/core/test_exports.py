"""core.exports: formula injection neutralised in a real .xlsx, other values untouched."""

import datetime
import io
import zoneinfo

import pytest
from openpyxl import load_workbook

from core.exports import safe_cell, write_xlsx, xlsx_response

DANGEROUS = [
    "=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "+1-1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def read_back(data: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("text", DANGEROUS)
def test_safe_cell_neutralises_formula_text(text):
    assert safe_cell(text) == "'" + text


def test_formulas_come_back_as_text_from_a_real_file():
    out = io.BytesIO()
    write_xlsx(out, headers=["=danger", "value"], rows=[[text, 1] for text in DANGEROUS])
    rows = read_back(out.getvalue())
    assert rows[0] == ["'=danger", "value"]
    for text, row in zip(DANGEROUS, rows[1:], strict=True):
        # XML turns a stored carriage return into a line feed on reading.
        assert row[0] == "'" + text.replace("\r", "\n")
        assert not str(row[0]).startswith(("=", "+", "-", "@", "\t", "\r"))
    # No cell was stored as a formula.
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_numbers_dates_and_plain_text_are_untouched():
    aware = datetime.datetime(2025, 3, 1, 1, 30, tzinfo=datetime.UTC)
    row = [42, -7, 3.5, datetime.date(2025, 7, 1), aware, None, "张三", "a=b", "1-2"]
    out = io.BytesIO()
    write_xlsx(out, headers=["n", "neg", "f", "d", "dt", "none", "name", "eq", "dash"], rows=[row])
    back = read_back(out.getvalue())[1]
    assert back[0] == 42 and back[1] == -7 and back[2] == 3.5
    assert back[3] == datetime.datetime(2025, 7, 1, 0, 0)
    shanghai = aware.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert back[4] == shanghai
    assert back[5] is None
    assert back[6:] == ["张三", "a=b", "1-2"]


def test_response_is_an_xlsx_attachment():
    response = xlsx_response(
        filename="members.xlsx", headers=["name", "note"], rows=[["张三", "=1+1"]]
    )
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert "members.xlsx" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    response.file_to_stream.close()
    assert read_back(data) == [["name", "note"], ["张三", "'=1+1"]]
