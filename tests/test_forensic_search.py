"""Search for the forensic appraisal kind (issue 13 §4): the search record /2 with its own fields
(appraisal number, parties, matters, result, institution, appraisers), `类型:司法鉴定` / `类型:公估` in
both engines, records without a kind counting as 公估, and indexes made before the fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from archive.package_format import PackageFormatError, build_search_record, read_search_record
from generator.forensic.model import ForensicAppraisalCase, MatterResult, Outcome
from generator.loading import load_case
from index.api import SearchBackend
from index.extract import IndexDocument, document_from_case, document_from_record
from index.query import QueryError, parse_query
from index.tantivy_backend import IndexOutdatedError, TantivyBackend
from index.whoosh_backend import WhooshBackend

ROOT = Path(__file__).resolve().parents[1]
FORENSIC = ROOT / "examples" / "forensic-joint-grade10" / "case.json"
SURVEY = ROOT / "examples" / "slope-collapse" / "case.json"
FORENSIC_FIELDS = ("institution", "parties", "matters", "result", "appraisers")


def _forensic_case() -> ForensicAppraisalCase:
    case = load_case(FORENSIC).case
    assert isinstance(case, ForensicAppraisalCase)
    return case


def _no_disability(case: ForensicAppraisalCase) -> ForensicAppraisalCase:
    """Example (b)'s outcome on the same file: the disability matter is 未构成伤残等级 (Sichuan 三(三))."""
    results = [MatterResult(matter=r.matter, outcome=Outcome.no_disability, text="未构成伤残等级")
               if r.outcome == Outcome.grade else r for r in case.results]
    report = case.report.model_copy(update={"number": "蜀正司鉴〔2026〕临鉴字第0402号"})
    return case.model_copy(update={"case_id": "SJ-2026-0402", "results": results, "report": report,
                                   "case_name": "单方委托伤残鉴定"})


def test_search_record_carries_the_forensic_fields() -> None:
    case = _forensic_case()
    record = build_search_record(case)
    assert record["schema"] == "gongu-search-record/2"
    assert record["kind"] == "forensic_appraisal"
    assert record["report_number"] == "蜀正司鉴〔2026〕临鉴字第0318号"  # the appraisal number, the shared spine name
    # grade 10 → 十级伤残; the three periods in days as the example's results give them (180 / 90 / 90)
    assert record["result"] == ["十级伤残", "误工期180日", "护理期90日", "营养期90日"]
    assert record["institution"] == "四川蜀正司法鉴定中心 510115012"
    assert record["appraisers"] == ["唐志明 510106012001", "邓晓梅 510109013007"]
    assert record["handlers"] == ["唐志明", "邓晓梅"]
    assert "何建平（受害人）" in record["parties"] and "刘德胜（被保险人）" in record["parties"]
    assert record["insurer"] == "中国人民财产保险股份有限公司成都市分公司"
    assert record["matters"][1:] == ["误工期", "护理期", "营养期"]
    assert record["matters"][0].startswith("伤残等级：")
    assert build_search_record(_no_disability(case))["result"][0] == "未构成伤残等级"


