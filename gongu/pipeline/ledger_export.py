"""The work ledger as file bytes: xlsx (openpyxl) or csv (UTF-8 with BOM, so Excel reads the Chinese).

Bytes, not files: the command writes them with generator/atomic.py, so a failed export leaves
nothing half-written. Case text is data, never a formula: every text cell of the xlsx is stored as a
string (openpyxl would store `=…` as a formula), and a csv cell that would start a formula gets a leading
apostrophe (generator/text_safety.py `csv_cell`)."""

from __future__ import annotations

import csv
import io
from datetime import date

from generator.text_safety import csv_cell
from gongu.pipeline.ledger import COLUMNS, LedgerRow

FORMATS = ("xlsx", "csv")
SHEET_TITLE = "涉保司法鉴定工作台账"
DATE_FORMAT = "yyyy-mm-dd"


def to_csv(rows: list[LedgerRow]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else csv_cell(str(v))
                         for v in row.cells()])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[LedgerRow], *, period: str) -> bytes:
    """One sheet: Chinese headers in bold, the header row frozen, an autofilter over the table, column
    widths set per column, dates as real date cells; `period` goes into the workbook's title."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE[:31]  # Excel's limit on a sheet name
    wb.properties.title = f"{SHEET_TITLE}（{period}）"
    ws.append([c.header for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append(row.cells())
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text as typed: openpyxl takes a string starting "=" for a formula
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        if column.is_date:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = DATE_FORMAT
    for body in ws.iter_rows(min_row=2):
        for cell in body:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    last = get_column_letter(len(COLUMNS))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(rows) + 1)}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
