"""pyHanko's PDF reader with each object stream's header read once, for verification.

A tagged report (generator/pdf_structure.py) holds some thousands of small objects — the structure
elements — and WeasyPrint (pydyf) writes every non-stream object into one object stream. pyHanko's
`PdfFileReader._get_object_from_stream` scans that stream's header (N pairs "object number, offset") from
the start for each object it reads, so reading all N objects costs N²/2 header entries. The difference
analysis after each signature reads the whole signed revision (`_load_reverse_xref_cache`, which maps every
object's paths from the trailer), so with the structure tree that scan was nearly all of `gongu verify`'s
time (27 s instead of 0.2 s for the slope-collapse report; docs/report.md).

`IndexedPdfReader` parses each header once into object number → offset and reads an object straight from
its offset. What it reads is what pyHanko reads: the first header entry for the number, the same parser;
anything out of the ordinary (an index out of range, a damaged header, an object missing from the header,
an unreadable or forbidden object) goes to pyHanko's own method, so its strict/lenient handling is unchanged.
The header is cached with the stream object it was read from: pyHanko looks the stream up anew each time.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader

_pause_lock = threading.Lock()
_pauses = [0, False]  # [callers inside, was the collector on when the first came in]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while reading a signed report, back on after (when the last of
    several concurrent callers leaves, and only if it was on).

    Verifying or sealing a tagged report builds several hundred thousand small objects (pyHanko's copy of
    every object per revision, the paths to each), all alive until the end; every full collection the
    allocations trigger on the way walks all of them and finds nothing to free — in a long-running
    process, together with whatever else it holds: 40 % of `verify_pdf`'s time on a pile-collapse report.
    `IndexedPdfReader.release` then frees them by reference counting, so no collection is owed afterwards."""
    with _pause_lock:
        if _pauses[0] == 0:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses[0] -= 1
            if _pauses[0] == 0 and _pauses[1]:
                gc.enable()


def _header(stream: generic.StreamObject) -> tuple[bytes, int, dict[int, tuple[int, int]]]:
    """(decoded data, /First, object number → (index, offset)) — the first entry for a number wins, as in
    pyHanko's scan; a damaged entry ends the header (the entries before it stay usable)."""
    data = stream.read_data(DecodePurpose.OBJECT_STREAM)
    buf = BytesIO(data)
    entries: dict[int, tuple[int, int]] = {}
    for i in range(int(stream["/N"])):
        try:
            misc.read_non_whitespace(buf, seek_back=True)
            number = generic.NumberObject.read_from_stream(buf)
            misc.read_non_whitespace(buf, seek_back=True)
            offset = generic.NumberObject.read_from_stream(buf)
        except ValueError:
            break
        entries.setdefault(int(number), (i, int(offset)))
    return data, int(stream["/First"]), entries


class IndexedPdfReader(PdfFileReader):
    """`PdfFileReader` reading an object from an object stream in time independent of the stream's size."""

    def __init__(self, stream: Any, strict: bool = True, decode_limits: Any = None) -> None:
        # set before pyHanko's constructor, which already reads objects (the catalog, the xref streams)
        self._object_stream_headers: dict[int, tuple[Any, tuple[bytes, int, dict[int, tuple[int, int]]]]] = {}
        super().__init__(stream, strict=strict, decode_limits=decode_limits)

    def release(self) -> None:
        """Drop what reading cached: the objects of the file and of each historical revision, and the maps of
        paths to them. They refer back to the reader (each object's container reference), so without this
        they are cyclic garbage that only a full collection frees; the reader is not to be used after."""
        for resolver in self._historical_resolver_cache.values():
            resolver.cache.clear()
            resolver._indirect_object_access_cache = None
        self._historical_resolver_cache.clear()
        self._embedded_signatures = None
        self.resolved_objects.clear()
        self._object_stream_headers.clear()

    def _get_object_from_stream(self, idnum: int, stmnum: int, idx: int) -> Any:
        stream = generic.Reference(stmnum, 0, self).get_object()
        if not isinstance(stream, generic.StreamObject) or stream.get("/Type") != "/ObjStm":
            return super()._get_object_from_stream(idnum, stmnum, idx)
        cached = self._object_stream_headers.get(stmnum)
        if cached is None or cached[0] is not stream:
            cached = (stream, _header(stream))
            self._object_stream_headers[stmnum] = cached
        data, first, entries = cached[1]
        entry = entries.get(idnum)
        if entry is None or not 0 <= idx < stream["/N"] or (self.strict and entry[0] != idx):
            return super()._get_object_from_stream(idnum, stmnum, idx)
        buf = BytesIO(data)
        buf.seek(first + entry[1])
        try:
            obj = generic.read_object(buf, generic.Reference(idnum, 0, self))
        except (misc.PdfStreamError, misc.PdfReadError):
            return super()._get_object_from_stream(idnum, stmnum, idx)
        if isinstance(obj, (generic.StreamObject, generic.IndirectObject)):
            return super()._get_object_from_stream(idnum, stmnum, idx)
        return obj