def test_search_record_2_is_read_back_and_checked(tmp_path: Path) -> None:
    record = build_search_record(_forensic_case())
    (tmp_path / "search-record.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert read_search_record(tmp_path) == {k: v for k, v in record.items() if k != "schema"}
    bad = {**record, "result": "十级伤残"}  # a string where the format has an array
    (tmp_path / "search-record.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PackageFormatError, match="result"):
        read_search_record(tmp_path)


def test_a_record_without_a_kind_counts_as_a_survey() -> None:
    survey = build_search_record(load_case(SURVEY).case)
    survey.pop("kind")
    doc = document_from_record(survey, doc_id="old", text="")
    assert doc.kind == "car_survey"
    assert doc.institution == "" and doc.result == ()


@pytest.fixture(scope="module")
def docs() -> dict[str, IndexDocument]:
    case = _forensic_case()
    survey = load_case(SURVEY).case
    no_kind = replace(document_from_case(survey, doc_id="2024/OLD/OLD-1", text="隧道涌水，初期支护受损。"),
                      case_id="OLD", report_number="OLD-1", kind="")
    return {
        "grade10": document_from_case(case, doc_id="2026/SJ-2026-0318/A", text="鉴定意见：构成十级伤残。"),
        "none": document_from_case(_no_disability(case), doc_id="2026/SJ-2026-0402/B", text="鉴定意见：未构成伤残等级。"),
        "survey": document_from_case(survey, doc_id="2025/SAGC/C", text="路堑边坡坍塌，锚杆框架梁破坏。"),
        "no_kind": no_kind,
    }


@pytest.fixture(scope="module", params=["whoosh", "tantivy", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            docs: dict[str, IndexDocument]) -> Iterator[SearchBackend]:
    b: SearchBackend
    if request.param == "postgresql":
        from index.postgres_backend import PostgresBackend

        b = PostgresBackend(request.getfixturevalue("pg_cluster").create_database())
    else:
        folder = tmp_path_factory.mktemp(request.param)
        b = WhooshBackend(folder) if request.param == "whoosh" else TantivyBackend(folder)
    assert b.rebuild(docs.values()) == 4
    yield b


def _ids(backend: SearchBackend, query: str) -> set[str]:
    return {h.doc_id for h in backend.search(parse_query(query, page_size=50)).hits}


def test_kind_queries_in_both_engines(backend: SearchBackend, docs: dict[str, IndexDocument]) -> None:
    forensic = {docs["grade10"].doc_id, docs["none"].doc_id}
    assert _ids(backend, "类型:司法鉴定") == forensic
    assert _ids(backend, "kind:forensic_appraisal") == forensic
    # the survey and the old entry without a kind are both 公估
    assert _ids(backend, "类型:公估") == {docs["survey"].doc_id, docs["no_kind"].doc_id}


def test_result_queries(backend: SearchBackend, docs: dict[str, IndexDocument]) -> None:
    assert _ids(backend, "类型:司法鉴定 十级伤残") == {docs["grade10"].doc_id}
    assert _ids(backend, "鉴定意见:未构成伤残等级") == {docs["none"].doc_id}
    assert _ids(backend, "伤残等级:十级") == {docs["grade10"].doc_id}
    assert _ids(backend, "类型:公估 十级伤残") == set()


def test_appraiser_party_institution_matter_and_number(backend: SearchBackend, docs: dict[str, IndexDocument]) -> None:
    both = {docs["grade10"].doc_id, docs["none"].doc_id}
    assert _ids(backend, "鉴定人:邓晓梅") == both
    assert _ids(backend, "鉴定人:510106012001") == both  # by 执业证号 too
    assert _ids(backend, "邓晓梅") == both  # free text reaches the descriptive fields
    assert _ids(backend, "当事人:何建平") == both
    assert _ids(backend, "当事人:刘德胜") == both
    assert _ids(backend, "鉴定机构:蜀正") == both
    assert _ids(backend, "鉴定事项:护理期") == both
    assert _ids(backend, "鉴定文书编号:临鉴字第0402号") == {docs["none"].doc_id}
    assert _ids(backend, "鉴定人:李明") == set()  # a survey's handler is no appraiser


def test_hits_show_the_forensic_fields(backend: SearchBackend, docs: dict[str, IndexDocument]) -> None:
    hits = backend.search(parse_query("鉴定意见:十级伤残")).hits
    assert len(hits) == 1
    fields = hits[0].fields
    assert fields["kind"] == "forensic_appraisal"
    assert fields["result"] == ["十级伤残", "误工期180日", "护理期90日", "营养期90日"]
    assert fields["institution"] == "四川蜀正司法鉴定中心 510115012"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(QueryError, match="司法鉴定"):
        parse_query("类型:鉴定所")


def test_an_old_whoosh_index_gains_the_fields_in_place(tmp_path: Path, docs: dict[str, IndexDocument]) -> None:
    from whoosh import index as whoosh_index

    from index.whoosh_backend import build_schema

    schema = build_schema()
    for name in FORENSIC_FIELDS:
        schema.remove(name)
    whoosh_index.create_in(str(tmp_path), schema)
    backend = WhooshBackend(tmp_path)
    backend.update(docs["survey"])
    backend.update(docs["grade10"])
    assert _ids(backend, "鉴定人:邓晓梅 十级伤残") == {docs["grade10"].doc_id}
    assert _ids(backend, "类型:公估") == {docs["survey"].doc_id}


def test_an_old_tantivy_index_refuses_forensic_entries_until_rebuilt(
        tmp_path: Path, docs: dict[str, IndexDocument], monkeypatch: pytest.MonkeyPatch) -> None:
    import index.tantivy_backend as tb

    with monkeypatch.context() as m:  # the index as it was made before the forensic fields
        m.setattr(tb, "TEXT_FIELDS", tuple(f for f in tb.TEXT_FIELDS if f not in FORENSIC_FIELDS))
        TantivyBackend(tmp_path).update(docs["survey"])
    backend = TantivyBackend(tmp_path)
    backend.update(docs["survey"])  # a survey entry has no value for the new fields: still accepted
    with pytest.raises(IndexOutdatedError, match="gongu index rebuild"):
        backend.update(docs["grade10"])
    assert _ids(backend, "鉴定人:邓晓梅") == set()  # a query on a field the index lacks finds nothing, no error
    assert backend.rebuild([docs["survey"], docs["grade10"]]) == 2
    assert _ids(backend, "鉴定人:邓晓梅") == {docs["grade10"].doc_id}
    assert TantivyBackend(tmp_path).missing_fields == ()


def test_a_disposed_forensic_package_stays_findable_by_its_fields() -> None:
    """A tombstone is built from metadata.json alone (the search record went with the package): the
    `forensic` block gives the same field values the search record gave."""
    from datetime import UTC, date, datetime

    from archive.forensic_metadata import build_metadata
    from archive.retention import RetentionStart, load_classes
    from index.extract import document_from_metadata

    case = _forensic_case()
    meta = build_metadata(case, [], load_classes()["forensic"], RetentionStart(date(2026, 6, 1), None, date(2026, 6, 2)),
                          ingested_at=datetime(2026, 6, 2, tzinfo=UTC), ingested_by="档案员甲", software="t")
    tomb = document_from_metadata(meta, doc_id="d", status="disposed")
    live = document_from_case(case, doc_id="d", text="")
    for name in (*FORENSIC_FIELDS, "handlers", "kind", "report_number"):
        assert getattr(tomb, name) == getattr(live, name), name
