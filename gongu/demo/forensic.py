"""`make demo` for the forensic examples: validate → check → (a draw record: `gongu draw verify`) →
render → seal and issue → verify (→ archive, once the archive takes forensic cases).

Each example is copied into GONGU_HOME/demo-forensic/<case_id>/ (fresh every run: issuing records the
issuance in the case file, and the bundled example must stay as it is), then issued there with the demo
PKI (gongu.demo.keys.demo_signing): the 司法鉴定意见书 and every other document of the case, each sealed,
each verified as a complete issued document (signing.verify.verify_issued_report).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from rich.markup import escape

from generator.clock import FixedClock
from generator.kinds import Case
from generator.loading import load_case
from generator.persons import person_key
from generator.types import SHANGHAI
from gongu.output import GonguError, console, err_console
from gongu.settings import Settings

DEMO_FOLDER = "demo-forensic"


@dataclass
class ForensicDemoResult:
    case_file: Path  # the working copy the documents were issued from
    primary: Path  # the sealed 司法鉴定意见书
    documents: list[Path] = field(default_factory=list)  # every published PDF, the primary first
    verified: bool = False


def demo_forensic(settings: Settings, cases: list[Path], examples: Path) -> list[ForensicDemoResult]:
    """Run the forensic examples `cases` through check → issue (render + seal) → verify. Every example is
    tried; GonguError (exit 2, as for the survey examples) names each one that failed a step."""
    from dataclasses import replace

    from generator.issuance import IssueRefused
    from generator.render import RenderError
    from generator.rules import run_rules
    from gongu.demo.keys import demo_signing
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from signing.keys import DEMO_PASSPHRASE
    from signing.seal import SealError

    results: list[ForensicDemoResult] = []
    failed: list[str] = []  # every example is tried; the demo fails at the end if any did
    if not cases:
        return results
    with demo_signing(settings.home, examples) as config:
        # The demo shows the optional cross-page seal (骑缝章, docs/sealing.md) on every issued document.
        signer = ConfiguredSigner(replace(config, cross_page_seal=True), passphrase=lambda *_: DEMO_PASSPHRASE.encode())
        people = settings.people.model_copy(update={"names": _with_reviewers(settings.people.names, cases)})
        run_settings = settings.model_copy(update={"toml": settings.toml.model_copy(update={"people": people})})
        for source in cases:
            case = load_case(source).case
            console.rule(escape(f"司法鉴定 {case.case_id} {case.case_name}"))
            findings = run_rules(case, stage="issue", case_dir=source.parent)
            blocking = [f for f in findings if f.severity == "blocking"]
            console.print(f"[green]✓[/] 质量审核：{len(findings)} 项提示，{len(blocking)} 项阻止出具")
            if case.selection.draw_record and not _verify_draw(source.parent, case.selection.draw_record):
                failed.append(f"{source} 的随机抽取记录重新计算不一致")
            work = settings.home / DEMO_FOLDER / case.case_id
            shutil.rmtree(work, ignore_errors=True)  # the demo's own copy, re-issued every run
            shutil.copytree(source.parent, work)
            try:
                issued = issue_case(work / source.name, signer=signer, settings=run_settings,
                                    out_dir=work / "issued", clock=_on_its_date(case))
            except IssueRefused as exc:
                failed.append(f"{source} 不予出具：" + "；".join(exc.reasons))
            except RenderError as exc:
                failed.append(f"{source} 文书生成失败：{exc}")
            except SealError as exc:
                failed.append(f"{source} 签章失败：{exc}")
            else:
                if not _verify_all(issued, work / source.name, config, results):
                    failed.append(f"{source} 签章后验证失败")
                continue
            err_console.print(escape(f"✗ {failed[-1]}"))
    if failed:
        raise GonguError(escape("司法鉴定示例未全部通过：" + "；".join(failed)))
    return results


def _on_its_date(case: Case) -> FixedClock:
    """A rehearsal clock at 16:00 Beijing time on the example's 意见书 date: `gongu issue` refuses a 意见书
    dated other than the day it is sealed (通则 Art 37), and the examples keep their own, coherent dates
    (the time limits and dispute steps are counted from them) rather than being re-dated to today."""
    return FixedClock(datetime.combine(case.report.issued_on, time(16, 0), tzinfo=SHANGHAI))


def _verify_draw(case_dir: Path, reference: str) -> bool:
    """`gongu draw verify` on the example's draw record: the seed, the order and the chosen
    institution re-computed from the record alone."""
    from generator.forensic import draw
    from generator.forensic.draw_link import DrawRecordError, read_draw_record

    try:
        linked = read_draw_record(case_dir, reference)
    except DrawRecordError as exc:
        err_console.print(escape(f"✗ gongu draw verify {reference}：{exc}"))
        return False
    problems = draw.verify_record(linked.data)
    if problems:
        err_console.print(escape(f"✗ gongu draw verify {reference}：" + "；".join(f"{p.title}：{p.message}" for p in problems)))
        return False
    chosen = linked.data["chosen"]
    console.print(escape(f"✓ gongu draw verify {reference}：重新计算一致；种子 {linked.data['seed'][:16]}…，"
                         f"顺序 {'、'.join(o['licence_no'] for o in linked.data['order'])}，"
                         f"选定 {chosen['name']}（{chosen['licence_no']}）"), soft_wrap=True)
    return True


def _verify_all(issued: Any, case_file: Path, config: Any, results: list[ForensicDemoResult]) -> bool:
    """Verify every published PDF as a complete issued document; record the example's result."""
    from generator.check_code import code_in_pdf, printed
    from signing.completeness import CompletenessPolicy
    from signing.verify import verify_issued_report

    pdfs = [issued.files["pdf"]] + [files["pdf"] for _t, files in issued.documents.values() if "pdf" in files]
    console.print(escape(f"✓ 已出具并签章 {issued.number}：{len(pdfs)} 份文书 → {case_file.parent / 'issued'}"))
    ok = True
    for pdf in pdfs:
        report, completeness = verify_issued_report(pdf, config.trust_roots, crls=config.crls,
                                                    policy=CompletenessPolicy.from_config(config))
        signed = "、".join(completeness.signed_fields)
        code = code_in_pdf(pdf.read_bytes())  # printed on the document with its QR code (gongu verify reads it too)
        if report.ok:
            console.print(escape(f"  ✓ 验证通过（{signed}）：{pdf.name}" + (f"，{printed(code)}" if code else "")))
        else:
            ok = False
            err_console.print(escape(f"  ✗ 验证失败：{pdf.name}：{'；'.join(report.all_problems())}"))
    results.append(ForensicDemoResult(case_file, issued.files["pdf"], pdfs, ok))
    return ok


