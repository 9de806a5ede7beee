"""The stored copy of an index entry, the same bytes in every engine: `IndexDocument` as JSON,
zlib-compressed. Results and snippets are made from it, so a search never has to open a package."""

from __future__ import annotations

import json
import zlib
from dataclasses import fields as dc_fields
from datetime import date, datetime
from typing import Any

from index.extract import IndexDocument
from index.fields import DATE_FIELDS


def record_of(doc: IndexDocument) -> bytes:
    """The stored copy of `doc` (zlib-compressed JSON) that results and snippets are made from."""
    return zlib.compress(json.dumps(doc.as_dict(), ensure_ascii=False).encode("utf-8"), 1)


def document_from_record(blob: bytes) -> IndexDocument:
    data = json.loads(zlib.decompress(blob).decode("utf-8"))
    kwargs: dict[str, Any] = {}
    for f in dc_fields(IndexDocument):
        value = data.get(f.name)
        if value is not None and f.name in DATE_FIELDS:
            value = date.fromisoformat(value)
        elif value is not None and f.name == "archived_at":
            value = datetime.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        if f.name in data:
            kwargs[f.name] = value
    return IndexDocument(**kwargs)
