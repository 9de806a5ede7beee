"""A complete issued report (issue 12 item 4): a sealed report cut back to an earlier revision, one
signed by another firm's or another person's certificate chaining to the same root, or one missing the
timestamps / LTV data the firm's settings require, has only good signatures and still must not verify
or be archived."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sealkit import World
from typer.testing import CliRunner

from gongu.cli.app import app
from signing.completeness import CompletenessPolicy, check_completeness
from signing.verify import verify_issued_report, verify_pdf

runner = CliRunner()
ENV = {"GONGU_FIRM_KEY_PASSPHRASE": "gongu-demo", "GONGU_HANDLER_KEY_PASSPHRASE": "gongu-demo"}
LTV = CompletenessPolicy(require_timestamp=True, require_ltv=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("complete"))
    home = w.root / "home"
    home.mkdir()
    (home / "gongu.toml").write_text(w.toml(ltv=True), encoding="utf-8")
    yield w
    w.close()


@pytest.fixture(scope="module")
def sealed_ltv(world: World) -> Path:
    return world.seal("sealed-ltv", ltv=True)


def _revision_ends(pdf: bytes) -> dict[str, int]:
    """Signature field → the byte length of the revision that signature closes (its signed range's end)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    out = {}
    for sig in reader.embedded_signatures:
        start, first, second, rest = sig.byte_range
        assert start == 0
        out[str(sig.field_name)] = second + rest
    return out


def _cut(source: Path, end: int, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[:end])
    return target


def _codes(path: Path, policy: CompletenessPolicy = LTV) -> set[tuple[str, str]]:
    return {(m.field, m.code) for m in check_completeness(path.read_bytes(), policy).missing}


def _env(world: World) -> dict[str, str]:
    return {"GONGU_HOME": str(world.root / "home"), **ENV}


def test_the_complete_ltv_report_is_complete(world: World, sealed_ltv: Path) -> None:
    report, completeness = verify_issued_report(sealed_ltv, [world.pki.root_pem], policy=LTV)
    assert report.ok, report.all_problems()
    assert completeness.complete
    assert completeness.expected_fields == ("firm-seal", "handler-1", "handler-2")
    assert completeness.handlers == tuple(h["name"] for h in world.case["handlers"])
    result = runner.invoke(app, ["verify", str(sealed_ltv)], env=_env(world))
    assert result.exit_code == 0, result.output
    assert "报告签名齐全" in result.output


def test_every_earlier_revision_verifies_alone_but_is_incomplete(world: World, sealed_ltv: Path,
                                                                  tmp_path: Path) -> None:
    ends = _revision_ends(sealed_ltv.read_bytes())
    # firm seal, two handlers, then the document timestamp that closes B-LTA
    assert len(ends) == 4 and list(ends)[:3] == ["firm-seal", "handler-1", "handler-2"]
    stamp_field = list(ends)[3]
    assert ends["handler-2"] < ends[stamp_field] <= sealed_ltv.stat().st_size

    after_firm = _cut(sealed_ltv, ends["firm-seal"], tmp_path / "after-firm.pdf")
    before_h2 = _cut(sealed_ltv, ends["handler-1"], tmp_path / "before-h2.pdf")
    before_ts = _cut(sealed_ltv, ends["handler-2"], tmp_path / "before-ts.pdf")
    for cut in (after_firm, before_h2, before_ts):
        # the attack: every signature left in the cut file is intact, valid and trusted …
        assert verify_pdf(cut, [world.pki.root_pem]).ok, cut.name
        # … but it is not the issued report
        assert not verify_issued_report(cut, [world.pki.root_pem], policy=LTV)[0].ok, cut.name

    assert {("handler-1", "unsigned"), ("handler-2", "unsigned")} <= _codes(after_firm)
    assert ("handler-2", "unsigned") in _codes(before_h2)
    assert ("handler-1", "unsigned") not in _codes(before_h2)
    assert _codes(before_ts) >= {("", "no_document_timestamp")}
    assert not any(code == "unsigned" for _f, code in _codes(before_ts))
    # Without LTV in the firm's settings, the revision before the document timestamp is complete.
    assert not _codes(before_ts, CompletenessPolicy(require_timestamp=True))


def test_verify_command_names_what_is_missing_and_exits_1(world: World, sealed_ltv: Path, tmp_path: Path) -> None:
    ends = _revision_ends(sealed_ltv.read_bytes())
    cut = _cut(sealed_ltv, ends["handler-1"], tmp_path / "cut.pdf")
    result = runner.invoke(app, ["verify", str(cut)], env=_env(world))
    assert result.exit_code == 1, result.output
    assert "全部签名完整、有效、可信" not in result.output
    assert "handler-2" in result.output and "未签署" in result.output
    assert "文档时间戳" in result.output  # ltv = true in gongu.toml
    data = json.loads(runner.invoke(app, ["verify", str(cut), "--json"], env=_env(world)).stdout)
    assert data["ok"] is False and data["complete"] is False
    assert {"field": "handler-2", "code": "unsigned"} in [{k: m[k] for k in ("field", "code")} for m in data["missing"]]


def test_without_timestamps_when_the_firm_requires_them(world: World) -> None:
    plain = world.seal("no-tsa", tsa_url=None)
    assert verify_pdf(plain, [world.pki.root_pem]).ok
    codes = _codes(plain, CompletenessPolicy(require_timestamp=True))
    assert codes == {("firm-seal", "no_timestamp"), ("handler-1", "no_timestamp"), ("handler-2", "no_timestamp")}
    assert not _codes(plain, CompletenessPolicy())


def test_another_firms_seal_chaining_to_the_same_root_is_refused(world: World) -> None:
    other = world.other_firm_p12("别家保险公估有限公司")
    forged = world.forge("other-firm", firm_p12=other)
    assert verify_pdf(forged, [world.pki.root_pem]).ok  # chains to the trusted root
    report, completeness = verify_issued_report(forged, [world.pki.root_pem])
    assert not report.ok
    assert [(m.field, m.code) for m in completeness.missing] == [("firm-seal", "wrong_signer")]
    assert "别家保险公估有限公司" in completeness.missing[0].message


def test_a_handler_field_signed_by_the_other_handler_is_refused(world: World) -> None:
    first, second = (h["name"] for h in world.case["handlers"])
    swapped = {first: world.pki.handler_p12[second], second: world.pki.handler_p12[first]}
    forged = world.forge("swapped", handlers=swapped)
    assert verify_pdf(forged, [world.pki.root_pem]).ok
    codes = _codes(forged, CompletenessPolicy())
    assert codes == {("handler-1", "wrong_signer"), ("handler-2", "wrong_signer")}


def test_a_pdf_without_an_embedded_case_file_is_not_a_complete_report(world: World, tmp_path: Path) -> None:
    from weasyprint import HTML

    bare = tmp_path / "bare.pdf"
    bare.write_bytes(HTML(string="<p>x</p>").write_pdf())
    assert [(m.field, m.code) for m in check_completeness(bare.read_bytes()).missing] == [("", "no_case_file")]
    # the rendered, unsealed report has its case file: what is missing is every signature
    codes = _codes(world.report, CompletenessPolicy())
    assert ("", "no_case_file") not in codes
    assert codes == {("firm-seal", "unsigned"), ("handler-1", "unsigned"), ("handler-2", "unsigned")}


# ───────────────────────────── the archive refuses what verify refuses ─────────────────────────────


def test_ingest_refuses_a_report_cut_back_to_an_earlier_revision(kit, tmp_path: Path,  # noqa: ANN001
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.package import iter_bags
    from tests.archivekit import example_case, write_case, write_home

    home = write_home(tmp_path / "home", kit)
    monkeypatch.setenv("GONGU_HOME", str(home))
    monkeypatch.setenv("GONGU_FIRM_KEY_PASSPHRASE", "gongu-demo")
    case_path = write_case(tmp_path / "case", example_case())
    ends = _revision_ends(kit.sealed.read_bytes())
    for name, end in (("after-firm", ends["firm-seal"]), ("before-h2", ends["handler-1"])):
        cut = _cut(kit.sealed, end, tmp_path / f"{name}.pdf")
        assert verify_pdf(cut, [kit.root_pem]).ok  # what ingest accepted before
        result = runner.invoke(app, ["archive", "ingest", str(case_path), "--report", str(cut), "--by", "甲"])
        assert result.exit_code == 2, result.output
        assert "签章核验未通过" in result.output and "报告不完整" in result.output and "handler-2" in result.output
    assert not list(iter_bags(home / "archive" / "packages"))
    # the complete report is archived
    result = runner.invoke(app, ["archive", "ingest", str(case_path), "--report", str(kit.sealed), "--by", "甲"])
    assert result.exit_code == 0, result.output
