"""The demo PKI for the bundled examples: whom it makes certificates for, the signing set-up of a demo
run (keys made once in GONGU_HOME/demo-keys, a loopback TSA) and sealing the rendered example reports.
These keys are DEMO — NOT FOR PRODUCTION by construction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.markup import escape

from generator.atomic import atomic_write
from gongu.output import GonguError, err_console
from gongu.pipeline.sealing import quiet_pyhanko
from gongu.settings import parse_config
from signing.seal import SigningConfig, seal_report


def example_cases(examples: Path) -> Iterator[dict]:
    for path in sorted(examples.glob("*/case.json")) + sorted(examples.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(raw, dict):
            yield raw


def seal_purposes(examples: Path) -> dict[str, str]:
    """A forensic institution's demo seal certificate reads 司法鉴定专用章 (通则 Art 36–40), not 公估专用章."""
    from signing.signers import MEDIATION_SEAL, firm_name, is_forensic

    purposes = {name: "司法鉴定专用章" for raw in example_cases(examples)
                if is_forensic(raw) and (name := firm_name(raw))}
    # A mediation committee seals its own 调解记录 (Sichuan 五(一); signing.signers).
    for raw in example_cases(examples):
        for committee in _committees(raw):
            purposes.setdefault(committee, MEDIATION_SEAL)
    return purposes


def _committees(raw: dict) -> list[str]:
    """The mediation committees of a forensic case's dispute steps (their 调解记录 carry their own seal)."""
    return [str(st["by"]) for d in raw.get("disputes") or [] if isinstance(d, dict)
            for st in d.get("steps") or [] if isinstance(st, dict) and st.get("kind") == "mediation" and st.get("by")]


def _party_signers(raw: dict) -> list[str]:
    """The parties who sign a forensic case's documents: the sides of a verifiable draw (its record,
    Sichuan 二(三)) and the participants of a mediation (the committee's 调解记录, 五(一))."""
    selection = raw.get("selection") if isinstance(raw.get("selection"), dict) else {}
    names = [str(n) for n in selection.get("agreed_by") or []] if selection.get("draw_record") else []
    names += [str(n) for d in raw.get("disputes") or [] if isinstance(d, dict)
              for st in d.get("steps") or [] if isinstance(st, dict) and st.get("kind") == "mediation"
              for n in st.get("participants") or []]
    return names


def example_people(examples: Path) -> tuple[list[str], list[tuple[str, str | None]], dict[str, str]]:
    """Every firm or forensic institution, every handler or appraiser (name, licence number), and the
    organisation each person's certificate names, of the examples: whom `gongu keys demo` and the demo make
    certificates for. An appraiser is bound to the institution of their case (通则 Art 19: the institution
    designates its own appraisers), a handler to the firm of theirs."""
    from signing.signers import firm_name, is_forensic

    firms: dict[str, None] = {}
    people: dict[str, str | None] = {}
    organisations: dict[str, str] = {}
    # Survey firms first: the first is firm_p12 (the default seal, and the demo archive's checkpoint key)
    # as before the forensic examples; each institution gets its own key under [signing.firms].
    cases = sorted(example_cases(examples), key=is_forensic)
    for raw in cases:
        if name := firm_name(raw):
            firms.setdefault(name)
        signers = raw.get("appraisers", []) if is_forensic(raw) else raw.get("handlers", [])
        for h in signers if isinstance(signers, list) else []:
            if isinstance(h, dict) and h.get("name"):
                people.setdefault(str(h["name"]), h.get("licence_no"))
                if name:
                    organisations.setdefault(str(h["name"]), name)
        if is_forensic(raw):
            for committee in _committees(raw):
                firms.setdefault(committee)
            for party in _party_signers(raw):
                people.setdefault(party, None)  # a party holds no practising licence and no institution:
                organisations.setdefault(party, party)  # its certificate names the party itself, not a firm
    if not people:
        raise GonguError(escape(f"{examples} 中没有示例案件的承办人员（no handlers found in examples）"))
    return list(firms) or ["公估机构"], list(people.items()), organisations


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
        # a forensic case's appraisers sign, its reviewers (校对 / 复核 / 签发) record reviews
        for person in [*raw.get("handlers", []), *raw.get("appraisers", []), *raw.get("reviews", [])]:
            if isinstance(person, dict) and (name := person.get("name") or person.get("reviewer")):
                names.setdefault(str(name))
    listed = ", ".join(json.dumps(n, ensure_ascii=False) for n in names)
    return f"\n[people]   # who may record reviews and disposals (gongu review --reviewer, archive dispose --by)\nnames = [{listed}]\n"


