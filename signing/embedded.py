"""What an issued report PDF carries besides its signatures: the case file attached to the PDF/A-3
(ISO 19005-3: an associated file, `case.json`) and its page count — read with pypdf.

pypdf reads; it never writes a report here. Anything that touches a signature (field names, byte ranges,
validation) stays with pyHanko (signing.seal, signing.verify): pypdf would not preserve an
incremental update.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfStreamError, PyPdfError
from pypdf.generic import IndirectObject, NumberObject, PdfObject, StreamObject, read_object

CASE_FILE_NAME = "case.json"


class ReportPdfError(Exception):
    """The file cannot be read as a PDF at all."""


def _reader(pdf: bytes | Path) -> PdfReader:
    data = Path(pdf).read_bytes() if isinstance(pdf, Path) else pdf
    # pypdf logs recoverable oddities of a hostile file as warnings: the caller reports what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        return _parsed(data)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReportPdfError(f"不是可读的 PDF（not a readable PDF）：{exc}") from None


_WHITESPACE = (b"\x00", b"\t", b"\n", b"\f", b"\r", b" ")  # pypdf's (and ISO 32000 7.2.3's)
_TOKEN = re.compile(rb"[^\x00\t\n\f\r ]+")


class _ObjectAtATimeReader(PdfReader):
    """pypdf's reader parsing only the objects asked for from an object stream.

    pypdf parses every object of an object stream the first time it reads one from it; a tagged report keeps
    its thousands of structure elements in the same object stream as the catalog, so finding the attached
    case file parsed them all (half a second for pile-collapse). This reader indexes each stream's header
    once and parses the one object at its offset, as pypdf would have parsed it. Anything out of the
    ordinary — a header pypdf would warn about or reject, an unreadable object, a stream read while resolving
    itself — goes to pypdf's own method. (A damaged object no longer stops reading its neighbours.)"""

    def __init__(self, stream: Any, strict: bool = False) -> None:
        self._stream_index: dict[int, tuple[bytes, int, dict[int, int]] | None] = {}
        super().__init__(stream, strict=strict)

    def _index(self, stmnum: int) -> tuple[bytes, int, dict[int, int]] | None:
        """(decoded data, /First, object number → offset) for a well-formed header, else None."""
        stream = IndirectObject(stmnum, 0, self).get_object()
        if not isinstance(stream, StreamObject) or stream.get("/Type") != "/ObjStm":
            return None
        n, first = stream.get("/N"), stream.get("/First")
        if not isinstance(n, NumberObject) or not isinstance(first, NumberObject):
            return None
        data = stream.get_data()
        if not 0 <= int(n) <= len(data) // 3 or not 0 <= int(first) <= len(data):
            return None
        head = _TOKEN.findall(data[: int(first)])
        if len(head) < 2 * int(n):
            return None
        offsets: dict[int, int] = {}
        last = -1
        for number, offset in zip(head[0 : 2 * int(n) : 2], head[1 : 2 * int(n) : 2], strict=True):
            if not (number.isdigit() and offset.isdigit()) or int(offset) <= last or int(first) + int(offset) > len(data):
                return None
            last = int(offset)
            offsets.setdefault(int(number), last)  # pypdf keeps the first entry for a number
        return data, int(first), offsets

    def _get_object_from_stream(self, indirect_reference: IndirectObject) -> PdfObject:
        idnum = indirect_reference.idnum
        stack = self._object_stream_resolution_stack
        if idnum in stack:
            return super()._get_object_from_stream(indirect_reference)  # pypdf reports the cycle
        stmnum = self.xref_objStm[idnum][0]
        stack.append(idnum)
        try:
            if stmnum not in self._stream_index:
                self._stream_index[stmnum] = self._index(stmnum)
            index = self._stream_index[stmnum]
            offset = None if index is None else index[2].get(idnum)
            if index is not None and offset is not None:
                data, start = index[0], index[1] + offset
                while data[start : start + 1] in _WHITESPACE:  # pypdf skips to the object, too
                    start += 1
                buf = io.BytesIO(data)
                buf.seek(start)
                try:
                    return read_object(buf, self)
                except PdfStreamError:
                    pass
        finally:
            stack.pop()
        return super()._get_object_from_stream(indirect_reference)


@functools.lru_cache(maxsize=2)
def _parsed(data: bytes) -> PdfReader:
    """One reader per file content: `gongu verify` asks the same file for its case file, roles and pages
    several times. Only read from here, never changed."""
    return _ObjectAtATimeReader(io.BytesIO(data), strict=False)


def embedded_case_json(pdf: bytes | Path) -> bytes | None:
    """The bytes of the case file the renderer attached (`case.json`; otherwise the first attached *.json
    holding an object with `handlers`), or None when the PDF carries none."""
    reader = _reader(pdf)
    try:
        attachments = {name: list(contents) for name, contents in reader.attachments.items()}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged name tree reads as "no attachment"
    names = sorted((n for n in attachments if n.lower().endswith(".json")), key=lambda n: n != CASE_FILE_NAME)
    for name in names:
        for data in attachments[name]:
            if _case_object(data) is not None:
                return data
    return None


def embedded_case(pdf: bytes | Path) -> dict[str, Any] | None:
    """`embedded_case_json` parsed: the case file as a JSON object, or None."""
    data = embedded_case_json(pdf)
    return None if data is None else _case_object(data)


def document_info(pdf: bytes | Path) -> tuple[str | None, tuple[str, ...]]:
    """The document information's /Title and /Keywords (split at commas) as the renderer wrote them; (None, ())
    when absent or unreadable. Only says which document of a case a PDF claims to be, never that it is."""
    try:
        info = _reader(pdf).metadata
        title = info.get("/Title") if info else None
        keywords = info.get("/Keywords") if info else None
    except (ReportPdfError, PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return None, ()
    words = tuple(w.strip() for w in str(keywords).split(",") if w.strip()) if keywords else ()
    return (str(title) if title else None), words


def page_count(pdf: bytes | Path) -> int:
    reader = _reader(pdf)
    try:
        return len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReportPdfError(f"无法读取页面（cannot read the page tree）：{exc}") from None


def case_identity(pdf: bytes | Path) -> tuple[str, str] | None:
    """(case id, report number) of the embedded case file, e.g. for `gongu verify` and ingest."""
    raw = embedded_case(pdf)
    if raw is None:
        return None
    report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
    return str(raw.get("case_id")), str(report.get("number"))


def _case_object(data: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    # A survey case names its handlers; a forensic case (kind forensic_appraisal) its appraisers.
    is_case = isinstance(obj, dict) and ("handlers" in obj or obj.get("kind") == "forensic_appraisal")
    return obj if is_case else None
