"""Check codes in archive tests: case files whose issuances carry codes (as `gongu issue` writes them),
ingested as the example case, its R1 reissue and a second case that is then destroyed."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest

from signing.keys import DEMO_PASSPHRASE
from tests.archivekit import INGESTED_AT, Kit, add_archivists, open_archive, reissue_of, write_case, write_home
from tests.sealkit import example_case

CASE = "SAGC-2025-0712"
NUMBER = "SA-GC-20250905-017"
OTHER_CASE = "SAGC-2025-0713"
OTHER_NUMBER = "SA-GC-20250906-001"
CODE_ORIGINAL = "7K3M9Q2XR8TB4VWZ6N1P"
CODE_R1 = "AB12CD34EF56GH78JK9M"
CODE_DESTROYED = "Z9Y8X7W6V5T4S3R2Q1P0"
# 2025-09-04 17:30 UTC is 2025-09-05 01:30 in Beijing: the issue date shown is the Beijing one.
ISSUED_AT = "2025-09-04T17:30:00+00:00"
AFTER_END = "2040-10-16T09:00:00+08:00"  # retention of the example ends 2040-10-16 (closed 2025-10-16 + 15 years)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_issuance(data: dict[str, Any], sealed: Path, code: str, *, at: str = ISSUED_AT,
                  sealed_flag: bool | None = True, digest: str | None = None) -> dict[str, Any]:
    """`data` with one more issuance of its report number: the sealed PDF's name and hash and its code."""
    out = copy.deepcopy(data)
    entry: dict[str, Any] = {"number": out["report"]["number"], "issued_at": at, "pdf_file": sealed.name,
                             "pdf_sha256": digest or sha256(sealed), "check_code": code}
    if sealed_flag is not None:
        entry["sealed"] = sealed_flag
    if out["report"].get("supersedes"):
        entry["supersedes"] = out["report"]["supersedes"]
        entry["reason"] = out["report"].get("reissue_reason")
    out.setdefault("issuances", []).append(entry)
    return out


# An ID number in the case file, so a test can show the public page never carries one.
ID_NUMBER = "510181198803150017"


def with_personal_data(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["contact"]["method"] = f"电话 139 8160 2271，身份证号 {ID_NUMBER}"
    return out


def personal_texts(data: dict[str, Any]) -> list[str]:
    """What of the case names a person or a party: none of it may appear on the public page."""
    people = [data["contact"]["person"].split()[-1], data["policy"]["insured"], data["policy"]["policyholder"],
              data["commission"]["commissioning_party"], data["acceptance"]["decided_by"], data["case_name"],
              data["project"]["name"], data["report"]["title"], data["policy"]["number"], ID_NUMBER, "139 8160 2271"]
    return [*people, *(h["name"] for h in data["handlers"])]


def other_case() -> dict[str, Any]:
    data = example_case()
    data["case_id"] = OTHER_CASE
    data["report"]["number"] = OTHER_NUMBER
    return data


def coded_home(base: Path, kit: Kit, *, store_url: str | None = None, destroy_other: bool = True) -> Path:
    """A GONGU_HOME (archivists registered) holding the example with code CODE_ORIGINAL, its R1 with CODE_R1
    (superseding it) and, destroyed after its retention unless `destroy_other` is False, a second case
    with CODE_DESTROYED."""
    from archive.disposal import approve, execute, propose
    from archive.ingest import ingest
    from generator.loading import load_case

    home = write_home(base / "home", kit, store_url=store_url)
    original = with_issuance(with_personal_data(example_case()), kit.sealed, CODE_ORIGINAL)
    r1 = with_issuance(reissue_of(original), kit.sealed_reissue, CODE_R1, at="2025-09-20T09:00:00+08:00")
    other_sealed = kit.sealed_for(other_case())
    other = with_issuance(other_case(), other_sealed, CODE_DESTROYED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
        with open_archive(home, INGESTED_AT) as archive:
            for folder, data, sealed in (("case", original, kit.sealed), ("r1", r1, kit.sealed_reissue),
                                         ("other", other, other_sealed)):
                ingest(archive, load_case(write_case(base / folder, data)), sealed, by="档案员甲")
        if destroy_other:
            with open_archive(home, AFTER_END) as archive:
                propose(archive, OTHER_CASE, by="甲")
                approve(archive, OTHER_CASE, by="乙")
                execute(archive, OTHER_CASE, by="乙")
    return add_archivists(home)
