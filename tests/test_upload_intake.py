"""The workspace upload's three shapes (gongu/pipeline/upload_staging.py): a .zip of the case folder,
extracted under the folder upload's name rules and limits, and case.json with its files chosen one by
one — sent by base name, each put where the case names it (5.3.1 d: otherwise every photo is missing).
Real case files from examples/, real zips, a real SQLite catalog."""

from __future__ import annotations

import io
import json
import stat
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.catalog import Catalog
from generator.loading import load_case
from generator.rules import run_rules
from gongu.pipeline.upload_staging import MAX_FILE_BYTES, match_by_name, stage_upload
from gongu.pipeline.workspace import UploadRefused, receive_upload
from gongu.pipeline.workspace import load as load_ws

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE = EXAMPLES / "slope-collapse"
NOW = "2026-01-05T09:00:00+08:00"
PHOTOS = ["P01.jpg", "P02.jpg", "P03.jpg", "P04.jpg", "P05.jpg"]
MISSING = "照片文件缺失"


@dataclass(frozen=True)
class Acct:
    id: int
    username: str
    person: str
    roles: frozenset[str]


HANDLER = Acct(1, "wang", "王志强", frozenset({"handler"}))


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "gongu.toml").write_text('[people]\nnames = ["王志强", "陈晓梅"]\n', encoding="utf-8")
    return h


@pytest.fixture()
def catalog(home: Path) -> Iterator[Catalog]:
    cat = Catalog(home / "archive" / "catalog.sqlite")
    yield cat
    cat.close()


def case_json(change: Any = None) -> bytes:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")  # recorded in the workspace, never uploaded
    if change:
        change(data)
    return json.dumps(data, ensure_ascii=False).encode()


