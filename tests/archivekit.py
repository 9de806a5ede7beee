"""Shared fixtures for the archive tests: a demo PKI, a really sealed PDF/A report (pyHanko), a
closed case folder with photos, and a settings home (gongu.toml) wired to them.

Expensive things (PKI, rendering and sealing) happen once per session; each test gets a fresh GONGU_HOME."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from archive.names import safe_component
from signing.keys import DEMO_PASSPHRASE, make_demo_pki
from signing.seal import SigningConfig, seal_report
from tests.sealkit import example_case, sample_report

# The day the example (closed 2025-10-16 09:00) is ingested by default: the afternoon of its closure, so its
# retention (10.4: from the latest of closure, issuance and ingest) ends on 2040-10-16 as the tests expect.
INGESTED_AT = "2025-10-16T17:00:00+08:00"

# Registered in gongu.toml [people]: the CLI accepts only these as --by for disposals.
PEOPLE = ["甲", "乙", "丙", "档案员甲", "主任乙", "档案员丙", "法务", "Alice", "bob"]


@dataclass
class Kit:
    pki_dir: Path
    root_pem: Path
    crl: Path
    firm_p12: Path
    handlers: dict[str, Path]
    sealed: Path  # sealed report of the example case
    sealed_reissue: Path  # sealed report of the R1 reissue
    unsealed: Path  # the same report, not signed
    base: Path
    config: SigningConfig
    cache: dict[str, Path] = field(default_factory=dict)

    def sealed_for(self, data: dict[str, Any]) -> Path:
        """A really sealed report whose embedded case file is `data` (made once per distinct case file: the
        kit is shared by every module of a test process, and two modules may vary one case differently)."""
        key = _case_key(data)
        if key not in self.cache:
            name = safe_component(f"{data['case_id']}-{data['report']['number']}-{key[:12]}")
            self.cache[key] = _seal(self.base, self.config, data, name)[0]
        return self.cache[key]


def _case_key(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def tiny_jpeg(seed: int) -> bytes:
    """A small real JPEG whose colour depends on seed (distinct bytes per photo)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (seed * 40 % 256, seed * 90 % 256, seed * 150 % 256)).save(buf, "JPEG")
    return buf.getvalue()


def reissue_of(case: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(case)
    original = data["report"]["number"]
    data["report"]["number"] = original + "R1"
    data["report"]["supersedes"] = original
    data["report"]["reissue_reason"] = "更正笔误"
    return data


def build_kit(base: Path) -> Kit:
    case = example_case()
    names = [(h["name"], h.get("licence_no")) for h in case["handlers"]]
    pki = make_demo_pki(base / "pki", case["firm"]["name"], names, crl_url=None)
    config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), trust_roots=(pki.root_pem,),
                           crls=(pki.crl,))

    sealed, unsealed = _seal(base, config, case, "report")
    sealed_r, _ = _seal(base, config, reissue_of(case), "report-r1")
    kit = Kit(base / "pki", pki.root_pem, pki.crl, pki.firm_p12, dict(pki.handler_p12), sealed, sealed_r, unsealed,
              base, config)
    kit.cache[_case_key(case)] = sealed
    kit.cache[_case_key(reissue_of(case))] = sealed_r
    return kit


def _seal(base: Path, config: SigningConfig, data: dict[str, Any], name: str) -> tuple[Path, Path]:
    plain = base / f"{name}-unsealed.pdf"
    plain.write_bytes(sample_report(data, paragraphs=2))
    out = base / f"{name}.pdf"
    seal_report(plain, out, config, lambda *_: DEMO_PASSPHRASE.encode(), case_raw=data)
    return out, plain


def write_case(folder: Path, data: dict[str, Any], *, photos: bool = True) -> Path:
    """A case folder: case.json plus the photo files it names."""
    folder.mkdir(parents=True, exist_ok=True)
    if photos:
        for i, photo in enumerate(data["survey"]["photos"]):
            target = folder / photo["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tiny_jpeg(i + 1))
    path = folder / "case.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_home(home: Path, kit: Kit, *, checkpoint_every: int = 50, store_url: str | None = None,
               init: bool = True) -> Path:
    """A GONGU_HOME wired to the kit; `store_url`: the catalog on a PostgreSQL server (tests/storekit.py);
    `init`: run `gongu archive init` (a caller that moves `[archive] root` first passes False)."""
    home.mkdir(parents=True, exist_ok=True)
    store = f'[store]\nurl = "{store_url}"\n' if store_url else ""
    (home / "gongu.toml").write_text(store +
        "[signing]\n"
        f'firm_p12 = "{kit.firm_p12}"\n'
        f'trust_roots = ["{kit.root_pem}"]\n'
        f'crls = ["{kit.crl}"]\n'
        "[archive]\n"
        f"checkpoint_every = {checkpoint_every}\n"
        "[people]\n"
        f"names = {json.dumps(PEOPLE, ensure_ascii=False)}\n", encoding="utf-8")
    if init:
        init_home(home)
    return home


