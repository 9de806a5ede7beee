"""Every calendar date in Gongu is a Beijing date (issue 12 item 11): archive folders (closure year),
retention ends and index dates are taken in Asia/Shanghai, whatever offset a timestamp was written with.
A closure at 2025-12-31T20:00Z is 2026-01-01 04:00 in Beijing."""

from __future__ import annotations

from datetime import date, datetime

from case_edits import case_from, slope

from archive.ingest import package_location
from archive.retention import load_classes, retention_until
from generator.types import SHANGHAI, beijing_date
from index.extract import document_from_case, document_from_metadata

UTC_EVENING = "2025-12-31T20:00:00Z"  # Beijing: 2026-01-01 04:00


def _closed_in_utc() -> dict:
    data = slope()
    data["delivery"]["closed_at"] = UTC_EVENING
    return data


def test_beijing_date_of_any_offset() -> None:
    assert beijing_date(datetime.fromisoformat(UTC_EVENING)) == date(2026, 1, 1)
    assert beijing_date(datetime.fromisoformat("2025-12-31T23:30:00-05:00")) == date(2026, 1, 1)  # 12:30 next day
    assert beijing_date(datetime.fromisoformat("2025-12-31T15:59:59+00:00")) == date(2025, 12, 31)  # 23:59:59
    assert beijing_date(datetime(2025, 12, 31, 23, 0)) == date(2025, 12, 31)  # naive is Beijing already
    assert beijing_date(datetime(2026, 1, 1, 4, 0, tzinfo=SHANGHAI)) == date(2026, 1, 1)


def test_10_4_closure_after_utc_evening_files_in_the_beijing_year_and_keeps_the_full_period() -> None:
    case = case_from(_closed_in_utc())
    assert case.delivery.closed_at is not None and case.delivery.closed_at.year == 2025  # as written
    assert package_location(case).startswith("2026/")
    # 15-year class (forms/retention.toml, 10.4): closure date 2026-01-01 + 15 years.
    ordinary = load_classes()["ordinary"]
    assert retention_until(case.delivery.closed_at, ordinary) == date(2041, 1, 1)
    statutory = load_classes()["statutory"]
    assert retention_until(case.delivery.closed_at, statutory) == date(2056, 1, 1)


def test_index_dates_are_beijing_dates() -> None:
    data = _closed_in_utc()
    data["incident"]["occurred_at"] = "2025-07-11T17:30:00+00:00"  # Beijing 2025-07-12 01:30
    doc = document_from_case(case_from(data), doc_id="x", text="")
    assert doc.loss_date == date(2025, 7, 12)
    meta = {"dates": {"loss": "2025-07-11T17:30:00+00:00", "report": "2025-09-05"},
            "retention": {"until": "2041-01-01"}}
    from_meta = document_from_metadata(meta, doc_id="x")
    assert (from_meta.loss_date, from_meta.report_date, from_meta.retention_end) == (
        date(2025, 7, 12), date(2025, 9, 5), date(2041, 1, 1))
