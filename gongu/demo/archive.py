"""The demo home's archive: every sealed example archived (BagIt package, catalog, signed log checkpoint
with the demo firm key), audited and searched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gongu.output import GonguError
from gongu.pipeline.archiving import archive_config, completeness_policy, make_verifier
from gongu.settings import Settings, parse_config


def _demo_archive(settings: Settings) -> tuple[Any, Any]:  # (archive.store.Archive, CheckpointSigner)
    """The demo home's archive: checkpoints signed with the demo firm key, reports verified against the
    demo PKI, the search index following it."""
    from archive.errors import ArchiveError
    from archive.eventlog import CheckpointSigner
    from archive.store import Archive
    from signing.keys import DEMO_PASSPHRASE

    keys = settings.home / "demo-keys"
    snippet = keys / "gongu.toml.snippet"
    signing = parse_config(snippet.read_text(encoding="utf-8"), str(snippet)).signing
    assert signing is not None  # make_demo_pki always writes [signing]
    cfg = signing.to_config(settings.home)  # the snippet's paths are relative to GONGU_HOME (signing/keys.py)
    signer = CheckpointSigner.from_pkcs12(cfg.firm_p12, DEMO_PASSPHRASE.encode())
    archive = Archive(archive_config(settings), signer=signer,
                      verifier=make_verifier(list(cfg.trust_roots), list(cfg.crls), completeness_policy(cfg)))
    from archive.identity import init_archive

    try:  # the demo home is its own archive: initialised on its first run (a firm runs gongu archive init)
        init_archive(archive.catalog, archive.root, at=archive.now(), by="demo")
    except ArchiveError as exc:
        archive.close()
        raise GonguError(str(exc)) from None
    from gongu.pipeline.indexing import subscribe_index

    subscribe_index(archive, settings)
    return archive, signer


def demo_archive_forensic(settings: Settings, issued: list[tuple[Path, Path]]) -> bool:
    """`make demo`: archive each issued forensic example — (its case file, its sealed primary
    PDF), the companion documents beside it — then audit the archive and search it for 类型:司法鉴定.
    A case already archived is kept as it is (the demo re-issues every run; an archived package is never
    overwritten). Returns the verdict."""
    from rich.markup import escape

    from archive.audit import audit, summary_lines
    from archive.ingest import IngestRefused, ingest
    from generator.loading import load_case
    from gongu.output import console

    archive, signer = _demo_archive(settings)
    with archive:
        for case_file, primary in issued:
            loaded = load_case(case_file)
            case_id, number = loaded.case.case_id, loaded.case.report.number
            if archive.catalog.package(case_id, number) is not None:
                console.print(escape(f"✓ 已在档案中（原件保留，不覆盖）：{case_id} 文书 {number}"))
                continue
            try:
                result = ingest(archive, loaded, primary, by="demo")
            except IngestRefused as exc:
                console.print("[red]✗[/] " + escape(f"未归档 {case_id}：{'；'.join(exc.reasons)}"))
                return False
            console.print(escape(f"✓ 已归档：{case_id} 文书 {number} → {result.path}"))
            for ev in archive.catalog.events(case_id):  # the draw, logged with the ingest
                if ev.kind == "draw":
                    console.print(escape(f"  ✓ 防篡改日志第 {ev.seq} 条：随机抽取（记录 SHA-256 {ev.details['record_sha256'][:16]}…，"
                                         f"选定 {ev.details['chosen_name']} {ev.details['chosen_licence']}）"), soft_wrap=True)
        archive.checkpoint()
        verdict = audit(archive, trusted_certs=[signer.certificate])
        for line in summary_lines(verdict):
            console.print(escape(line))
    from gongu.pipeline.indexing import open_index
    from index.query import parse_query

    hits = open_index(settings).search(parse_query("类型:司法鉴定", page_size=50))
    console.print(escape(f"检索「类型:司法鉴定」：{hits.total} 件 — "
                         + "；".join(f"{h.fields.get('case_id')} {'、'.join(map(str, h.fields.get('result') or []))}"
                                    for h in hits.hits)))
    return verdict.ok and hits.total >= len(issued)


def demo_archive(settings: Settings, case_files: list[Path], sealed_reports: list[Path]) -> bool:
    """`make demo`: archive every sealed example (BagIt package, catalog, signed log checkpoint with the
    demo firm key), then audit the whole archive. A report already archived is kept as it is: the
    demo re-renders each run, and an archived report is never overwritten. Returns the audit verdict."""
    from rich.markup import escape

    from archive.audit import audit, summary_lines
    from archive.ingest import IngestRefused, ingest
    from generator.loading import load_case
    from gongu.output import console
    from signing.embedded import embedded_case

    archive, signer = _demo_archive(settings)
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
