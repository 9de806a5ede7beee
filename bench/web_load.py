"""What bench/web_bench.py measures the pages beside: the work queue's cases in progress, and real issue
jobs (render → seal → record → archive) run by a `gongu worker` process while the pages are asked.

Cases in progress are made directly, as the bench makes its archived rows, by the work queue's bench
builder (workspace rows, their people and due rows).

The issue jobs are the approver's, on copies of the slope-collapse example approved at the three levels
under real accounts, sealed with the demo PKI (signing.keys.make_demo_pki) and a loopback TSA, the way
tests/test_jobs_cli.py and `make demo` (gongu/demo/workday.py) set them up."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "slope-collapse"
PASSWORD = "bench-jobs-pass-2046"
# username → (registered name as in the example, roles): the example's handlers and reviewers
PEOPLE = {"wang": ("王志强", {"handler"}), "chen": ("陈晓梅", {"handler"}), "zhao": ("赵丽", {"proofreader"}),
          "sun": ("孙立军", {"rechecker"}), "liu": ("刘建国", {"approver"})}
BENCH_PERSON = "测试员"  # the measuring account's person (bench/web_bench.py)
OPEN_PREFIX = "WQ"
LOAD_MAX_S = 1800.0  # the cases in progress (the corpus's archived cases have other ids)


def _example() -> dict[str, Any]:
    data = json.loads((EXAMPLE / "case.json").read_text(encoding="utf-8"))
    data.pop("reviews", None)  # reviews are recorded in the workspace, never uploaded
    return data


def _files(data: dict[str, Any]) -> list[tuple[str, io.BytesIO]]:
    out = [("case.json", io.BytesIO(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")))]
    for photo in sorted((EXAMPLE / "photos").iterdir()):
        out.append((f"photos/{photo.name}", io.BytesIO(photo.read_bytes())))
    return out


def init_archive_root(home: Path) -> None:
    """`gongu archive init`: the archive's identity, before any package is listed (jobs archive into it)."""
    from archive.identity import init_archive
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    with build_archive(load_settings(home), catch_up=False) as archive:
        init_archive(archive.catalog, archive.root, at=archive.now(), by="bench")


# ── cases in progress (the work queue) ──

def build_open_cases(catalog: Any, n: int, now: datetime) -> None:
    """`n` workspace cases in progress with the due rows the workspace records, by the work queue's own
    bench builder (bench/queue_bench.build_queue_rows: drafts with steps due around `now`, some overdue,
    cases in review, issued cases waiting to be archived; surveys and forensic appraisals)."""
    from bench.queue_bench import build_queue_rows

    started = time.perf_counter()
    due = build_queue_rows(catalog, n, now=now, prefix=OPEN_PREFIX)
    print(f"workspace: {n} cases in progress, {due} due rows (bench/queue_bench.build_queue_rows) "
          f"in {time.perf_counter() - started:.1f} s")


# ── the issue jobs ──

