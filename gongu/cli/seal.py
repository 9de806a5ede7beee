"""`gongu seal`, `gongu verify`, `gongu keys demo`, `gongu tsa serve`. `gongu issue` seals
through the signer it passes to gongu.pipeline.issuing.issue_case (gongu.pipeline.sealing.configured_signer)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gongu.output import GonguError, console, err_console, fail, print_table, text_column, whole_column

if TYPE_CHECKING:
    from gongu.pipeline.check_record import RecordMatch
    from gongu.settings import Settings

commands = typer.Typer()  # this module's commands; gongu.cli.app adds them to the root

keys_app = typer.Typer(help="签章密钥（PKCS#12）与演示 PKI", no_args_is_help=True)
tsa_app = typer.Typer(help="本地时间戳服务（RFC 3161，仅回环地址，演示与测试用）", no_args_is_help=True)
commands.add_typer(keys_app, name="keys")
commands.add_typer(tsa_app, name="tsa")


@contextmanager
def user_errors() -> Iterator[None]:
    """A GonguError becomes its message and exit 2 here too, not only in `main()` (so CliRunner sees it)."""
    try:
        yield
    except GonguError as exc:
        fail(str(exc))


@commands.command("seal")
def seal_command(
    report: Annotated[Path, typer.Argument(help="已生成的报告 PDF", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="输出文件；缺省 <报告名>-sealed.pdf")] = None,
    case: Annotated[Path | None, typer.Option("--case", help="案件文件；缺省读取报告内嵌的案件文件")] = None,
) -> None:
    """为报告签章：公估机构认证签章（DocMDP），再由各承办人员签名；带时间戳，可选 LTV。

    密钥口令只从环境变量（GONGU_FIRM_KEY_PASSPHRASE、GONGU_HANDLER_KEY_PASSPHRASE 或
    GONGU_HANDLER_<序号>_KEY_PASSPHRASE）或隐藏输入的提示读取，不接受命令行参数。
    """
    from gongu.pipeline.sealing import seal_file

    case_raw = None
    if case is not None:
        from gongu.cli.common import load_or_exit

        loaded = load_or_exit(case)  # an invalid case file → every problem listed, exit 2
        case_raw = json.loads(loaded.raw.decode("utf-8-sig"))
    out = output or report.with_name(report.stem + "-sealed.pdf")
    if out.resolve() == report.resolve():
        fail("输出文件不能覆盖原报告（output must differ from the input; the original is kept）")
    with user_errors():
        seal_file(report, out, case_raw=case_raw)
    console.print(f"[green]✓[/] 已签章：{out}")


@commands.command("verify")
def verify_command(
    pdf: Annotated[Path, typer.Argument(help="要验证的 PDF", show_default=False)],
    trust: Annotated[list[Path] | None, typer.Option("--trust", help="信任根证书 PEM（可重复）；缺省取 gongu.toml [signing] trust_roots")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    long_term: Annotated[str | None, typer.Option(
        "--long-term", help="另查：证书过期后（如 2040-01-01）能否仅凭文件内的 LTV 数据验证（B-LTA）")] = None,
    package: Annotated[Path | None, typer.Option(
        "--package", help="与此档案包对该校验码的记录比对文件的 SHA-256（缺省：比对本机档案目录，如有）")] = None,
) -> None:
    """验证 PDF 中的全部签名与文档时间戳；全部完整、有效、可信且签后无不允许的修改、且文件与档案对其校验码的记录
    一致（如有记录）时退出码 0。"""
    from generator.check_code import check_url, printed
    from gongu.pipeline.sealing import signing_config
    from gongu.settings import load_settings
    from signing.completeness import CompletenessPolicy
    from signing.verify import VerifyError, verify_issued_report

    with user_errors():
        settings = load_settings()
        config = signing_config(settings)
    roots = list(trust or (config.trust_roots if config else ()))
    crls = list(config.crls) if config else []
    try:
        # Every signature good AND the complete issued report: each handler of the
        # embedded case file signed, the firm seal, no empty field, timestamps / LTV when [signing] asks.
        report, completeness = verify_issued_report(pdf, roots, crls=crls,
                                                    policy=CompletenessPolicy.from_config(config))
    except VerifyError as exc:
        fail(escape(str(exc)))
    lta: dict[str, bool] | None = None
    if long_term is not None:
        import datetime as dt

        from signing.verify import lta_maintainable

        try:
            at = dt.datetime.fromisoformat(long_term)
        except ValueError:
            fail(escape(f"--long-term 应为日期 YYYY-MM-DD（not a date）：{long_term}"))
        lta = lta_maintainable(pdf, roots, at if at.tzinfo else at.replace(tzinfo=dt.UTC))
    identity, pages = _report_identity(pdf)
    code = _printed_code(pdf)
    if package is not None and code is None:
        fail(escape(f"文件上没有校验码，无法与档案包 {package} 的记录比对（the document carries no check code）"))
    match = _record_match(pdf, code, package, settings) if code else None
    if as_json:
        data = report.as_dict()
        data["complete"] = completeness.complete
        data["missing"] = [{"field": m.field, "code": m.code, "message": m.message} for m in completeness.missing]
        data["embedded_case"] = None if identity is None else {"case_id": identity[0], "report_number": identity[1]}
        data["pages"] = pages
        data["check_code"] = code
        data["check_url"] = check_url(settings.web.public_url, code) if code else None
        data["check_record"] = match.as_dict() if match else None
        if lta is not None:
            data["long_term"] = {"at": long_term, "signatures": lta}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_report(report)
        if identity is not None:
            console.print(escape(f"内嵌案件文件：案件 {identity[0]}，报告 {identity[1]}（{pages} 页）"))
        else:
            console.print("未内嵌案件文件（no embedded case file）")
        if code:
            console.print(escape(f"{printed(code)}（公开校验页：{check_url(settings.web.public_url, code)}）"))
        else:
            console.print("文件上没有校验码（no check code printed on this document）")
        if match is not None:
            _print_match(match)
        for name, ok in (lta or {}).items():
            mark = "[green]✓[/]" if ok else "[red]✗[/]"
            console.print(f"{mark} {name}：{long_term} 时{'仍可' if ok else '无法'}凭文件内的长期验证数据验证"
                          f"（{'verifiable' if ok else 'not verifiable'} after the certificates expire）")
    if not report.ok or (lta is not None and not all(lta.values())) or (match is not None and not match.matches
                                                                         and (match.found or package is not None)):
        raise typer.Exit(1)


def _record_match(pdf: Path, code: str, package: Path | None, settings: Settings) -> RecordMatch | None:
    """The archive's record of the code against the file: the package given, else the home's catalog if any."""
    from archive.catalog import CatalogError
    from archive.errors import ArchiveError
    from gongu.pipeline.check_record import catalog_match, package_match

    if package is not None:
        try:
            return package_match(pdf, code, package)
        except ArchiveError as exc:
            fail(escape(str(exc)))
    try:
        return catalog_match(pdf, code, settings)
    except CatalogError as exc:  # the signatures are still worth reporting when the catalog cannot be read
        err_console.print(escape(f"未能读取档案目录，未与校验码记录比对：{exc}"))
        return None


def _print_match(match: RecordMatch) -> None:
    if not match.found:
        advice = "（该校验码不是此档案包的文书）" if match.source.startswith("档案包") else "（可能尚未归档）"
        console.print(escape(f"{match.source}中没有此校验码的记录{advice}"))
        return
    what = f"{match.number} {match.kind}" + (f"，状态：{match.status}" if match.status else "")
    if match.matches:
        console.print("[green]✓[/] " + escape(f"{match.source}记录此校验码为 {what}；文件 SHA-256 与记录一致"))
    else:
        console.print(escape(f"{match.source}记录此校验码为 {what}；") + "[red]✗[/] " +
                      escape(f"文件 SHA-256 与记录不一致（记录 {match.sha256}）：这不是出具的文件原样"))


def _printed_code(pdf: Path) -> str | None:
    """The check code printed on the document's first page (generator.check_code), None when it carries none."""
    from generator.check_code import code_in_pdf

    try:
        return code_in_pdf(pdf.read_bytes())
    except OSError:
        return None


