"""Each search engine module imports only its own engine (issue 11): the tantivy backend works on a
machine without Whoosh, and the shared field definitions and record encoding live in engine-neutral
modules (index/fields.py, index/records.py, index/analysis.py)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from index.extract import IndexDocument
from index.fields import field_values
from index.records import document_from_record, record_of


def _imports_whoosh(module: str) -> bool:
    code = f"import {module}, sys; print(any(m == 'whoosh' or m.startswith('whoosh.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return out.strip() == "True"


@pytest.mark.parametrize("module", ["index.tantivy_backend", "index.analysis", "index.fields", "index.records"])
def test_module_does_not_import_whoosh(module: str) -> None:
    assert not _imports_whoosh(module)


def test_whoosh_backend_does_not_import_tantivy() -> None:
    code = "import index.whoosh_backend, sys; print('tantivy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_record_round_trips_and_field_values_are_plain() -> None:
    doc = IndexDocument(doc_id="p1", case_id="C-1", report_number="R-9", kind="car_survey", status="archived", text="边坡坍塌",
                        insurer="平安", handlers=("张三", "李四"), loss_date=date(2025, 7, 11), adjusted_fen=123456)
    assert document_from_record(record_of(doc)) == doc
    values = field_values(doc)
    assert values["case_key"] == "C-1" and values["body"] == values["body_bg"] == "边坡坍塌"
    assert values["handlers"] == "张三\n李四" and values["meta_bg"] == "C-1\nR-9\n平安\n张三\n李四"  # TEXT_FIELDS order
    assert values["loss_date"].isoformat() == "2025-07-11T00:00:00" and values["adjusted_fen"] == 123456
    assert "record" not in values and "report_date" not in values
