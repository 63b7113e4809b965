"""Excel exports that cannot smuggle formulas into a spreadsheet (CSV/formula injection)."""

import tempfile
from collections.abc import Iterable
from datetime import date, datetime

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook

# A cell starting with one of these is read as a formula (or a DDE call) by spreadsheet programs.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise a value for a spreadsheet cell: text that a spreadsheet would run as a
    formula gets a leading apostrophe (') and stays text."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date | int | float) or value is None:
        return value
    text = str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def write_xlsx(
    fileobj, *, headers: Iterable, rows: Iterable[Iterable], sheet_title: str = "Sheet"
) -> None:
    """Stream rows into an .xlsx file (write-only mode: memory stays flat for large exports)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31] or "Sheet")
    ws.append([safe_cell(str(h)) for h in headers])
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    wb.save(fileobj)


def xlsx_response(
    *, filename: str, headers: Iterable, rows: Iterable[Iterable], sheet_title: str = "Sheet"
) -> FileResponse:
    """An .xlsx download built in a temporary file (not in memory)."""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(tmp, headers=headers, rows=rows, sheet_title=sheet_title)
    tmp.seek(0)
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