def _report_identity(pdf: Path) -> tuple[tuple[str, str] | None, int | None]:
    """(case id, report number) of the case file embedded in the report, and its page count (pypdf)."""
    from signing.embedded import ReportPdfError, case_identity, page_count

    try:
        return case_identity(pdf), page_count(pdf)
    except (ReportPdfError, OSError):
        return None, None


def _yes(flag: bool | None) -> str:
    return "—" if flag is None else ("[green]是[/]" if flag else "[red]否[/]")


def _signer_cell(s) -> str:  # noqa: ANN001 — signing.status.SignatureReport
    """Role, person, licence number and organisation of one signature, and whether the organisation is the
    document's own (the institution or firm its embedded case file names)."""
    lines = [f"{s.role or '签名'}：{s.person or s.signer}"]
    if s.licence_no:
        lines.append(f"执业证号 {s.licence_no}")
    if s.organisation:
        own = {True: "（本机构）", False: "（[red]非本机构[/]）", None: ""}[s.own_organisation]
        lines.append(f"{escape(s.organisation)}{own}")
    lines.append(f"证书序列号 {s.serial}")
    return escape(lines[0]) + "\n" + "\n".join(lines[1:])


def _print_report(report) -> None:  # noqa: ANN001 — signing.verify.VerificationReport
    from rich.table import Table

    from signing.status import beijing_text

    head = f"{report.file}：{len(report.signatures)} 个签名，{len(report.document_timestamps)} 个文档时间戳"
    if report.certified:
        head += f"；认证签章 DocMDP P={report.docmdp_level}"
    if report.has_dss:
        head += "；含长期验证数据 (DSS)"
    table = Table(title=escape(head), show_lines=True)
    for col in ("签名域", "签署角色 / 签名人 / 证书", "签名时间 / 时间戳（北京时间）", "完整", "有效", "可信"):
        whole_column(table, col)  # field names, serial numbers and times: none may break
    text_column(table, "签后修改")
    for s in report.signatures + report.document_timestamps:
        ts = "无时间戳" if s.timestamp is None else f"时间戳 {beijing_text(s.timestamp.time)}\n{s.timestamp.tsa_name}"
        changed = s.modification_level or "—"
        if s.changed_fields:
            changed += "\n" + "、".join(s.changed_fields)
        kind = {"certification": "认证", "approval": "签名", "document_timestamp": "文档时间戳"}[s.kind]
        table.add_row(
            f"{s.field}\n（{kind}）",
            _signer_cell(s),
            escape(f"{beijing_text(s.signing_time)}\n{ts}" if s.signing_time else ts),
            _yes(s.intact), _yes(s.valid), _yes(s.trusted), escape(changed),
        )
    print_table(table)
    problems = report.all_problems()
    if problems:
        for p in problems:
            err_console.print(f"[bold red]✗[/] {escape(p)}")
    else:
        console.print("[green]✓[/] 报告签名齐全；全部签名完整、有效、可信，签后无不允许的修改"
                      "（complete: all signatures present and verify）")