def init_home(home: Path) -> None:
    """`gongu archive init` for a test home: the archive's identity in its root and its catalog
    (archive/identity.py), as a firm does once before its first ingest."""
    from archive.identity import init_archive
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    with build_archive(load_settings(home), catch_up=False) as archive:
        init_archive(archive.catalog, archive.root, at=archive.now(), by="test")


def copied_home(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of a prepared GONGU_HOME, made current for the CLI (a test may change it freely)."""
    from tests.storekit import clone_database, home_store_url, point_home_at

    h = tmp_path / "home"
    shutil.copytree(prepared, h)
    url = home_store_url(prepared)
    if url is not None:  # a server catalog: the copy gets its own database, cloned from the prepared one
        point_home_at(h, clone_database(url))
    monkeypatch.setenv("GONGU_HOME", str(h))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    return h



def open_archive(home: Path, now: str | None = None) -> Any:  # archive.store.Archive
    """The archive of `home` as the CLI builds it, telling time by a FixedClock at `now` when given;
    initialised (`gongu archive init`) if the test wrote the home by hand."""
    from archive.identity import catalog_identity, init_archive
    from generator.clock import SYSTEM_CLOCK, FixedClock
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    archive = build_archive(load_settings(home), clock=FixedClock.parse(now) if now is not None else SYSTEM_CLOCK)
    if catalog_identity(archive.catalog) is None:  # a test home written by hand: `gongu archive init` first
        init_archive(archive.catalog, archive.root, at=archive.now(), by="test")
    return archive


def ingested_home(base: Path, kit: Kit, *, reissue: bool = False, checkpoint: bool = False,
                  checkpoint_every: int = 50, at: str = INGESTED_AT, store_url: str | None = None) -> Path:
    """A GONGU_HOME where the example (and, with `reissue`, its R1) was ingested by 档案员甲 and indexed
    by the listener at the time `at` (by default on the day of its closure); `checkpoint` signs a checkpoint after the ingests.
    Tests copy it (copied_home)."""
    from archive.ingest import ingest
    from generator.loading import load_case

    home = write_home(base / "home", kit, checkpoint_every=checkpoint_every, store_url=store_url)
    cases = [(write_case(base / "case", example_case()), kit.sealed)]
    if reissue:
        cases.append((write_case(base / "r1", reissue_of(example_case())), kit.sealed_reissue))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", DEMO_PASSPHRASE)
        with open_archive(home, at) as archive:
            for case, sealed in cases:
                ingest(archive, load_case(case), sealed, by="档案员甲")
            if checkpoint:
                archive.checkpoint()
            assert archive.listener_failures == []
    return home


def person_password(person: str) -> str:
    """The account password of a registered person in these tests (what they would type): one per person,
    never containing the username (the name itself), which the password rules refuse."""
    import hashlib

    return "pw-" + hashlib.sha256(person.encode()).hexdigest()[:12] + "-gongu-2026"


def add_archivists(home: Path, names: list[str] | tuple[str, ...] = tuple(PEOPLE)) -> Path:
    """An archivist account for each person (username = the name), password `person_password`: the CLI's
    hold and disposal steps need the person's own credential (gongu/access/credentials.py)."""
    from tests.webkit import make_account

    for name in names:
        make_account(home, name, {"archivist"}, name, person_password(name))
    return home


def by_env(args: tuple[str, ...] | list[str]) -> dict[str, str]:
    """GONGU_PASSWORD for the person a command names with --by (as if they typed their own password)."""
    from generator.persons import same_person

    args = list(args)
    if "--by" not in args or args.index("--by") + 1 >= len(args):
        return {}
    named = args[args.index("--by") + 1]
    person = next((p for p in PEOPLE if same_person(p, named)), named)
    return {"GONGU_PASSWORD": person_password(person)}
