"""Usability checks on the archived report (DA/T 70 可用性): an approved open format (PDF/A, read from
the XMP `pdfaid` schema) and no encryption inside the package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader

_PART = re.compile(rb"pdfaid:part\s*(?:=\s*[\"'](\d)[\"']|>\s*(\d)\s*<)")
_CONF = re.compile(rb"pdfaid:conformance\s*(?:=\s*[\"']([A-Za-z])[\"']|>\s*([A-Za-z])\s*<)")


@dataclass(frozen=True)
class PdfProfile:
    readable: bool
    pdfa: str | None  # e.g. "3B"
    encrypted: bool
    problem: str | None = None


def profile(path: Path) -> PdfProfile:
    try:
        with path.open("rb") as fh:
            reader = PdfFileReader(fh, strict=False)
            encrypted = bool(reader.encrypted)
            xmp = b""
            meta = reader.root.get("/Metadata")
            if meta is not None:
                xmp = meta.get_object().data
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        return PdfProfile(False, None, False, f"无法解析 PDF：{exc}")
    part = _PART.search(xmp)
    conf = _CONF.search(xmp)
    level = None
    if part:
        level = (part.group(1) or part.group(2)).decode() + ((conf.group(1) or conf.group(2)).decode().upper() if conf else "")
    return PdfProfile(True, level, encrypted)
