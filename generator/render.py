"""Public rendering API: a loaded case → `<report number>.pdf` (PDF/A-3b) and `.docx`.

Used by the CLI, the demo, sealing (issue 5) and archiving (issue 6). Files are written atomically
(temp file in the output folder, then rename), so a failed render never leaves a half-written report.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.adjust import Adjustment, adjust
from generator.loading import LoadedCase
from generator.render_docx import render_docx_bytes
from generator.render_html import HtmlReport, build_html
from generator.render_pdf import render_pdf_bytes
from generator.render_safety import RenderError

__all__ = ["FORMATS", "RenderError", "RenderResult", "render_html", "render_report", "report_file_stem"]

FORMATS = ("pdf", "docx")
_UNSAFE_NAME = re.compile(r"[^\w.\-（）()]+", re.UNICODE)


@dataclass(frozen=True)
class RenderResult:
    pdf: Path | None
    docx: Path | None
    pages: int  # PDF pages; 0 when no PDF was asked for


def report_file_stem(loaded: LoadedCase) -> str:
    """The report number as a file name: separators and anything unsafe become '_'."""
    stem = _UNSAFE_NAME.sub("_", loaded.case.report.number).strip("._")
    if not stem:
        raise RenderError(f"报告编号 “{loaded.case.report.number}” 不能用作文件名 (report number unusable as a file name)")
    return stem


def render_html(loaded: LoadedCase, templates: Path | None = None, adj: Adjustment | None = None) -> HtmlReport:
    """The report's HTML (what WeasyPrint lays out), e.g. for tests and template authors."""
    return build_html(loaded, adj or adjust(loaded.case), templates)


def write_atomically(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_report(loaded: LoadedCase, out_dir: Path, formats: Sequence[str] = FORMATS,
                  templates: Path | None = None) -> RenderResult:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise RenderError(f"未知的输出格式：{', '.join(unknown) or '（空）'}，可选 pdf, docx")
    adj = adjust(loaded.case)
    report = build_html(loaded, adj, templates)  # also refuses hostile photo paths before any output
    stem = report_file_stem(loaded)
    pdf_data = docx_data = None
    pages = 0
    if "pdf" in formats:
        result = render_pdf_bytes(loaded, report)
        pdf_data, pages = result.data, result.pages
    if "docx" in formats:
        docx_data = render_docx_bytes(report.doc, report.photos)  # the same print copies as the PDF
    # Write only once everything rendered: no half set of outputs after an error.
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = docx_path = None
    if pdf_data is not None:
        pdf_path = out_dir / f"{stem}.pdf"
        write_atomically(pdf_path, pdf_data)
    if docx_data is not None:
        docx_path = out_dir / f"{stem}.docx"
        write_atomically(docx_path, docx_data)
    return RenderResult(pdf=pdf_path, docx=docx_path, pages=pages)
