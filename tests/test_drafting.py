"""Cases written in the browser, the storage underneath the forms (gongu/pipeline/drafting.py,
gongu/pipeline/draft_saving.py, archive/workspace_versions.py): numbering from gongu.toml, an incomplete
draft stored and validated, section saves with versions, the per-section conflict (the refused save kept
in the history), restore, read-only states, files added with the section that names them, and the folder
download — on the embedded SQLite catalog and on PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from archive.workspace import get_case, set_status
from archive.workspace_versions import versions
from generator.casefile import dump_case_data
from generator.loading import load_case
from generator.types import SHANGHAI
from gongu.pipeline import draft_saving, drafting
from gongu.pipeline.workspace import WorkspaceRefused, case_file
from gongu.settings import load_settings
from tests import test_workspace_store as store
from tests.storekit import store_kind  # noqa: F401  (module-scoped, parametrised: sqlite, postgresql)
from tests.test_workspace_store import HANDLER, OTHER_HANDLER, PROOF, Acct

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse"
home, catalog = store.home, store.catalog
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)
SUPERVISOR = Acct(10, "boss", "王五", frozenset({"supervisor"}))


def settings_of(home: Path, numbering: str = "") -> Any:
    if numbering:
        with (home / "gongu.toml").open("a", encoding="utf-8") as fh:
            fh.write(numbering)
    return load_settings(home)


def new_case(catalog: Catalog, home: Path, **kw: Any) -> str:
    row = drafting.create_case(catalog, home, settings_of(home), kind=kw.pop("kind", "car_survey"),
                               notice=kw.pop("notice", {"case_name": "K42 边坡坍塌"}),
                               people=kw.pop("people", ["王志强"]), account=kw.pop("account", HANDLER),
                               now=kw.pop("now", NOW), **kw)
    return row.case_id


def test_numbering_follows_the_pattern_per_day(home: Path, catalog: Catalog) -> None:
    settings = settings_of(home, '[numbering]\nsurvey = "GC{yyyymmdd}-{seq:03}"\nforensic = "SJ-{yyyy}-{seq:04}"\n')
    made = [drafting.create_case(catalog, home, settings, kind="car_survey", notice={}, people=["王志强"],
                                 account=HANDLER, now=NOW).case_id for _ in range(2)]
    next_day = drafting.create_case(catalog, home, settings, kind="car_survey", notice={}, people=["王志强"],
                                    account=HANDLER, now=datetime(2026, 12, 8, 0, 5, tzinfo=SHANGHAI)).case_id
    forensic = drafting.create_case(catalog, home, settings, kind="forensic_appraisal", notice={},
                                    people=["王志强"], account=Acct(7, "tang", "王志强", frozenset({"appraiser"})),
                                    now=NOW).case_id
    assert made == ["GC20261207-001", "GC20261207-002"]
    assert next_day == "GC20261208-001"  # a new day, a new prefix: numbering starts again
    assert forensic == "SJ-2026-0001"


def test_a_new_case_is_an_incomplete_draft_with_its_clock_started(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home, people=["王志强", "陈晓梅"], received_at="2026-12-07T08:50:00",
                       notice={"case_name": "K42 边坡坍塌", "commission": {"commissioning_party": "人保雅安"}})
    row = get_case(catalog, case_id)
    assert row is not None and row.status == "draft" and row.handler == "wang" and row.case_name == "K42 边坡坍塌"
    data = drafting.read_data(home, case_id)
    assert data["assigned_at"] == "2026-12-07T09:30:00"  # 4.4: the handlers were assigned when the case was made
    assert data["commission"] == {"commissioning_party": "人保雅安", "received_at": "2026-12-07T08:50:00"}
    assert [h["name"] for h in data["handlers"]] == ["王志强", "陈晓梅"]
    paths = {p.path for p in drafting.problems_of(data)}
    assert {"$.firm", "$.policy", "$.report", "$.commission.subject"} <= paths  # what is still to be written
    [created] = versions(catalog, case_id)
    assert (created.version, created.action, created.account) == (1, "created", "wang")


def test_creating_needs_the_role_and_a_person(home: Path, catalog: Catalog) -> None:
    with pytest.raises(WorkspaceRefused, match="承办"):
        new_case(catalog, home, account=PROOF)
    with pytest.raises(WorkspaceRefused, match="至少指定一名承办人员"):
        new_case(catalog, home, people=[])
    assert not (home / "workspace").exists() or not any((home / "workspace").iterdir())
    # the kind's supervisor creates a case for a handler
    assert new_case(catalog, home, account=SUPERVISOR).startswith("SA-GC-20261207-")


def save(catalog: Catalog, home: Path, case_id: str, key: str, values: dict[str, Any], *, base: str | None = None,
         account: Acct = HANDLER, now: datetime = NOW) -> draft_saving.Saved:
    data = drafting.read_data(home, case_id)
    keys = drafting.section("car_survey", key).keys
    return draft_saving.save_section(catalog, home, case_id, key, values,
                                     base=base if base is not None else drafting.digest(data, keys),
                                     account=account, now=now)


def test_a_section_save_is_a_version_with_the_changed_fields(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home)
    example = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    saved = save(catalog, home, case_id, "policy", {"policy": example["policy"]})
    assert saved.version == 2
    assert "$.policy.number" in saved.paths and "$.policy.items[0].sum_insured" in saved.paths
    assert not [p for p in saved.problems if p.path.startswith("$.policy")]  # the policy is complete
    on_disk = json.loads(case_file(home, case_id).read_text(encoding="utf-8"))
    assert on_disk["policy"] == example["policy"]
    again = save(catalog, home, case_id, "policy", {"policy": example["policy"]})
    assert again.version is None  # nothing changed: no version
    # a wrong amount is saved (a draft may be wrong) and reported with the words of `gongu validate`
    broken = json.loads(json.dumps(example["policy"]))
    broken["items"][0]["sum_insured"] = "12,000"
    bad = save(catalog, home, case_id, "policy", {"policy": broken})
    [problem] = [p for p in bad.problems if p.path == "$.policy.items[0].sum_insured"]
    assert problem.title == "保险合同 / 保险项目[0] / 保险金额" and "不是有效的数字" in problem.message
    assert [v.version for v in versions(catalog, case_id)] == [3, 2, 1]


def test_two_people_on_one_section_the_second_is_refused_and_kept(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home, people=["王志强", "陈晓梅"])
    data = drafting.read_data(home, case_id)
    base = drafting.digest(data, drafting.section("car_survey", "incident").keys)
    save(catalog, home, case_id, "incident", {"incident": {"place": "K42 右侧边坡"}}, base=base)
    with pytest.raises(draft_saving.SectionConflict, match="已被他人修改"):
        save(catalog, home, case_id, "incident", {"incident": {"place": "K43 左侧"}}, base=base, account=OTHER_HANDLER)
    assert drafting.read_data(home, case_id)["incident"] == {"place": "K42 右侧边坡"}  # the first save stands
    refused, first = versions(catalog, case_id)[:2]
    assert (refused.action, refused.account, first.action, first.account) == ("refused", "chen", "saved", "wang")
    # the refused text is in the history and can be restored by its author
    draft_saving.restore(catalog, home, case_id, refused.version, account=OTHER_HANDLER, now=NOW)
    assert drafting.read_data(home, case_id)["incident"] == {"place": "K43 左侧"}
    # another section was not touched by the conflict: a save on it with its own base goes through
    assert save(catalog, home, case_id, "project", {"project": {"name": "C3 合同段"}}, account=OTHER_HANDLER).version


def test_restore_keeps_the_workspace_records(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home)
    save(catalog, home, case_id, "incident", {"incident": {"place": "一"}})
    save(catalog, home, case_id, "incident", {"incident": {"place": "二"}})
    path = case_file(home, case_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["reviews"] = [{"level": "proofread", "reviewer": "赵丽", "at": "2026-12-07T10:00:00", "decision": "return"}]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    number = draft_saving.restore(catalog, home, case_id, 2, account=HANDLER, now=NOW)
    restored = drafting.read_data(home, case_id)
    assert restored["incident"] == {"place": "一"}
    assert restored["reviews"][0]["decision"] == "return"  # reviews are the workspace's, never rolled back
    assert versions(catalog, case_id)[0].action == "restored" and number == 4  # created, 一, 二, restored


def test_read_only_once_in_review_and_only_for_people_on_the_case(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home)
    with pytest.raises(WorkspaceRefused, match="不是本案的承办"):
        save(catalog, home, case_id, "incident", {"incident": {"place": "x"}}, account=OTHER_HANDLER)
    with pytest.raises(WorkspaceRefused, match="须有「承办」角色"):
        save(catalog, home, case_id, "incident", {"incident": {"place": "x"}}, account=PROOF)
    with catalog.write():
        set_status(catalog, case_id, "in_review", next_level="proofread", at=NOW.isoformat())
    with pytest.raises(WorkspaceRefused, match="只读"):
        save(catalog, home, case_id, "incident", {"incident": {"place": "x"}})
    assert "incident" not in drafting.read_data(home, case_id)


def test_the_workspace_keys_are_never_written_by_a_form(home: Path, catalog: Catalog) -> None:
    case_id = new_case(catalog, home)
    before = drafting.read_data(home, case_id)
    save(catalog, home, case_id, "commission", {"case_name": "新名称", "case_id": "OTHER", "kind": "forensic_appraisal",
                                                "commission": before["commission"]})
    after = drafting.read_data(home, case_id)
    assert (after["case_id"], after["kind"], after["case_name"]) == (case_id, "car_survey", "新名称")
    assert get_case(catalog, case_id).case_name == "新名称"  # type: ignore[union-attr]


def test_files_and_the_folder_download(home: Path, catalog: Catalog, tmp_path: Path) -> None:
    example = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    case_id = new_case(catalog, home)
    photo = (EXAMPLE / "photos" / "P01.jpg").read_bytes()
    survey = {"location_band": "surrounding", "arrived_at": "2026-12-07T14:00:00",
              "photos": [{"id": "P1", "file": "photos/P01.jpg", "caption": "坍塌全貌"}]}
    draft_saving.add_files(catalog, home, case_id, {"photos/P01.jpg": photo}, {"survey": survey},
                           section_key="survey", account=HANDLER, now=NOW)
    with pytest.raises(WorkspaceRefused, match="文件名不可用"):  # never outside the folder, never over a file
        draft_saving.add_files(catalog, home, case_id, {"../x.jpg": photo}, {}, section_key="survey",
                               account=HANDLER, now=NOW)
    with pytest.raises(WorkspaceRefused, match="文件名不可用"):
        draft_saving.add_files(catalog, home, case_id, {"photos/P01.jpg": b"other"}, {}, section_key="survey",
                               account=HANDLER, now=NOW)
    assert (home / "workspace" / case_id / "photos" / "P01.jpg").read_bytes() == photo
    # fill the rest from the example: the downloaded folder is a case `gongu` takes as it is
    for key in drafting.sections("car_survey"):
        if key.key == "survey":
            continue
        save(catalog, home, case_id, key.key, {k: example[k] for k in key.keys if k in example})
    data = drafting.read_data(home, case_id)
    data["survey"] = {**example["survey"], "photos": survey["photos"]}
    path = case_file(home, case_id)
    path.write_bytes(dump_case_data(data))
    with zipfile.ZipFile(io.BytesIO(draft_saving.folder_zip(home, case_id))) as zf:
        assert sorted(zf.namelist()) == [f"{case_id}/case.json", f"{case_id}/photos/P01.jpg"]
        zf.extractall(tmp_path / "out")
    loaded = load_case(tmp_path / "out" / case_id / "case.json")
    assert loaded.case.case_id == case_id and loaded.raw == path.read_bytes()


@pytest.mark.parametrize("kind", ["car_survey", "forensic_appraisal"])
def test_every_part_of_the_case_file_has_one_form(kind: str) -> None:
    from generator.kinds import CASE_KINDS

    keys = [k for s in drafting.sections(kind) for k in s.keys]
    assert len(keys) == len(set(keys))  # no key edited from two forms
    assert set(keys) == set(CASE_KINDS[kind].model_fields) - drafting.NEVER_EDITED


def test_a_new_drafts_clock_shows_on_the_queue_before_the_file_is_complete(home: Path, catalog: Catalog) -> None:
    from gongu.pipeline.queue import open_steps

    case_id = new_case(catalog, home)  # created 2026-12-07 09:30 Beijing time, incomplete
    settings = load_settings(home)
    steps = {i.stage: i for i in open_steps(settings, catalog, now=NOW) if i.case_id == case_id}
    # 4.4: contact within 30 minutes of the assignment, which is the creation → 10:00; no band yet: 5.1 open
    assert steps["contact"].due_at == datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    assert steps["contact"].person == "王志强" and steps["survey"].due_at is None
    # the band chosen (5.1.2 city surroundings: 6 hours) and the contact made: the queue follows each save
    save(catalog, home, case_id, "survey", {"survey": {"location_band": "surrounding"}})
    steps = {i.stage: i for i in open_steps(settings, catalog, now=NOW) if i.case_id == case_id}
    assert steps["survey"].due_at == datetime(2026, 12, 7, 15, 30, tzinfo=SHANGHAI)
    save(catalog, home, case_id, "handlers", {"handlers": [{"name": "王志强"}], "assigned_at": "2026-12-07T09:30:00",
                                              "contact": {"contacted_at": "2026-12-07T09:45:00"}})
    steps = {i.stage: i for i in open_steps(settings, catalog, now=NOW) if i.case_id == case_id}
    assert "contact" not in steps and "survey" in steps


def test_a_new_forensic_drafts_acceptance_limit_counts_in_working_days(home: Path, catalog: Catalog) -> None:
    from gongu.pipeline.queue import open_steps

    appraiser = Acct(7, "tang", "王志强", frozenset({"appraiser"}))
    # received Friday 2026-12-04: 通则第十三条, decide within 7 working days → Mon 7, …, Fri 11, Mon 14, Tue 15
    case_id = new_case(catalog, home, kind="forensic_appraisal", account=appraiser,
                       received_at="2026-12-04T16:00:00")
    steps = {i.stage: i for i in open_steps(load_settings(home), catalog, now=NOW) if i.case_id == case_id}
    assert steps["acceptance"].due_at == datetime(2026, 12, 15, 23, 59, 59, tzinfo=SHANGHAI)


def test_the_demo_home_starts_new_cases_with_the_demo_peoples_firm_and_institution(tmp_path: Path) -> None:
    import tomllib

    from gongu.demo.keys import demo_drafting_toml

    examples = Path(__file__).resolve().parents[1] / "examples"
    (tmp_path / "gongu.toml").write_text(demo_drafting_toml(examples), encoding="utf-8")
    settings = load_settings(tmp_path)  # the section validates as gongu.toml
    slope = json.loads((examples / "slope-collapse" / "case.json").read_text(encoding="utf-8"))
    forensic = json.loads((examples / "forensic-extension-correction" / "case.json").read_text(encoding="utf-8"))
    assert settings.toml.drafting.firm == slope["firm"]  # 王志强's firm: the demo handler's
    assert settings.toml.drafting.institution == forensic["institution"]  # 刘国华's: the demo appraiser's
    assert tomllib.loads(demo_drafting_toml(examples))["drafting"]["firm"]["name"] == "四川蜀安保险公估有限公司"
