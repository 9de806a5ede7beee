"""A forensic case with as much text as validation allows renders every one of its documents (PDF and
DOCX): the total-text bound of generator/limits.py is one that renders. Slow (about a minute): run once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from generator import limits
from generator.loading import load_case
from generator.render import render_case_documents
from tests.textfill import EXAMPLE, fill_text


def test_forensic_case_at_the_text_limit_renders(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    shutil.copytree(EXAMPLE, folder)
    data = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    total = fill_text(data, limits.MAX_FORENSIC_TEXT_CHARS)
    assert limits.MAX_FORENSIC_TEXT_CHARS - 100 < total <= limits.MAX_FORENSIC_TEXT_CHARS
    (folder / "case.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    documents = render_case_documents(load_case(folder / "case.json"), tmp_path / "out", ("pdf", "docx"))
    assert len(documents) >= 9
    assert all(d.pdf is not None and d.pdf.stat().st_size > 0 and d.docx is not None for d in documents)