def _with_reviewers(names: list[str], cases: list[Path]) -> list[str]:
    """The demo home's registered people plus the examples' reviewers (a demo home made before the forensic
    examples existed does not list them; `gongu issue` counts only registered reviewers' approvals)."""
    out = list(names)
    keys = {person_key(n) for n in out}
    for path in cases:
        for review in load_case(path).case.reviews:
            if person_key(review.reviewer) not in keys:
                keys.add(person_key(review.reviewer))
                out.append(review.reviewer)
    return out


def archive_forensic(settings: Settings, results: list[ForensicDemoResult]) -> bool:
    """Archive the issued forensic examples (gongu.demo.archive.demo_archive_forensic); its verdict."""
    from gongu.demo.archive import demo_archive_forensic

    return demo_archive_forensic(settings, [(r.case_file, r.primary) for r in results])


# A commission received on this day runs its 30 working days into a year the shipped calendar lacks.
ESTIMATE_DEMO_RECEIVED = "2026-12-14"


def show_estimated_deadline(example: Path) -> None:
    """The time limits of `example` as if received on ESTIMATE_DEMO_RECEIVED on the statutory 30 working
    days: the Art 13 decision is exact, the Art 28 deadline an estimate (估算), and the sentence that tells
    the firm how to add the year (generator/forensic/holiday_calendar.py)."""
    import json

    from generator.forensic.workdays import calendar_note, time_limits
    from generator.loading import validate_data
    from gongu.output import print_table
    from gongu.pipeline.adjust_view import time_limits_table

    data = json.loads(example.read_text(encoding="utf-8"))
    data["timeline"].update(received_at=f"{ESTIMATE_DEMO_RECEIVED}T10:00:00+08:00",
                            accepted_at=f"{ESTIMATE_DEMO_RECEIVED}T15:00:00+08:00",
                            effective_on=ESTIMATE_DEMO_RECEIVED, completed_on=None, extensions=[], suspensions=[])
    data["commission"].pop("agreed_working_days", None)
    case = validate_data(data, f"{example}（收到委托日改为 {ESTIMATE_DEMO_RECEIVED}）")
    limits = time_limits(case)  # type: ignore[arg-type]
    print_table(time_limits_table(case, limits))  # type: ignore[arg-type]
    note = calendar_note(limits)
    if note:
        console.print(f"[yellow]估算[/]：{escape(note)}")
