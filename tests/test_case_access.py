"""The need-to-know rule's parts without a server (gongu/access/case_access.py): the filter over catalog rows
(a reviewer who decided keeps sight of a returned case, one who did not loses it; an account holding
both kinds' supervisor roles sees both), the masking of forensic personal identifiers (个人信息保护法
Art 28) with expected strings worked out by hand, and revision 0005's backfill of the people on cases
uploaded before it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.catalog import MIGRATIONS, Catalog
from archive.workspace import add_comment, case_people, list_cases, put_case, set_status
from gongu.access.case_access import mask_identifiers, visible_case, visible_filter


@dataclass(frozen=True)
class Who:
    username: str
    person: str
    roles: frozenset[str]


def _who(username: str, person: str, *roles: str) -> Who:
    return Who(username, person, frozenset(roles))


AT = "2026-03-02T09:00:00+08:00"


def _put(catalog: Catalog, case_id: str, kind: str, uploader: str, uploader_person: str, people: list[str]) -> None:
    put_case(catalog, case_id=case_id, kind=kind, status="draft", handler=uploader, handler_person=uploader_person,
             case_name=case_id, project="", insured="", report_number=case_id, next_level=None, at=AT, people=people)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = Catalog(tmp_path / "catalog.sqlite")
    with cat.write():
        _put(cat, "S-1", "car_survey", "wang", "王志强", ["王志强", "陈晓梅"])
        _put(cat, "F-1", "forensic_appraisal", "chen", "陈国栋", ["陈国栋", "林雪"])
    yield cat
    cat.close()


def _seen(catalog: Catalog, who: Who) -> set[str]:
    return {r.case_id for r in list_cases(catalog, visible=visible_filter(who)).rows}


def test_people_on_the_case_by_account_or_by_name_and_only_with_the_kinds_role(catalog: Catalog) -> None:
    assert _seen(catalog, _who("wang", "王志强", "handler")) == {"S-1"}
    assert _seen(catalog, _who("xm", "陈晓梅", "handler")) == {"S-1"}  # named on it, did not upload it
    assert _seen(catalog, _who("lin", "林雪", "appraiser")) == {"F-1"}
    assert _seen(catalog, _who("lin2", "林雪", "handler")) == set()  # a survey role on a forensic case's name
    assert _seen(catalog, _who("boss", "主管", "supervisor")) == {"S-1"}
    assert _seen(catalog, _who("both", "主管", "supervisor", "forensic_supervisor")) == {"S-1", "F-1"}
    assert _seen(catalog, _who("root", "管理员", "admin")) == set()
    assert _seen(catalog, _who("zhou", "周静", "archivist")) == set()
    assert visible_case(catalog, _who("wang", "王志强", "handler"), "F-1") is None
    assert visible_case(catalog, _who("wang", "王志强", "handler"), "S-1") is not None


def test_reviewers_from_their_level_on_and_for_good_once_they_decided(catalog: Catalog) -> None:
    zhao, sun, liu = _who("zhao", "赵丽", "proofreader"), _who("sun", "孙立军", "rechecker"), _who("liu", "刘建国", "approver")
    assert _seen(catalog, zhao) == set()  # a draft has reached no level
    with catalog.write():
        set_status(catalog, "S-1", "in_review", next_level="proofread", at=AT)
    assert _seen(catalog, zhao) == {"S-1"} and _seen(catalog, sun) == set() and _seen(catalog, liu) == set()
    with catalog.write():
        add_comment(catalog, case_id="S-1", level="proofread", decision="approve", account="zhao", person="赵丽",
                    comment=None, at=AT)
        set_status(catalog, "S-1", "in_review", next_level="recheck", at=AT)
    assert _seen(catalog, sun) == {"S-1"} and _seen(catalog, liu) == set()
    with catalog.write():
        add_comment(catalog, case_id="S-1", level="recheck", decision="return", account="sun", person="孙立军",
                    comment="补充", at=AT)
        set_status(catalog, "S-1", "returned", next_level=None, at=AT)
    # returned to the handler: the two who decided keep it, another rechecker does not see it
    assert _seen(catalog, zhao) == {"S-1"} and _seen(catalog, sun) == {"S-1"}
    assert _seen(catalog, _who("sun2", "某", "rechecker")) == set()
    with catalog.write():
        set_status(catalog, "S-1", "in_review", next_level=None, at=AT)  # every level passed: to be issued
    assert _seen(catalog, liu) == {"S-1"}
    # the forensic 鉴定复核 never sees a survey case, whatever its level
    assert _seen(catalog, _who("li", "李", "reviewer")) == set()


@pytest.mark.parametrize(("text", "masked"), [
    ("身份证号码：510104198801011234", "身份证号码：5*****************"),
    ("证件 51010<mark>4198801011234</mark> 伤残", "证件 51**************34 伤残"),
    ("电话 13800138000", "电话 1**********"),
    ("联系 13800138000 转", "联系 13*******00 转"),
    ("住址：成都市锦江区某街1号，", "住址：成*********，"),
    ("住院号ZY-2026-0456", "住院号Z***********"),
    ("2026-03-02 入院，十级伤残，费用 12000 元", "2026-03-02 入院，十级伤残，费用 12000 元"),
])
def test_forensic_identifiers_are_masked(text: str, masked: str) -> None:
    assert mask_identifiers(text) == masked


def test_revision_0005_puts_the_uploader_on_cases_uploaded_before_it(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "catalog.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.exec_driver_sql(
            "INSERT INTO workspace_cases (case_id, kind, status, handler, handler_person, case_name, project, "
            "insured, report_number, next_level, search_text, created_at, updated_at) VALUES "
            f"('OLD-1', 'car_survey', 'draft', 'wang', '王志强', 'x', '', '', 'R-1', NULL, 'x', '{AT}', '{AT}')")
    engine.dispose()
    catalog = Catalog(path)
    try:
        assert case_people(catalog, "OLD-1") == ["王志强"]
        assert visible_case(catalog, _who("wang", "王志强", "handler"), "OLD-1") is not None
    finally:
        catalog.close()


def test_archive_search_hits_of_forensic_packages_are_masked_and_survey_hits_are_not() -> None:
    from gongu.web.pages_archive import masked_results
    from index.query import SearchHit, SearchQuery, SearchResults

    forensic = SearchHit("f", 1.0, {"kind": "forensic_appraisal", "case_id": "CX-2026-0617", "case_name": "张三 13800138000",
                                    "package_path": "2026/CX-2026-0617/R-2026-0001234"},
                         ("病历号：MR20260456 <mark>骨折</mark>",))
    survey = SearchHit("s", 1.0, {"kind": "car_survey", "case_id": "S-1", "case_name": "联系 13800138000"},
                       ("保单 6610012345678",))
    out = masked_results(SearchResults(SearchQuery(), 2, (forensic, survey))).hits
    assert out[0].fields["case_name"] == "张三 13*******00"
    assert out[0].fields["package_path"] == "2026/CX-2026-0617/R-2026-0001234"  # not a personal identifier
    assert out[0].snippets == ("病历号：M********* <mark>骨折</mark>",)
    assert out[1] == survey
