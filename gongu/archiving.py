"""Building the Archive from settings: root and catalog paths, the firm key that signs log checkpoints,
the PAdES verifier with the configured trust roots, and the search-index listener. Kept apart from
the typer commands so worker processes (and the web app later) build the same Archive cheaply."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.store import Archive, ArchiveConfig, system_clock
from gongu.output import GonguError
from gongu.settings import Settings
from signing.status import Verifier, VerifyOutcome

FIRM_PASSPHRASE_ENV = "GONGU_FIRM_KEY_PASSPHRASE"

# Tests and rehearsals move the clock (hidden --now, or GONGU_NOW read by archive.store.system_clock)
# to check retention expiry without waiting 15 years; disposal events also record the wall clock.
now_override: datetime | None = None


def _clock() -> datetime:
    return now_override if now_override is not None else system_clock()


def signing_config(settings: Settings):  # noqa: ANN201 — signing.seal.SigningConfig | None
    section = settings.section("signing")
    if not section.get("firm_p12"):
        return None
    from signing.seal import SealError, SigningConfig

    try:
        return SigningConfig.from_section(section, settings.home)
    except SealError as exc:
        raise GonguError(str(exc)) from None


def make_verifier(trust_roots: list[Path], crls: list[Path]) -> Verifier | None:
    """The PAdES verifier of signing/verify.py behind the archive's small interface."""
    if not trust_roots:
        return None
    from signing.verify import VerifyError, verify_pdf

    def verify(path: Path) -> VerifyOutcome:
        try:
            report = verify_pdf(path, trust_roots, crls=crls)
        except VerifyError as exc:
            return VerifyOutcome(False, str(exc))
        except Exception as exc:  # a validator crash on a hostile file is a failed check, never a traceback
            return VerifyOutcome(False, f"签章核验出错：{type(exc).__name__}: {exc}")
        problems = report.all_problems()
        signers = [s.signer for s in report.signatures]
        summary = f"{len(signers)} 个签名有效：{'、'.join(signers)}" if report.ok else "；".join(problems[:4])
        return VerifyOutcome(report.ok, summary, {"signers": signers, "certified": report.certified,
                                                  "problems": problems})

    return verify


def build_archive(settings: Settings, *, need_signer: bool = False) -> Archive:
    from archive.eventlog import CheckpointSigner, SignerError

    try:
        config = ArchiveConfig.under(settings.home, settings.section("archive"))
    except ValueError as exc:
        raise GonguError(str(exc)) from None
    cfg = signing_config(settings)
    signer = None
    if cfg is not None:
        passphrase = os.environ.get(FIRM_PASSPHRASE_ENV)
        try:
            signer = CheckpointSigner.from_pkcs12(cfg.firm_p12, passphrase.encode() if passphrase is not None else None)
        except SignerError as exc:
            if need_signer:
                raise GonguError(f"{exc}（口令取自环境变量 {FIRM_PASSPHRASE_ENV}）") from None
    if need_signer and signer is None:
        raise GonguError("未配置机构签章密钥（gongu.toml [signing] firm_p12），无法签署日志检查点")
    verifier = make_verifier(list(cfg.trust_roots), list(cfg.crls)) if cfg else None
    archive = Archive(config, signer=signer, verifier=verifier, clock=_clock)
    try:
        from gongu.indexing import subscribe_index

        subscribe_index(archive, settings)
    except ImportError:  # the search index is optional for the archive
        pass
    return archive


def trusted_firm_certs(archive: Archive) -> list[Any]:
    return [archive.signer.certificate] if archive.signer else []




def demo_archive(settings: Settings, case_files: list[Path], sealed_reports: list[Path]) -> bool:
    """`make demo`: archive every sealed example (BagIt package, catalog, signed log checkpoint with the
    demo firm key), then audit the whole archive. A report already archived is kept as it is: the
    demo re-renders each run, and an archived report is never overwritten. Returns the audit verdict."""
    import tomllib

    from rich.markup import escape

    from archive.audit import audit, summary_lines
    from archive.eventlog import CheckpointSigner
    from archive.ingest import IngestRefused, ingest
    from generator.loading import load_case
    from gongu.output import console
    from signing.embedded import embedded_case
    from signing.keys import DEMO_PASSPHRASE
    from signing.seal import SigningConfig

    keys = settings.home / "demo-keys"
    section = tomllib.loads((keys / "gongu.toml.snippet").read_text(encoding="utf-8"))["signing"]
    cfg = SigningConfig.from_section(section, keys)
    config = ArchiveConfig.under(settings.home, settings.section("archive"))
    signer = CheckpointSigner.from_pkcs12(cfg.firm_p12, DEMO_PASSPHRASE.encode())
    archive = Archive(config, signer=signer, verifier=make_verifier(list(cfg.trust_roots), list(cfg.crls)))
    try:
        from gongu.indexing import subscribe_index

        subscribe_index(archive, settings)
    except ImportError:
        pass
    by_number: dict[tuple[str, str], Path] = {}
    for pdf in sealed_reports:
        raw = embedded_case(pdf.read_bytes())
        if raw:
            by_number[(str(raw.get("case_id")), str(raw.get("report", {}).get("number")))] = pdf
    with archive:
        for case_file in case_files:
            loaded = load_case(case_file)
            key = (loaded.case.case_id, loaded.case.report.number)
            if archive.catalog.packages(key[0]) and any(r["report_number"] == key[1] for r in archive.catalog.packages(key[0])):
                console.print(f"[green]✓[/] 已在档案中（原件保留，不覆盖）：{key[0]} 报告 {key[1]}")
                continue
            try:
                result = ingest(archive, loaded, by_number.get(key), by="demo")
            except IngestRefused as exc:
                console.print("[red]✗[/] " + escape(f"未归档 {key[0]}：{'；'.join(exc.reasons)}"))
                return False
            console.print(f"[green]✓[/] 已归档：{key[0]} 报告 {key[1]} → {result.path}")
        archive.checkpoint()
        verdict = audit(archive, trusted_certs=[signer.certificate])
        for line in summary_lines(verdict):
            console.print(escape(line))
    return verdict.ok
