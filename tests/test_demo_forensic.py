"""`make demo` for the forensic examples (gongu/demo/forensic.py): the demo PKI binds every appraiser to the
institution of their example, so the opinion the demo issues is signed by that institution's appraisers.
Real demo PKI, loopback TSA, renderer, pyHanko signing and validation."""

from __future__ import annotations

import json
from pathlib import Path

from generator.check_code import code_in_pdf
from generator.loading import load_case

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REAPPRAISAL = EXAMPLES / "forensic-reappraisal" / "case.json"


def test_demo_opinion_is_signed_by_the_institutions_own_appraisers(tmp_path: Path) -> None:
    from gongu.demo.forensic import demo_forensic
    from gongu.settings import load_settings
    from signing.verify import verify_issued_report

    home = tmp_path / "home"
    home.mkdir()
    (result,) = demo_forensic(load_settings(home), [REAPPRAISAL], EXAMPLES)
    assert result.verified
    report, completeness = verify_issued_report(result.primary, [home / "demo-keys" / "trust" / "root.pem"],
                                                crls=[home / "demo-keys" / "trust" / "root.crl"])
    assert report.ok, report.all_problems()
    assert completeness.complete and completeness.role == "report"
    # example (d): 绵阳涪城正衡司法鉴定中心, its appraisers 陈国栋 (510703011004) and 林雪 (510703016021) sign, in
    # the order of report.signatures — not under the first (survey) firm of the examples
    institution = load_case(REAPPRAISAL).case.institution.name
    assert institution == "绵阳涪城正衡司法鉴定中心"
    signed = [(s.field, s.role, s.person, s.licence_no, s.organisation, s.own_organisation) for s in report.signatures]
    assert signed == [
        ("institution-seal", "司法鉴定专用章", f"DEMO {institution} 司法鉴定专用章", None, institution, True),
        ("appraiser-1", "鉴定人", "陈国栋", "510703011004", institution, True),
        ("appraiser-2", "鉴定人", "林雪", "510703016021", institution, True)]
    # the timestamps come from the demo TSA, an authority of its own
    tsa = report.signatures[0].timestamp
    assert tsa is not None and "Gongu Demo Time-Stamping Authority" in tsa.tsa
    # every document the demo issues carries the check code its issuance recorded, each its own
    entry = json.loads(result.case_file.read_text(encoding="utf-8"))["issuances"][-1]
    recorded = {entry["pdf_file"]: entry["check_code"], **{d["pdf_file"]: d["check_code"] for d in entry["documents"]}}
    assert {pdf.name: code_in_pdf(pdf.read_bytes()) for pdf in result.documents} == recorded
    assert len(set(recorded.values())) == len(recorded) == len(result.documents) > 1