def demo_drafting_toml(examples: Path) -> str:
    """`[drafting]` for the demo home: the firm of the slope-collapse example and the institution of the first
    forensic example, copied into each case created in the workspace (/cases/new)."""
    import json

    import tomli_w

    found: dict[str, dict[str, object]] = {}
    # the demo accounts are the slope-collapse example's people: its firm first
    paths = sorted(examples.glob("*/case.json"), key=lambda p: (p.parent.name != "slope-collapse", p.parent.name))
    for path in paths:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        for key in ("firm", "institution"):
            if isinstance(raw.get(key), dict):
                found.setdefault(key, raw[key])
    return "\n" + tomli_w.dumps({"drafting": found}) if found else ""


@contextmanager
def demo_signing(home: Path, examples: Path) -> Iterator[SigningConfig]:
    """The demo's signing set-up while the block runs: the demo PKI (made once in GONGU_HOME/demo-keys, for
    every firm, forensic institution, handler and appraiser of the examples), a loopback TSA started for
    the run, and gongu.toml written in the demo home if it has none."""
    from signing.keys import DEMO_PASSPHRASE, demo_organisations, make_demo_pki
    from signing.tsa import LocalTsa

    quiet_pyhanko()
    keys = home / "demo-keys"
    with LocalTsa(keys, DEMO_PASSPHRASE.encode()) as tsa:
        firms, handlers, organisations = example_people(examples)
        if not (keys / "trust" / "root.pem").is_file():
            make_demo_pki(keys, firms[0], handlers, crl_url=tsa.crl_url, other_firms=firms[1:],
                          seal_purposes=seal_purposes(examples), organisations=organisations, home=home)
        snippet = (keys / "gongu.toml.snippet").read_text(encoding="utf-8")
        config_file = home / "gongu.toml"
        if not config_file.exists():
            # So that `gongu verify`, `gongu archive audit`, `gongu review` … work in the demo home
            # afterwards (the examples' staff registered as people); a firm's own gongu.toml is never touched.
            atomic_write(config_file, (snippet + demo_people_toml(examples) + demo_drafting_toml(examples)).encode("utf-8"))
        signing = parse_config(snippet, str(keys / "gongu.toml.snippet")).signing
        assert signing is not None  # make_demo_pki always writes [signing]
        config = signing.model_copy(update={"tsa_url": tsa.url}).to_config(home)  # paths relative to GONGU_HOME
        made_for = demo_organisations(keys)
        # a person missing, or bound to another organisation than the examples now say (keys made before
        # appraisers were bound to their institutions): the demo would be refused at issue, so remake
        lacking = [name for name, _licence in handlers
                   if name not in config.handlers or made_for.get(name) != organisations.get(name, firms[0])]
        if lacking:  # demo keys made before these examples existed
            raise GonguError(escape(f"{keys} 中的演示密钥没有 {'、'.join(lacking)} 的证书，或证书不属于其所在机构；"
                                    f"请删除该目录后重新运行 gongu demo（demo keys predate these examples: remove {keys}）"))
        yield config


def demo_seal(reports: list[Path], home: Path, examples: Path) -> list[tuple[Path, Path, bool]]:
    """`make demo`: seal the rendered example reports with the demo PKI (`demo_signing`), then verify each.

    Uses the demo passphrase directly: these keys are DEMO — NOT FOR PRODUCTION by construction.
    Returns (report, sealed, verified) per report.
    """
    import json

    from signing.keys import DEMO_PASSPHRASE
    from signing.verify import verify_pdf

    out: list[tuple[Path, Path, bool]] = []
    with demo_signing(home, examples) as config:
        for report in reports:
            sealed = report.with_name(report.stem + "-sealed.pdf")
            sealed.unlink(missing_ok=True)  # the demo re-renders each run
            seal_report(report, sealed, config, lambda *_: DEMO_PASSPHRASE.encode())
            result = verify_pdf(sealed, config.trust_roots, crls=config.crls)
            out.append((report, sealed, result.ok))
            if not result.ok:
                err_console.print(json.dumps(result.all_problems(), ensure_ascii=False))
    return out
