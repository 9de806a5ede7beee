"""`make demo`: the main job on every bundled example."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from generator.adjust import adjust
from generator.amounts import format_amount, rmb_uppercase
from generator.kinds import is_forensic
from generator.loading import CaseFileError, load_case
from gongu.output import GonguError, console, print_problems
from gongu.pipeline.adjust_view import adjustment_table
from gongu.settings import load_settings


def run_demo(examples: Path) -> None:
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    cases = sorted(examples.glob("*/case.json")) + sorted(examples.glob("*.json"))
    if not cases:
        raise GonguError(f"{examples} 中没有示例案件")
    console.rule(f"Gongu demo — {len(cases)} 个示例，数据目录 {settings.home}")
    forensic: list[Path] = []  # run through gongu.demo.forensic after the survey examples
    for path in cases:
        try:
            loaded = load_case(path)
        except CaseFileError as exc:
            print_problems(exc.source, exc.problems)
            raise GonguError(f"示例 {path} 校验失败") from None
        case = loaded.case
        console.rule(f"{case.case_id} {case.case_name}")
        console.print(f"[green]✓[/] 校验通过：{path}")
        if is_forensic(case):
            forensic.append(path)
            continue
        result = adjust(case)
        console.print(adjustment_table(case, result))
        console.print(f"理算金额：[bold]{format_amount(result.total_payable)}[/] 元（{rmb_uppercase(result.total_payable)}）")
    # Every example also becomes a report (PDF/A-3a + DOCX) in GONGU_HOME/reports.
    from gongu.cli.render import render_many

    reports = settings.home / "reports"
    console.rule(f"公估报告 → {reports}")
    pdfs: list[Path] = []
    cases = [c for c in cases if c not in forensic]
    for outcome in render_many(cases, reports, ("pdf", "docx"), None, jobs=2):
        if not outcome.ok:
            raise GonguError(f"示例 {outcome.case_file} 报告生成失败：{outcome.message}")
        console.print(f"[green]✓[/] {outcome.case_file} → {', '.join(outcome.outputs)}（{outcome.pages} 页）")
        pdfs += [Path(p) for p in outcome.outputs if p.endswith(".pdf")]
    # Seal each report (demo PKI, loopback TSA), then verify it.
    from gongu.demo.keys import demo_seal

    console.rule("签章与验证（DEMO — NOT FOR PRODUCTION 演示密钥）")
    for _report, sealed, ok in demo_seal(pdfs, settings.home, examples):
        if not ok:
            raise GonguError(f"签章后验证失败：{sealed}")
        console.print(f"[green]✓[/] 已签章并验证：{sealed}")
    # Archive every sealed example (BagIt package, catalog, signed log) and audit the archive.
    from gongu.demo.archive import demo_archive

    console.rule(f"归档与四性检测 → {settings.home / 'archive'}")
    if not demo_archive(settings, cases, sorted(reports.rglob("*-sealed.pdf"))):
        raise GonguError("档案审计未通过")
    # Full-text search over the archived examples (index rebuilt from the packages on disk).
    from gongu.cli.search import demo_search

    console.rule("全文检索（Whoosh + jieba）")
    if not demo_search(settings):
        raise GonguError("检索未找到已归档的示例")
    # The forensic examples — check, issue every document (rendered, sealed), verify each; then
    # the archive, once it takes forensic cases (gongu.demo.forensic.archive_forensic says if it does not).
    if forensic:
        from gongu.demo.forensic import archive_forensic, demo_forensic

        console.rule("司法鉴定示例：审核 → 生成文书 → 签章出具 → 验证（DEMO 演示密钥）")
        issued = demo_forensic(settings, forensic, examples)
        if archive_forensic(settings, issued) is False:
            raise GonguError("司法鉴定案件归档未通过")
        # Sichuan 五(三): the work ledger of the archived appraisals, as an institution would keep it.
        from gongu.cli.ledger import export_cmd

        console.rule("工作台账（川司鉴协〔2022〕7号 五(三)）")
        years = sorted({day.year for day in _received_dates(forensic)})
        export_cmd(from_=f"{years[0]}-01-01", to=f"{years[-1]}-12-31", fmt="xlsx",
                   output=settings.home / "demo-ledger.xlsx", cases=None)
        from gongu.demo.forensic import show_estimated_deadline

        console.rule("在办案件的鉴定时限：期限跨入尚无官方节假日安排的年份（估算）")
        show_estimated_deadline(forensic[0])
    # The web workspace over this demo home, one account per role.
    from gongu.demo.web import demo_accounts

    console.rule("网页工作台（gongu serve）演示账户")
    demo_accounts(settings)
    from gongu.demo.workday import demo_workday

    console.rule("工作台的一天：在办案件、待办期限、经后台任务出具")
    demo_workday(settings, examples)


def _received_dates(paths: list[Path]) -> list[date]:
    """The Beijing dates the forensic examples' commissions were received (the ledger's range)."""
    from generator.forensic.model import ForensicAppraisalCase
    from generator.types import beijing_date

    out = []
    for path in paths:
        case = load_case(path).case
        if isinstance(case, ForensicAppraisalCase):
            out.append(beijing_date(case.timeline.received_at))
    return out
