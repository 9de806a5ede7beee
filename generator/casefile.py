"""Write a case file back after a recorded step (a review decision, an issuance) without losing anything.

The file is parsed with numbers as Decimal (generator.loading.parse_json), edited as plain JSON data and
dumped with simplejson's `use_decimal`, which writes each Decimal as the JSON number it was read from
("28.50" stays 28.50, 100 stays 100): the stdlib encoder can only write Decimals through float or as
strings. The new data is validated before anything touches the disk, written to a temporary file in the
same folder, fsynced and renamed over the old one, then read back and validated again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import simplejson

from generator.atomic import atomic_write
from generator.loading import LoadedCase, load_case, parse_json, validate_data


def read_case_data(loaded: LoadedCase) -> dict[str, Any]:
    """The exact JSON data of a loaded case (numbers as Decimal), ready to edit."""
    data = parse_json(loaded.raw.decode("utf-8-sig"), str(loaded.source))
    assert isinstance(data, dict)
    return data


def dump_case_data(data: dict[str, Any]) -> bytes:
    text = simplejson.dumps(data, use_decimal=True, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def write_case_data(path: str | Path, data: dict[str, Any]) -> LoadedCase:
    """Validate `data`, replace the file at `path` atomically, and return it as loaded back from disk."""
    path = Path(path)
    validate_data(data, str(path))  # raises CaseFileError before the disk is touched
    payload = dump_case_data(data)
    atomic_write(path, payload)
    return load_case(path)
