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
from generator.atomic import atomic_write
from gongu.output import GonguError, err_console
from gongu.settings import Settings, load_settings, parse_config
from signing.keys import passphrase_from_env
from signing.seal import PassphraseSource, SealError, SigningConfig, seal_report

FIRM_ENV = "GONGU_FIRM_KEY_PASSPHRASE"
HANDLER_ENV = "GONGU_HANDLER_KEY_PASSPHRASE"


def handler_env(index: int) -> str:
    """Per-handler override, numbered as in the case file (and the field names handler-1 …)."""
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
        return seal_report(report, output, config, EnvOrPrompt(handler_order(case_raw)), case_raw=case_raw).output
    except SealError as exc:
        raise GonguError(escape(str(exc))) from None


def _embedded_case(report: Path) -> dict[str, Any]:
    from signing.seal import report_case

    try:
        data = report.read_bytes()
    except OSError as exc:
        raise SealError(f"无法读取报告 {report}（cannot read report）：{exc.strerror}") from None
    return report_case(data, report)


def handler_order(case_raw: dict[str, Any] | None) -> list[str]:
    return [str(h.get("name")) for h in (case_raw or {}).get("handlers", []) if isinstance(h, dict)]


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

    def seal(self, pdf: Path, output: Path, case_raw: dict[str, Any]) -> Path:
        quiet_pyhanko()
        source = self.passphrase or EnvOrPrompt(handler_order(case_raw))
        return seal_report(pdf, output, self.config, source, case_raw=case_raw).output


def configured_signer(settings: Settings | None = None) -> ConfiguredSigner | None:
    """The firm's signer, or None when gongu.toml has no [signing] section (issue then refuses)."""
    config = signing_config(settings)
    return None if config is None else ConfiguredSigner(config)


def demo_people_toml(examples: Path) -> str:
    """`[people]` for the demo home: every handler and reviewer named in the examples, so the names the
    examples use can record reviews and disposals there (gongu.toml people.names)."""
    import json

    names: dict[str, None] = {}
    for path in sorted(examples.glob("*/case.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for person in [*raw.get("handlers", []), *raw.get("reviews", [])]:
            if isinstance(person, dict) and (name := person.get("name") or person.get("reviewer")):
                names.setdefault(str(name))
    listed = ", ".join(json.dumps(n, ensure_ascii=False) for n in names)
    return f"\n[people]   # who may record reviews and disposals (gongu review --reviewer, archive dispose --by)\nnames = [{listed}]\n"


def demo_seal(reports: list[Path], home: Path, examples: Path) -> list[tuple[Path, Path, bool]]:
    """`make demo`: seal the rendered example reports with the demo PKI (made once in
    GONGU_HOME/demo-keys), timestamps from a loopback TSA started for the run, then verify each.

    Uses the demo passphrase directly: these keys are DEMO — NOT FOR PRODUCTION by construction.
    Returns (report, sealed, verified) per report.
    """
    import json

    from gongu.cli_seal import _example_people
    from signing.keys import DEMO_PASSPHRASE, make_demo_pki
    from signing.tsa import LocalTsa
    from signing.verify import verify_pdf

    quiet_pyhanko()
    keys = home / "demo-keys"
    out: list[tuple[Path, Path, bool]] = []
    with LocalTsa(keys, DEMO_PASSPHRASE.encode()) as tsa:
        if not (keys / "trust" / "root.pem").is_file():
            firms, handlers = _example_people(examples)
            make_demo_pki(keys, firms[0], handlers, crl_url=tsa.crl_url, other_firms=firms[1:])
        snippet = (keys / "gongu.toml.snippet").read_text(encoding="utf-8")
        config_file = home / "gongu.toml"
        if not config_file.exists():
            # So that `gongu verify`, `gongu archive audit`, `gongu review` … work in the demo home
            # afterwards (the examples' staff registered as people); a firm's own gongu.toml is never touched.
            atomic_write(config_file, (snippet + demo_people_toml(examples)).encode("utf-8"))
        signing = parse_config(snippet, str(keys / "gongu.toml.snippet")).signing
        assert signing is not None  # make_demo_pki always writes [signing]
        config = signing.model_copy(update={"tsa_url": tsa.url}).to_config(keys)
        for report in reports:
            sealed = report.with_name(report.stem + "-sealed.pdf")
            sealed.unlink(missing_ok=True)  # the demo re-renders each run
            seal_report(report, sealed, config, lambda *_: DEMO_PASSPHRASE.encode())
            result = verify_pdf(sealed, config.trust_roots, crls=config.crls)
            out.append((report, sealed, result.ok))
            if not result.ok:
                err_console.print(json.dumps(result.all_problems(), ensure_ascii=False))
    return out
