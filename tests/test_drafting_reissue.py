"""An issued case corrected in the workspace: 「更正并重新出具」 makes it a draft again with the reason, the
correction is reviewed anew at all three levels (the round before the issue does not carry over, 9.3), and
the next issue is the reissue — the report number with R1, superseding the first, both archived — with a
real demo PKI, a loopback TSA and the embedded catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from archive.catalog import packages_table
from archive.workspace import get_case
from generator.types import SHANGHAI
from gongu.pipeline import draft_saving, drafting
from gongu.pipeline.workspace import (
    WorkspaceRefused,
    confirm_signature,
    issue_and_archive,
    review_case,
    submit_case,
)
from gongu.settings import load_settings
from tests.test_web_jobs import BASE, World

CASE = f"{BASE['case_id']}-RE"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("reissue"), None)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in w.env.items():
            mp.setenv(key, value)
        w.ready_to_issue(CASE, "RE")
        yield w
    w.tsa.stop()


def _case_file(world: World) -> dict[str, Any]:
    return json.loads((world.home / "workspace" / CASE / "case.json").read_text(encoding="utf-8"))


def test_an_issued_case_is_corrected_reviewed_again_and_reissued_under_r1(world: World) -> None:
    a = world.accounts
    settings = load_settings(world.home)
    number = f"{BASE['report']['number']}-RE"
    catalog = world.catalog()
    _START.clear()
    try:
        first = issue_and_archive(catalog, world.home, CASE, account=a["liu"], now=_at(0), settings=settings)
        assert first.archived and first.number == number

        # only a person on the case, with a reason
        with pytest.raises(WorkspaceRefused, match="承办"):
            draft_saving.reopen_for_reissue(catalog, world.home, CASE, "更正笔误", account=a["zhao"], now=_now(1))
        with pytest.raises(WorkspaceRefused, match="须说明原因"):
            draft_saving.reopen_for_reissue(catalog, world.home, CASE, "  ", account=a["wang"], now=_now(1))
        draft_saving.reopen_for_reissue(catalog, world.home, CASE, "更正损失清单单位笔误", account=a["wang"], now=_now(1))
        row = get_case(catalog, CASE)
        assert row is not None and row.status == "draft"
        data = _case_file(world)
        assert data["report"]["number"] == number and data["report"]["reissue_reason"] == "更正损失清单单位笔误"
        assert len(data["issuances"]) == 1 and len(data["reviews"]) == 3  # the first issue stays on record

        # the correction: a section saved as any draft's (the first issue's three approvals are history)
        incident = dict(data["incident"], place=data["incident"]["place"] + "（更正）")
        draft_saving.save_section(catalog, world.home, CASE, "incident", {"incident": incident},
                                  base=drafting.digest(drafting.read_data(world.home, CASE), ("incident",)),
                                  account=a["wang"], now=_now(2))
        submitted = submit_case(catalog, world.home, CASE, account=a["wang"], now=_at(3))
        assert submitted.next_level == "proofread"  # 9.3: a reissue is reviewed again from the first level
        confirm_signature(catalog, world.home, CASE, account=a["chen"], now=_at(4))  # the content she signs changed
        for n, (who, level) in enumerate((("zhao", "proofread"), ("sun", "recheck"), ("liu", "approve"))):
            review_case(catalog, world.home, CASE, account=a[who], level=level, decision="approve", comment="同意",
                        now=_at(5 + n), settings=settings)
        second = issue_and_archive(catalog, world.home, CASE, account=a["liu"], now=_at(9), settings=settings)
        assert second.archived and second.number == f"{number}R1"
        data = _case_file(world)
        assert [i["number"] for i in data["issuances"]] == [number, f"{number}R1"]
        assert data["report"]["supersedes"] == number and data["issuances"][1]["reason"] == "更正损失清单单位笔误"
        archived = {r["report_number"] for r in catalog._rows(select(packages_table.c.report_number)
                                                             .where(packages_table.c.case_id == CASE))}
        assert archived == {number, f"{number}R1"}  # the first report kept, the reissue beside it
        assert get_case(catalog, CASE).status == "archived"  # type: ignore[union-attr]
    finally:
        catalog.close()


_START: list[datetime] = []


def _now(minutes: int) -> datetime:
    """Minutes after the test began: the issue records the real clock's time, so the steps after it are
    dated from the moment the test runs (not when the module was collected)."""
    if not _START:
        _START.append(datetime.now(SHANGHAI) + timedelta(minutes=1))
    return _START[0] + timedelta(minutes=minutes)


def _at(minutes: int) -> str:
    return _now(minutes).isoformat(timespec="seconds")
