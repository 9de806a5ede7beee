"""The data behind the web workspace's forensic pages (gongu/pipeline/forensic_workspace.py), over the four
forensic examples copied into a workspace store folder. Expected figures are read off the example
case files and worked out by hand (dates, working days), not copied from the output."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from gongu.pipeline.forensic_workspace import (
    CaseNotFound,
    document_states,
    draw_view,
    findings_by_clause,
    ledger_file,
    list_cases,
    load_forensic_case,
    rendered_document,
    time_limit_table,
    workspace_ledger,
)
from gongu.pipeline.ledger import COLUMNS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLDERS = {"SJ-2026-0318": "forensic-joint-grade10", "MK-2026-0087": "forensic-single-no-disability",
           "JC-2026-0512": "forensic-extension-correction", "CX-2026-0617": "forensic-reappraisal"}


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    for case_id, folder in FOLDERS.items():
        shutil.copytree(EXAMPLES / folder, tmp_path / "workspace" / case_id)
    shutil.copytree(EXAMPLES / "slope-collapse", tmp_path / "workspace" / "survey-case")  # another kind
    return tmp_path


def test_lists_the_forensic_cases_only_with_commission_and_selection(home: Path) -> None:
    cases, invalid = list_cases(home)
    assert invalid == []
    by_id = {c.case_id: c for c in cases}
    assert set(by_id) == set(FOLDERS)  # the survey case is not listed
    assert by_id["MK-2026-0087"].commission == "单方委托"
    assert by_id["SJ-2026-0318"].commission == "共同委托"
    assert by_id["CX-2026-0617"].selection == "随机选定" and by_id["CX-2026-0617"].has_draw
    assert by_id["SJ-2026-0318"].selection == "协商选定" and not by_id["SJ-2026-0318"].has_draw
    assert by_id["CX-2026-0617"].received_on == date(2026, 6, 18)


def test_unknown_or_hostile_case_ids_are_not_found(home: Path) -> None:
    for bad in ("nope", "../workspace", "survey-case", ""):
        with pytest.raises(CaseNotFound):
            load_forensic_case(home, bad)


def test_single_commission_needs_risk_and_witness_notices(home: Path) -> None:
    states = {d.key: d for d in document_states(load_forensic_case(home, "MK-2026-0087"))}
    for key in ("opinion", "commission", "selection", "recusal", "risk_notice", "witness_notice", "attendance",
                "review_opinion"):
        assert states[key].needed and states[key].state == "待出具", key
    for key in ("termination", "draw", "extension", "correction"):
        assert not states[key].needed and states[key].state == "不需要", key


def test_extension_and_one_document_per_correction(home: Path) -> None:
    states = document_states(load_forensic_case(home, "JC-2026-0512"))
    keys = [d.key for d in states if d.needed]
    assert "extension" in keys and "correction-1" in keys and "risk_notice" not in keys
    assert keys[0] == "opinion"  # the primary document first, as the registry orders them


def test_issued_documents_show_the_issuance_number(home: Path) -> None:
    path = home / "workspace" / "SJ-2026-0318" / "case.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["issuances"] = [{"number": "川蜀正司鉴〔2026〕临鉴字第0318号", "issued_at": "2026-06-01T10:00:00",
                          "pdf_file": "x.pdf", "documents": [{"key": "commission", "title": "司法鉴定委托书",
                                                              "pdf_file": "x-commission.pdf"}]}]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    states = {d.key: d.state for d in document_states(load_forensic_case(home, "SJ-2026-0318"))}
    assert states["opinion"] == "已出具（川蜀正司鉴〔2026〕临鉴字第0318号）"
    assert states["commission"] == "已出具（川蜀正司鉴〔2026〕临鉴字第0318号）"
    assert states["recusal"] == "待出具"


def test_time_limits_as_gongu_adjust_computes_them(home: Path) -> None:
    rows, error, _ = time_limit_table(load_forensic_case(home, "CX-2026-0617").case)
    assert error is None
    by_item = {r[1]: r for r in rows}
    # Received Thu 2026-06-18; 端午 holiday Fri 19 – Sun 21 June: working days 22, 23, 24, 25, 26, 29, 30 →
    # the 7th is Tue 30 June (通则 Art 13, counted from the next day).
    assert by_item["应决定受理"][3] == "2026-06-30"
    assert by_item["决定受理"][3] == "2026-06-22 ✓ 符合"
    assert by_item["应决定受理"][0] == "通则 Art 13"
    rows, _, _ = time_limit_table(load_forensic_case(home, "JC-2026-0512").case)
    assert any(r[1] == "延长 1" and r[3] == "+20 个工作日" for r in rows)


def test_findings_grouped_by_article(home: Path) -> None:
    path = home / "workspace" / "MK-2026-0087" / "case.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["single"]["risk_notice"]  # Sichuan 二(二): the risk notice must be signed
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    groups = findings_by_clause(load_forensic_case(home, "MK-2026-0087"))
    by_clause = {g.clause: g.findings for g in groups}
    assert any(f.rule == "forensic.single.risk_notice" and f.blocking for f in by_clause["Sichuan 二(二)"])
    for g in groups:
        assert all(f.clause == g.clause for f in g.findings)
    assert len({g.clause for g in groups}) == len(groups)


def test_draw_record_verifies_and_a_changed_record_does_not(home: Path) -> None:
    view = draw_view(load_forensic_case(home, "CX-2026-0617"))
    assert view is not None and view.verified
    assert view.record is not None and view.record["chosen"]["licence_no"] == "510703015"
    assert draw_view(load_forensic_case(home, "SJ-2026-0318")) is None  # chosen by agreement: no record
    record_path = home / "workspace" / "CX-2026-0617" / "draw-record.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["chosen"] = {"licence_no": "511102024", "name": "乐山嘉州司法鉴定中心"}  # the other eligible one
    record_path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    view = draw_view(load_forensic_case(home, "CX-2026-0617"))
    assert view is not None and not view.verified and view.problems


def test_ledger_period_both_ends_included_and_xlsx(home: Path) -> None:
    # received: MK 2026-03-02, SJ 2026-05-08, CX 2026-06-18, JC 2026-08-17
    ledger = workspace_ledger(home, None, date(2026, 5, 8), date(2026, 6, 18))
    assert sorted(r.case_id for r in ledger.rows) == ["CX-2026-0617", "SJ-2026-0318"]
    assert {r.source for r in ledger.rows} == {"在办"}
    whole = workspace_ledger(home, None, date(2026, 1, 1), date(2026, 12, 31))
    data, name, media = ledger_file(whole, "xlsx", date(2026, 1, 1), date(2026, 12, 31))
    assert name == "ledger-2026-01-01-2026-12-31.xlsx" and "spreadsheetml" in media
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == [c.header for c in COLUMNS]
    assert sorted(v[0] for v in values[1:]) == sorted(FOLDERS)
    single = next(v for v in values[1:] if v[0] == "MK-2026-0087")
    assert single[COLUMNS.index(next(c for c in COLUMNS if c.key == "commission_kind"))] == "单方委托"


def test_one_document_renders_as_gongu_render_does_and_is_reused(home: Path, tmp_path: Path) -> None:
    from generator.render import render_case_documents

    loaded = load_forensic_case(home, "SJ-2026-0318")
    cache = tmp_path / "cache"
    commission = rendered_document(loaded, "commission", cache)
    assert commission is not None and commission.title == "司法鉴定委托书"
    assert commission.pdf is not None and commission.pdf.read_bytes().startswith(b"%PDF-")
    assert commission.docx is not None and "word/document.xml" in zipfile.ZipFile(commission.docx).namelist()
    # the same file name and page count as the whole set `gongu render` writes
    whole = {d.key: d for d in render_case_documents(loaded, tmp_path / "all")}
    assert whole["commission"].pdf is not None and whole["commission"].pdf.name == commission.pdf.name
    assert whole["commission"].pages == commission.pages
    before = commission.pdf.stat().st_mtime_ns
    again = rendered_document(load_forensic_case(home, "SJ-2026-0318"), "commission", cache)
    assert again is not None and again.pdf == commission.pdf and commission.pdf.stat().st_mtime_ns == before
    assert rendered_document(loaded, "risk_notice", cache) is None  # a joint commission has none
    assert rendered_document(loaded, "../x", cache) is None