@keys_app.command("demo")
def keys_demo(
    directory: Annotated[Path, typer.Argument(help="输出目录", show_default=False)],
    examples: Annotated[Path, typer.Option(help="示例案件目录（证书按其中的承办人员生成）")] = Path("examples"),
    crl_url: Annotated[str, typer.Option(help="证书中的 CRL 分发点（gongu tsa serve 提供）")] = "http://127.0.0.1:8731/crl/root.crl",
) -> None:
    """生成演示 PKI（DEMO — NOT FOR PRODUCTION）：根 CA、机构（含司法鉴定机构）签章证书、承办人员证书（O = 所在公估机构）与鉴定人证书（O = 所在鉴定机构，serialNumber = 执业证号）、独立的时间戳服务证书。"""
    from gongu.demo.keys import example_people, seal_purposes
    from signing.keys import DEMO_MARK, DEMO_PASSPHRASE, make_demo_pki

    with user_errors():
        firms, handlers, organisations = example_people(examples)
    from gongu.settings import home_dir

    # gongu.toml resolves paths against GONGU_HOME: the snippet's paths are relative to it when the keys
    # are inside the home, else absolute — never relative to whatever folder this ran in
    pki = make_demo_pki(directory, firms[0], handlers, crl_url=crl_url, other_firms=firms[1:],
                        seal_purposes=seal_purposes(examples), organisations=organisations,
                        home=home_dir())
    console.print(f"[bold yellow]{DEMO_MARK}[/] 演示密钥已生成：{directory}（口令 {DEMO_PASSPHRASE}，仅供演示）")
    console.print(f"  根证书：{pki.root_pem}\n  机构：{pki.firm_p12}")
    for name, path in pki.firm_p12s.items():
        console.print(f"  机构 {name}：{path}")
    for name, path in pki.handler_p12.items():
        console.print(f"  {name}：{path}")
    console.print(f"gongu.toml 片段：{directory / 'gongu.toml.snippet'}")


@tsa_app.command("serve")
def tsa_serve(
    keys: Annotated[Path, typer.Option("--keys", help="gongu keys demo 生成的目录")],
    # A port outside 0–65535 is bad input (exit 2), not an OverflowError from bind().
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="端口；0 = 随机")] = 8731,
) -> None:
    """在 127.0.0.1 上运行 RFC 3161 时间戳服务（并提供 /crl/ 吊销列表），Ctrl-C 停止。"""
    from signing.keys import KeyError_
    from signing.tsa import LocalTsa, load_timestamper, tsa_passphrase

    if not (keys / "tsa.p12").is_file():
        fail(escape(f"{keys} 中没有 tsa.p12（run `gongu keys demo {keys}` first）"))
    try:
        # The key is read before the port is opened: a TSA that could not answer must not listen.
        load_timestamper(keys / "tsa.p12", tsa_passphrase())
    except (KeyError_, ValueError) as exc:
        fail(escape(f"时间戳服务密钥不可用，未启动（TSA key unusable, not started）：{exc}"))
    try:
        server = LocalTsa(keys, port=port)
    except OSError as exc:
        fail(f"无法监听 127.0.0.1:{port}：{exc.strerror}")
    console.print(f"时间戳服务：{server.url}    CRL：{server.crl_url}    （Ctrl-C 停止）")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