def zipped(members: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()


def folder_members(prefix: str = "") -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = [(f"{prefix}case.json", case_json())]
    members += [(f"{prefix}photos/{p}", (EXAMPLE / "photos" / p).read_bytes()) for p in PHOTOS]
    return members


def upload(catalog: Catalog, home: Path, files: list[tuple[str, bytes]]) -> Any:
    return receive_upload(catalog, home, [(n, io.BytesIO(b)) for n, b in files], account=HANDLER, now=NOW)


def photo_findings(home: Path, case_id: str) -> list[str]:
    loaded = load_ws(home, case_id)
    findings = run_rules(loaded.case, stage="review", case_dir=loaded.source.parent)  # type: ignore[arg-type]
    return [f.path for f in findings if MISSING in f.message]


def workspace_is_empty(home: Path) -> bool:
    return not (home / "workspace").exists() or list((home / "workspace").iterdir()) == []


def refused(catalog: Catalog, home: Path, data: bytes, name: str = "case.zip") -> list[Any]:
    with pytest.raises(UploadRefused) as info:
        upload(catalog, home, [(name, data)])
    assert workspace_is_empty(home)  # nothing extracted is left behind
    return info.value.problems


# ──────────────────────────────── a .zip of the case folder ────────────────────────────────


@pytest.mark.parametrize("prefix", ["", "slope-collapse/"])
def test_a_zip_of_the_case_folder_is_the_folder(catalog: Catalog, home: Path, prefix: str) -> None:
    received = upload(catalog, home, [("slope-collapse.zip", zipped(folder_members(prefix)))])
    folder = home / "workspace" / received.case.case_id
    assert sorted(p.name for p in (folder / "photos").iterdir()) == PHOTOS
    assert (folder / "photos" / "P03.jpg").read_bytes() == (EXAMPLE / "photos" / "P03.jpg").read_bytes()
    assert received.placement.matched == [] and received.placement.unreferenced == []
    assert photo_findings(home, received.case.case_id) == []
    assert [p.name for p in (home / "workspace").iterdir()] == [received.case.case_id]  # no staging left


@pytest.mark.parametrize("evil", ["../x.jpg", "photos/../../x.jpg", "/etc/x.jpg", "C:/x.jpg"])
def test_a_zip_member_leaving_the_folder_is_refused(catalog: Catalog, home: Path, evil: str) -> None:
    problems = refused(catalog, home, zipped([*folder_members(), (evil, b"x")]))
    assert [p.path for p in problems] == [f"case.zip：{evil}"]
    assert problems[0].title == "压缩包中的文件"
    assert not (home / "x.jpg").exists() and not (home.parent / "x.jpg").exists()


def test_a_symlink_in_the_zip_is_refused(catalog: Catalog, home: Path) -> None:
    link = zipfile.ZipInfo("photos/P06.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    problems = refused(catalog, home, zipped([*folder_members(), (link, b"/etc/passwd")]))
    assert [(p.path, p.message) for p in problems] == [("case.zip：photos/P06.jpg", "是符号链接：压缩包中只能有普通文件")]


def test_a_member_over_the_file_limit_is_refused_before_extraction(catalog: Catalog, home: Path) -> None:
    # 64 MiB + 1 of zeros deflate to about 64 KB: a small upload that would fill the disk
    bomb = zipped([*folder_members(), ("photos/bomb.jpg", bytes(MAX_FILE_BYTES + 1))])
    assert len(bomb) < 1 << 20
    problems = refused(catalog, home, bomb)
    assert [(p.path, p.message, p.value) for p in problems] == [
        ("case.zip：photos/bomb.jpg", "解压后超过 64 MiB", MAX_FILE_BYTES + 1)]


def _patch_central(data: bytes, member: str, offset: int, fmt: str, value: int) -> bytes:
    """`data` with one field of `member`'s central-directory entry (APPNOTE 4.3.12) overwritten."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")  # the first entry; walk to the one named `member`
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", out, at + 28)
        if out[at + 46:at + 46 + name_len] == member.encode():
            struct.pack_into(fmt, out, at + offset, value)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 46)
    raise AssertionError(member)


def test_a_bomb_lying_about_its_size_stops_at_the_declared_size(catalog: Catalog, home: Path) -> None:
    """The declared size says 1000 bytes, the data inflates to 65 MiB: zipfile yields no more than the
    declared size, the checksum then fails, and the upload is refused as damaged — nothing kept."""
    data = zipped([*folder_members(), ("photos/bomb.jpg", bytes(MAX_FILE_BYTES + (1 << 20)))])
    lying = _patch_central(data, "photos/bomb.jpg", 24, "<I", 1000)  # uncompressed size
    problems = refused(catalog, home, lying)
    assert problems[0].path == "case.zip" and problems[0].message.startswith("压缩包已损坏，photos/bomb.jpg 无法解压")


def test_an_encrypted_zip_is_refused(catalog: Catalog, home: Path) -> None:
    data = zipped(folder_members())
    for photo in PHOTOS[:2]:
        data = _patch_central(data, f"photos/{photo}", 8, "<H", 0x1)  # general purpose bit 0: encrypted
    problems = refused(catalog, home, data)
    assert [(p.path, p.message) for p in problems] == [
        (f"case.zip：photos/{p}", "已加密：请上传未加密的 zip 压缩包") for p in PHOTOS[:2]]


@pytest.mark.parametrize("data", [b"case.json and photos, honestly", b"PK\x03\x04 cut short", b""])
def test_a_file_named_zip_that_is_not_one_is_refused(catalog: Catalog, home: Path, data: bytes) -> None:
    problems = refused(catalog, home, data, "案件.zip")
    assert [(p.path, p.title) for p in problems] == [("案件.zip", "上传的压缩包")]
    assert "不是有效的 zip 压缩包" in problems[0].message


def test_a_zip_without_case_json_says_where_it_must_be(catalog: Catalog, home: Path) -> None:
    problems = refused(catalog, home, zipped(folder_members("a/")[1:] + [("b/case.json", case_json())]))
    assert problems[0].path == "case.json" and "案件文件须在最上层" in problems[0].message


# ──────────────────────────────── files sent by base name ────────────────────────────────


def test_photos_sent_by_base_name_are_put_where_the_case_names_them(catalog: Catalog, home: Path) -> None:
    files = [("case.json", case_json())] + [(p, (EXAMPLE / "photos" / p).read_bytes()) for p in PHOTOS]
    files.append(("现场记录.txt", "手写记录".encode()))
    received = upload(catalog, home, files)
    folder = home / "workspace" / received.case.case_id
    assert [(m.path, m.uploaded, m.placed) for m in received.placement.matched] == [
        (f"$.survey.photos[{i}].file", p, f"photos/{p}") for i, p in enumerate(PHOTOS)]
    assert (folder / "photos" / "P05.jpg").read_bytes() == (EXAMPLE / "photos" / "P05.jpg").read_bytes()
    assert not (folder / "P01.jpg").exists()
    assert photo_findings(home, received.case.case_id) == []
    # a file the case does not name is kept (a later edit may name it) and reported
    assert received.placement.unreferenced == ["现场记录.txt"] and (folder / "现场记录.txt").is_file()
    assert received.placement.unmatched == []


def test_without_matching_the_five_photos_would_be_missing(catalog: Catalog, home: Path) -> None:
    """The finding the matching removes: the same photos under other base names stay unplaced."""
    files = [("case.json", case_json())] + [(f"IMG_{p}", (EXAMPLE / "photos" / p).read_bytes()) for p in PHOTOS]
    received = upload(catalog, home, files)
    assert received.placement.matched == []
    assert received.placement.unreferenced == [f"IMG_{p}" for p in PHOTOS]
    assert photo_findings(home, received.case.case_id) == [f"$.survey.photos[{i}].file" for i in range(5)]


def test_a_base_name_the_case_gives_twice_is_not_guessed(catalog: Catalog, home: Path) -> None:
    def two_days(data: dict[str, Any]) -> None:
        data["survey"]["photos"][0]["file"] = "photos/day1/P01.jpg"
        data["survey"]["photos"][1]["file"] = "photos/day2/P01.jpg"

    files = [("case.json", case_json(two_days))] + [(p, (EXAMPLE / "photos" / p).read_bytes()) for p in PHOTOS]
    received = upload(catalog, home, files)
    placement = received.placement
    assert [m.placed for m in placement.matched] == ["photos/P03.jpg", "photos/P04.jpg", "photos/P05.jpg"]
    assert placement.unmatched == [
        "P01.jpg：案件中有 2 个同名文件（photos/day1/P01.jpg、photos/day2/P01.jpg），无法按文件名确定位置"]
    assert placement.unreferenced == ["P01.jpg", "P02.jpg"]
    assert photo_findings(home, received.case.case_id) == ["$.survey.photos[0].file", "$.survey.photos[1].file"]


def test_a_base_name_uploaded_twice_is_not_guessed(catalog: Catalog, home: Path) -> None:
    files = [("case.json", case_json())] + [(p, (EXAMPLE / "photos" / p).read_bytes()) for p in PHOTOS]
    files.append(("old/P02.jpg", (EXAMPLE / "photos" / "P01.jpg").read_bytes()))
    received = upload(catalog, home, files)
    assert "P02.jpg" not in [m.uploaded for m in received.placement.matched]
    assert received.placement.unmatched == ["P02.jpg：上传了 2 个同名文件（P02.jpg、old/P02.jpg），无法确定用哪一个"]
    assert photo_findings(home, received.case.case_id) == ["$.survey.photos[1].file"]


def test_a_forensic_case_s_recordings_and_id_copies_are_matched(tmp_path: Path) -> None:
    """Every field naming a file counts (generator/forensic/integrity.py named_files), not photos only."""
    folder = EXAMPLES / "forensic-extension-correction"
    files = [("case.json", io.BytesIO((folder / "case.json").read_bytes()))]
    files += [(p.name, io.BytesIO(p.read_bytes())) for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "case.json"]
    stage, placed = stage_upload(tmp_path, files)  # type: ignore[arg-type]
    placement = match_by_name(stage, placed, load_case(stage / "case.json").case)
    assert sorted((m.path, m.placed) for m in placement.matched) == [
        ("$.attendance.attendees[0].id_copy_file", "ids/A1-chen-xiaodong-work-id.jpg"),
        ("$.process.recordings[0].file", "recordings/R1-exam-room.jpg"),
        ("$.process.recordings[1].file", "recordings/R2-exam-audio.wav")]
    assert (stage / "recordings" / "R2-exam-audio.wav").read_bytes() == (folder / "recordings" / "R2-exam-audio.wav").read_bytes()
    assert placement.unreferenced == [] and placement.unmatched == []
