"""A PostgreSQL home with cases ready to issue, for the two-worker tests (tests/test_jobs_postgres.py) and
the throughput bench (bench/jobs_bench.py): the demo PKI, gongu.toml with `[store] url` and `[signing]`,
the archive initialised, the workspace accounts, and N copies of the slope-collapse example — each with
its own case id and report number — uploaded, submitted, approved at the three levels (9.3) and the
second handler's signature confirmed with her own account: what an approver sees before 出具."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "slope-collapse"
NOW = datetime.fromisoformat("2026-01-05T09:00:00+08:00")
PASSWORD = "pg-jobs-pass-123"


@dataclass(frozen=True)
class Acct:
    id: int
    username: str
    person: str
    roles: frozenset[str]


HANDLER = Acct(1, "wang", "王志强", frozenset({"handler"}))
OTHER_HANDLER = Acct(2, "chen", "陈晓梅", frozenset({"handler"}))
PROOF = Acct(3, "zhao", "赵丽", frozenset({"proofreader"}))
RECHECK = Acct(4, "sun", "孙立军", frozenset({"rechecker"}))
APPROVER = Acct(5, "liu", "刘建国", frozenset({"approver"}))
ACCOUNTS = (HANDLER, OTHER_HANDLER, PROOF, RECHECK, APPROVER)


def case_id(i: int) -> str:
    return f"SA-2025-{5000 + i}"


def report_number(i: int) -> str:
    return f"SA-GC-20250905-{100 + i:03d}"


def write_home(home: Path, url: str, pki_dir: Path) -> Path:
    """gongu.toml for a PostgreSQL home that seals with the demo PKI (made in `pki_dir` once)."""
    from signing.keys import make_demo_pki

    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    names = [(h["name"], h.get("licence_no")) for h in data["handlers"]]
    pki = make_demo_pki(pki_dir, data["firm"]["name"], names, crl_url=None)
    handlers = "\n".join(f'"{n}" = "{p}"' for n, p in pki.handler_p12.items())
    people = json.dumps([a.person for a in ACCOUNTS], ensure_ascii=False)
    home.mkdir(parents=True, exist_ok=True)
    (home / "gongu.toml").write_text(
        f'[store]\nurl = "{url}"\n'
        f'[signing]\nfirm_p12 = "{pki.firm_p12}"\ntrust_roots = ["{pki.root_pem}"]\ncrls = ["{pki.crl}"]\n'
        f"[signing.handlers]\n{handlers}\n[people]\nnames = {people}\n", encoding="utf-8")
    return home


def prepare_home(home: Path) -> None:
    """`gongu archive init` and the five workspace accounts."""
    from archive.accounts import add_account
    from archive.catalog import Catalog
    from archive.identity import init_archive
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    settings = load_settings(home)
    with build_archive(settings, catch_up=False) as archive:
        init_archive(archive.catalog, archive.root, at=archive.now(), by="test")
    catalog = Catalog(settings.server_store())  # type: ignore[arg-type]
    try:
        for a in ACCOUNTS:
            add_account(catalog, a.username, password=PASSWORD, roles=set(a.roles), person=a.person,
                        now=NOW - timedelta(days=30))
    finally:
        catalog.close()


def example_data(i: int) -> dict[str, Any]:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews")  # reviews are recorded in the workspace, never uploaded
    data["report"]["signatures"] = data["report"]["signatures"][:2]
    data["case_id"] = case_id(i)
    data["report"]["number"] = report_number(i)
    return data


def _files(data: dict[str, Any]) -> list[tuple[str, io.BytesIO]]:
    out = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False, indent=2).encode()))]
    for photo in sorted((EXAMPLE / "photos").iterdir()):
        out.append((f"photos/{photo.name}", io.BytesIO(photo.read_bytes())))
    return out


def ready_cases(home: Path, count: int, *, start: int = 0) -> list[str]:
    """`count` cases uploaded, reviewed at three levels and confirmed by both handlers: ready to issue."""
    from archive.catalog import Catalog
    from gongu.pipeline.workspace import confirm_signature, review_case, submit_case, upload_case
    from gongu.settings import load_settings

    settings = load_settings(home)
    catalog = Catalog(settings.server_store())  # type: ignore[arg-type]
    out = []
    try:
        for i in range(start, start + count):
            row = upload_case(catalog, home, _files(example_data(i)), account=HANDLER, now=NOW.isoformat())
            submit_case(catalog, home, row.case_id, account=HANDLER, now=NOW.isoformat())
            for n, (who, level) in enumerate(((PROOF, "proofread"), (RECHECK, "recheck"), (APPROVER, "approve"))):
                review_case(catalog, home, row.case_id, account=who, level=level, decision="approve", comment=None,
                            now=(NOW + timedelta(hours=n + 1)).isoformat(), settings=settings)
            confirm_signature(catalog, home, row.case_id, account=OTHER_HANDLER, now=NOW.isoformat())
            out.append(row.case_id)
    finally:
        catalog.close()
    return out


def worker_env(home: Path) -> dict[str, str]:
    from signing.keys import DEMO_PASSPHRASE

    return {**os.environ, "GONGU_HOME": str(home), "PYTHONPATH": str(ROOT),
            "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE, "GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE}


def worker_command() -> list[str]:
    return [sys.executable, "-m", "gongu", "worker", "--nice", "0"]  # the test's own priority: a test waits on it


def start_worker(home: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """A real `gongu worker` process on the home (its output in `log`)."""
    with open(log, "ab") as out:
        return subprocess.Popen([*worker_command(), *extra], env=worker_env(home), stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT)
