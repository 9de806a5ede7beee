"""Disposal reaches every copy (10.4): executing a disposal removes the case's workspace folder
(GONGU_HOME/workspace/<id>/), its issued reports (issued/<id>/) and rendered previews with the package,
in the same guarded step; a crash before the commit puts them back (fsck --repair), after it finishes
the removal. A legal hold freezes the workspace copy: no replacement, submission, review or issue.
Before: the workspace folder and the issued PDF stayed on disk and were served after the disposal."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.disposal import approve, destroyed, destroyed_case_ids, execute, propose
from archive.fsck import fsck
from archive.holds import place_hold
from tests.archivekit import Kit, copied_home, ingested_home, open_archive

CASE = "SAGC-2025-0712"
OTHER = "SAGC-2025-0999"
AFTER_END = "2040-10-16T09:00:00+08:00"
COPIES = ("workspace", "issued", "workspace-previews", "web-cache/forensic")


@pytest.fixture(scope="module")
def prepared(kit: Kit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = ingested_home(tmp_path_factory.mktemp("copies"), kit)
    for folder in COPIES:  # each copy folder holds this case and an unrelated one
        for case_id in (CASE, OTHER):
            (home / folder / case_id).mkdir(parents=True)
            (home / folder / case_id / "case.json").write_text(json.dumps({"case_id": case_id}), encoding="utf-8")
    shutil.copyfile(kit.sealed, home / "issued" / CASE / "SA-GC-20250905-017.pdf")
    return home


@pytest.fixture()
def home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copied_home(prepared, tmp_path, monkeypatch)


def _present(home: Path) -> dict[str, list[str]]:
    return {f: sorted(p.name for p in (home / f).iterdir()) for f in COPIES}


def test_10_4_disposal_removes_the_workspace_and_issued_copies(home: Path) -> None:
    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
        assert destroyed(archive.catalog, CASE) == []
        execute(archive, CASE, by="丙")
        (tomb,) = destroyed(archive.catalog, CASE)
        assert (tomb["report_number"], tomb["disposed_by"]) == ("SA-GC-20250905-017", "丙")
        assert destroyed_case_ids(archive.catalog, [CASE, OTHER, "NONE"]) == {CASE}
    # every copy of the destroyed case is gone, nothing set aside is left; the other case is untouched
    assert _present(home) == {f: [OTHER] for f in COPIES}


@pytest.mark.parametrize("point", ["disposal_after_move", "disposal_after_copies", "disposal_after_commit"])
def test_a_crash_mid_disposal_restores_or_finishes_the_copies(home: Path, point: str) -> None:
    with open_archive(home, AFTER_END) as archive:
        propose(archive, CASE, by="甲")
        approve(archive, CASE, by="乙")
    env = {**os.environ, "GONGU_ARCHIVE_CRASH_AT": point}
    proc = subprocess.run([sys.executable, "-m", "tests.archive_worker", "dispose", str(home), CASE, AFTER_END, "丙"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 137, proc.stderr[-2000:]
    with open_archive(home, AFTER_END) as archive:
        seen = fsck(archive)
        aside = [t for t in seen.trash_folders if "/.disposed-" in t]
        assert len(aside) == (0 if point == "disposal_after_move" else len(COPIES)) and not seen.clean
        fsck(archive, repair=True)
        assert fsck(archive).clean
    expected = [OTHER] if point == "disposal_after_commit" else [CASE, OTHER]  # put back unless committed
    assert _present(home) == {f: expected for f in COPIES}


@dataclass(frozen=True)
class Acct:
    id: int
    username: str
    person: str
    roles: frozenset[str]


def test_a_hold_freezes_the_workspace_copy(home: Path) -> None:
    from archive.workspace import put_case
    from gongu.pipeline.workspace import WorkspaceRefused, submit_case, upload_case

    handler = Acct(1, "wang", "王志强", frozenset({"handler"}))
    with open_archive(home, AFTER_END) as archive:
        with archive.catalog.write():
            put_case(archive.catalog, case_id=CASE, kind="car_survey", status="returned", handler="wang",
                     handler_person="王志强", case_name="n", project="p", insured="i",
                     report_number="SA-GC-20250905-017", next_level=None, at=AFTER_END)
        place_hold(archive, CASE, kind="litigation", reason="诉讼保全", reference="（2040）川01民初1号", by="法务")
        before = (home / "workspace" / CASE / "case.json").read_bytes()
        with pytest.raises(WorkspaceRefused) as refused:
            submit_case(archive.catalog, home, CASE, account=handler, now=AFTER_END)
        assert "处于冻结状态（litigation，文号 （2040）川01民初1号，原因 诉讼保全）" in refused.value.reasons[0]
        example = Path(__file__).resolve().parents[1] / "examples" / "slope-collapse" / "case.json"
        data = json.loads(example.read_text(encoding="utf-8"))
        data.pop("reviews")
        upload = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False).encode()))]
        with pytest.raises(WorkspaceRefused, match="处于冻结状态"):
            upload_case(archive.catalog, home, upload, account=handler, now=AFTER_END)
    assert (home / "workspace" / CASE / "case.json").read_bytes() == before