class JobLoad:
    """Signing set up (demo PKI, loopback TSA, gongu.toml [signing]), `n` cases approved at the three
    levels, their issue jobs queued under the approver's account and run by one `gongu worker --once`
    process (no periodic jobs: the whole-archive audit would be a different load)."""

    def __init__(self, home: Path, n: int) -> None:
        self.home, self.n = home, n
        self.tsa: Any = None
        self.env: dict[str, str] = {}
        self.case_ids: list[str] = []
        self.job_ids: list[int] = []
        self.worker: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def prepare(self) -> JobLoad:
        from signing.keys import DEMO_PASSPHRASE, make_demo_pki
        from signing.tsa import LocalTsa

        started = time.perf_counter()
        case = _example()
        keys = self.home / "bench-keys"
        self.tsa = LocalTsa(keys).start()
        pki = make_demo_pki(keys, case["firm"]["name"], [(h["name"], h.get("licence_no")) for h in case["handlers"]],
                            crl_url=self.tsa.crl_url)
        people = [p for p, _ in PEOPLE.values()] + [BENCH_PERSON]  # the registered names accounts carry
        (self.home / "gongu.toml").write_text("\n".join([
            "[signing]", f'firm_p12 = "{pki.firm_p12}"', f'tsa_url = "{self.tsa.url}"',
            f'trust_roots = ["{pki.root_pem}"]', f'crls = ["{pki.crl}"]', "[signing.handlers]",
            *[f'"{n}" = "{p}"' for n, p in pki.handler_p12.items()],
            "[people]", f"names = {json.dumps(people, ensure_ascii=False)}"]) + "\n", encoding="utf-8")
        self.env = {**os.environ, "GONGU_HOME": str(self.home), "GONGU_FIRM_KEY_PASSPHRASE": DEMO_PASSPHRASE,
                    "GONGU_HANDLER_KEY_PASSPHRASE": DEMO_PASSPHRASE, "PYTHONPATH": str(ROOT), "GONGU_USER": "bench"}
        accounts = self._accounts()
        run = datetime.now().strftime("%H%M%S")  # a reused home: new case ids and report numbers each run
        for i in range(self.n):
            self.case_ids.append(self._ready_case(accounts, f"-L{run}{i:02d}"))
        print(f"jobs: {self.n} cases approved at three levels, demo PKI and loopback TSA "
              f"in {time.perf_counter() - started:.1f} s")
        self.accounts = accounts
        return self

    def _accounts(self) -> dict[str, Any]:
        from archive.accounts import add_account, get_account, set_password
        from archive.catalog import Catalog
        from generator.types import SHANGHAI
        from gongu.pipeline.archiving import archive_config
        from gongu.settings import load_settings

        catalog = Catalog(archive_config(load_settings(self.home)).catalog_path)
        now = datetime.now(SHANGHAI)
        try:
            for username, (person, roles) in PEOPLE.items():
                if get_account(catalog, username) is None:  # in use for a month: grants past any wait
                    add_account(catalog, username, password=PASSWORD, roles=set(roles), person=person,
                                now=now - timedelta(days=30))
                    set_password(catalog, username, PASSWORD, own=True, now=now - timedelta(days=29))
            return {u: get_account(catalog, u) for u in PEOPLE}
        finally:
            catalog.close()

    def _ready_case(self, a: dict[str, Any], suffix: str) -> str:
        """The example uploaded by 王志强, submitted, approved at the three levels (9.3), 陈晓梅's
        signature confirmed."""
        from archive.catalog import Catalog
        from generator.types import SHANGHAI
        from gongu.pipeline.archiving import archive_config
        from gongu.pipeline.workspace import confirm_signature, review_case, submit_case, upload_case
        from gongu.settings import load_settings

        settings = load_settings(self.home)
        data = _example()
        data["case_id"] += suffix
        data["report"]["number"] += suffix
        at = datetime.now(SHANGHAI).isoformat(timespec="seconds")
        catalog = Catalog(archive_config(settings).catalog_path)
        try:
            row = upload_case(catalog, self.home, _files(data), account=a["wang"], now=at)
            submit_case(catalog, self.home, row.case_id, account=a["wang"], now=at)
            for who, level in (("zhao", "proofread"), ("sun", "recheck"), ("liu", "approve")):
                review_case(catalog, self.home, row.case_id, account=a[who], level=level, decision="approve",
                            comment=None, now=at, settings=settings)
            confirm_signature(catalog, self.home, row.case_id, account=a["chen"], now=at)
            return row.case_id
        finally:
            catalog.close()

    def start(self) -> None:
        """Queue the issue jobs (what the web's issue button queues) and start the worker."""
        from archive.catalog import Catalog
        from gongu.jobs import api
        from gongu.jobs.runner import now
        from gongu.pipeline.archiving import archive_config
        from gongu.settings import load_settings

        liu = self.accounts["liu"]
        catalog = Catalog(archive_config(load_settings(self.home)).catalog_path)
        try:
            for case_id in self.case_ids:
                job = api.enqueue(catalog, "issue", {"case_id": case_id, "account_id": liu.id, "account": liu.username},
                                  by=liu.username, person=liu.person, case_id=case_id, now=now())
                self.job_ids.append(job.id)
        finally:
            catalog.close()
        self.started_at = time.perf_counter()
        self.worker = subprocess.Popen([sys.executable, "-m", "gongu", "worker", "--once"], env=self.env,
                                       cwd=self.home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def busy(self) -> bool:
        """The worker is still running jobs (for at most LOAD_MAX_S: a stuck worker ends the measurement)."""
        return (self.worker is not None and self.worker.poll() is None
                and time.perf_counter() - self.started_at < LOAD_MAX_S)

    def states(self) -> dict[str, int]:
        """How many of the bench's jobs are in each state (queued / running / done / failed)."""
        from archive.catalog import Catalog
        from gongu.jobs import api
        from gongu.pipeline.archiving import archive_config
        from gongu.settings import load_settings

        catalog = Catalog(archive_config(load_settings(self.home)).catalog_path)
        try:
            counts: dict[str, int] = {}
            for job_id in self.job_ids:
                job = api.get_job(catalog, job_id)
                state = job.state if job is not None else "missing"
                counts[state] = counts.get(state, 0) + 1
            return counts
        finally:
            catalog.close()

    def errors(self) -> list[str]:
        from archive.catalog import Catalog
        from gongu.jobs import api
        from gongu.pipeline.archiving import archive_config
        from gongu.settings import load_settings

        catalog = Catalog(archive_config(load_settings(self.home)).catalog_path)
        try:
            jobs = [api.get_job(catalog, j) for j in self.job_ids]
            return [f"#{j.id} {j.case_id}: {j.error}" for j in jobs if j is not None and j.state == "failed"]
        finally:
            catalog.close()

    def finish(self, timeout_s: float = 900) -> float:
        """Wait for the worker to run what is left; seconds from the jobs' start to the worker's exit."""
        if self.worker is not None:
            try:
                _, err = self.worker.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                _, err = self.worker.communicate()
            if self.worker.returncode != 0:
                print(f"gongu worker exited {self.worker.returncode}: {err.decode(errors='replace')[-2000:]}")
        return time.perf_counter() - self.started_at

    def close(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.kill()
            self.worker.wait()
        if self.tsa is not None:
            self.tsa.stop()
