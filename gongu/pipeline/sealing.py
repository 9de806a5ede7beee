"""Sealing as the application uses it: settings → keys → signing.seal, passphrases from the
environment or a hidden prompt (never the command line, never logged), and the signer `gongu issue`
passes to issue_case."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

# GonguError messages are printed as rich markup (gongu.output.fail): "[signing]" must be escaped.
from gongu.output import GonguError
from gongu.settings import Settings, load_settings
from signing.keys import passphrase_from_env
from signing.seal import PassphraseSource, SealError, SigningConfig, seal_report

FIRM_ENV = "GONGU_FIRM_KEY_PASSPHRASE"
HANDLER_ENV = "GONGU_HANDLER_KEY_PASSPHRASE"


def handler_env(index: int) -> str:
    """Per-signer override, numbered as the document's fields are: a survey's handlers in case order
    (handler-1 …), a forensic 意见书's appraisers in the order of report.signatures (appraiser-1 …; a 补正书:
    its signed_by)."""
    return f"GONGU_HANDLER_{index}_KEY_PASSPHRASE"


def signing_config(settings: Settings | None = None) -> SigningConfig | None:
    settings = settings or load_settings()
    return settings.signing_config()


class EnvOrPrompt:
    """Passphrase source: per-signer variable, then the shared one, then a hidden prompt on a terminal."""

    def __init__(self, handler_order: list[str] | None = None) -> None:
        self.handler_order = handler_order or []

    def __call__(self, role: str, name: str, path: Path) -> bytes | None:
        if role == "firm":
            names = [FIRM_ENV]
        else:
            index = self.handler_order.index(name) + 1 if name in self.handler_order else None
            names = ([handler_env(index)] if index else []) + [HANDLER_ENV]
        value = passphrase_from_env(*names)
        if value is not None:
            return value
        if not sys.stdin.isatty():
            raise SealError(
                f"未提供 {name} 的密钥口令：请设置环境变量 {' 或 '.join(names)}（no passphrase for {path.name}: set {names[0]}）"
            )
        return typer.prompt(f"{name} 的密钥口令（{path.name}）", hide_input=True).encode("utf-8")


def seal_file(report: Path, output: Path, *, case_raw: dict | None = None,
              settings: Settings | None = None) -> Path:
    config = signing_config(settings)
    if config is None:
        raise GonguError(escape("gongu.toml 中没有 [signing] 配置（no [signing] section; see `gongu keys demo`）"))
    quiet_pyhanko()
    try:
        if case_raw is None:
            # Handlers are numbered as in the embedded case file, so GONGU_HANDLER_<n>_KEY_PASSPHRASE
            # applies without --case too (docs/sealing.md).
            case_raw = _embedded_case(report)
        # A forensic document: appraisers' fields → the 意见书, none → sealed by the institution alone.
        role = _document_role(report, case_raw)
        return seal_report(report, output, config, EnvOrPrompt(handler_order(case_raw, role)), case_raw=case_raw,
                           role=role).output
    except SealError as exc:
        raise GonguError(escape(str(exc))) from None


def _embedded_case(report: Path) -> dict[str, Any]:
    from signing.seal import report_case

    try:
        data = report.read_bytes()
    except OSError as exc:
        raise SealError(f"无法读取报告 {report}（cannot read report）：{exc.strerror}") from None
    return report_case(data, report)


def _document_role(report: Path, case_raw: dict[str, Any]) -> str:
    """Which document of a forensic case `report` is: by the title and number it states (the draw record, a
    调解记录 or 解释说明), else by its fields (signing.signers.infer_role)."""
    from signing.embedded import document_info
    from signing.seal import signature_field_names
    from signing.signers import infer_role, is_forensic

    if not is_forensic(case_raw):
        return "report"
    try:
        data = report.read_bytes()
        title, keywords = document_info(data)
        return infer_role(case_raw, signature_field_names(data), title=title, keywords=keywords)
    except Exception:  # unreadable here: seal_report says what is wrong with the file
        return "report"


def handler_order(case_raw: dict[str, Any] | None, role: str = "report") -> list[str]:
    """The signers of the document of `role` in field order (signing.signers): GONGU_HANDLER_<n>_KEY_PASSPHRASE
    numbers them so."""
    from signing.signers import document_signers, is_forensic

    if not is_forensic(case_raw):
        return [str(h.get("name")) for h in (case_raw or {}).get("handlers", []) if isinstance(h, dict)]
    try:
        return [p.name for p in document_signers(case_raw or {}, role).people]
    except ValueError:
        return []


def quiet_pyhanko() -> None:
    """pyHanko logs warnings and its own tracebacks (SuspiciousModification, PathValidationError) while it
    validates or embeds revocation data; the verdict is ours to report, so the CLI does not echo them."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class ConfiguredSigner:
    """The `ReportSigner` `gongu issue` passes to issue_case: gongu.toml's [signing] keys, passphrases from
    the environment or a hidden prompt (or `passphrase`, e.g. in tests), handlers numbered as in the case."""

    config: SigningConfig
    passphrase: PassphraseSource | None = None

    def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any], *, role: str | None = None,
             title: str | None = None) -> Path:
        """`role` / `title`: which document of a forensic case this is (signing.signers), as issue_case
        knows from the renderer; None for a survey report."""
        quiet_pyhanko()
        source = self.passphrase or EnvOrPrompt(handler_order(case_raw, role or "report"))
        return seal_report(pdf, output, self.config, source, case_raw=case_raw, role=role, title=title).output


def configured_signer(settings: Settings | None = None) -> ConfiguredSigner | None:
    """The firm's signer, or None when gongu.toml has no [signing] section (issue then refuses)."""
    config = signing_config(settings)
    return None if config is None else ConfiguredSigner(config)
