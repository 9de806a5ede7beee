"""Check codes of a forensic appraisal's package (issue 30 item 1): the 意见书 and each companion document
issued with it get their record — kind, the institution, the Beijing date, pages, SHA-256, path — and the
public record names no party and no 被鉴定人. Issued for real (issue_case renders and seals every document);
the codes are the ones the issuing step drew and printed; `gongu verify` compares a file with their record."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from archive.check_codes import lookup
from tests.test_forensic_archive import (
    APPRAISERS,
    INSTITUTION,
    PASSPHRASE,
    example_data,
    with_files,
    write_forensic_case,
)


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)$", out, re.M)
    assert found is not None
    return int(found[1])


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from archive.ingest import ingest
    from generator.clock import FixedClock
    from generator.loading import load_case
    from gongu.pipeline.issuing import issue_case
    from gongu.pipeline.sealing import ConfiguredSigner
    from gongu.settings import load_settings
    from signing.keys import make_demo_pki
    from signing.seal import SigningConfig
    from signing.tsa import LocalTsa
    from tests.archivekit import open_archive
    from tests.sealkit import forensic_signing_home

    base = tmp_path_factory.mktemp("forensic-codes")
    tsa = LocalTsa(base / "keys").start()
    try:
        pki = make_demo_pki(base / "keys", INSTITUTION, APPRAISERS, crl_url=tsa.crl_url,
                            seal_purposes={INSTITUTION: "司法鉴定专用章"})
        config = SigningConfig(firm_p12=pki.firm_p12, handlers=dict(pki.handler_p12), tsa_url=tsa.url,
                               trust_roots=(pki.root_pem,), crls=(pki.crl,))
        home = forensic_signing_home(base / "home", pki)
        data = with_files(example_data())
        case_file = write_forensic_case(base / "case", data)
        issued = issue_case(case_file, signer=ConfiguredSigner(config, lambda *_: PASSPHRASE.encode()),
                            settings=load_settings(home), out_dir=home / "issued" / data["case_id"],
                            clock=FixedClock(datetime(2026, 5, 29, 16, 0)))
        issuance = json.loads(case_file.read_text(encoding="utf-8"))["issuances"][-1]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GONGU_FIRM_KEY_PASSPHRASE", PASSPHRASE)
            with open_archive(home) as archive:
                result = ingest(archive, load_case(case_file), issued.files["pdf"], by="档案员甲")
        yield {"home": home, "data": data, "issuance": issuance, "package": result.path,
               "folder": issued.files["pdf"].parent}
    finally:
        tsa.stop()


def test_the_opinion_and_each_companion_document_are_recorded(archived: dict[str, Any]) -> None:
    meta = json.loads((archived["package"] / "metadata.json").read_text(encoding="utf-8"))
    issuance = archived["issuance"]
    records = {r["code"]: r for r in meta["check_codes"]}
    primary = records[issuance["check_code"]]
    assert primary["kind"] == "司法鉴定意见书" and primary["issuer"] == INSTITUTION
    assert primary["issued_on"] == "2026-05-29" and primary["sha256"] == issuance["pdf_sha256"]
    assert primary["pages"] == _pages(archived["package"] / primary["path"])
    documents = [d for d in issuance.get("documents") or [] if d.get("pdf_file")]
    assert documents, "the example issues companion documents with the opinion"
    for doc in documents:
        record = records[doc["check_code"]]
        assert record["kind"] == doc["title"] and record["sha256"] == doc["pdf_sha256"]
        assert record["path"].startswith("data/documents/") and record["report_number"] == issuance["number"]
        assert record["pages"] == _pages(archived["package"] / record["path"])
    assert len(records) == 1 + len(documents)
    readme = (archived["package"] / "README.txt").read_text(encoding="utf-8")
    assert all(f"{c[:4]}-{c[4:8]}" in readme for c in records)


def test_the_public_record_names_no_party_and_no_examined_person(archived: dict[str, Any]) -> None:
    from tests.archivekit import open_archive

    data = archived["data"]
    names = [p["name"] for p in data["parties"]] + [data["examination"]["person"]["name"]]
    ids = [v for v in re.findall(r"\d{17}[\dXx]", json.dumps(data, ensure_ascii=False))]
    with open_archive(archived["home"]) as archive:
        shown = [lookup(archive.catalog, code) for code in
                 [archived["issuance"]["check_code"], *(d["check_code"] for d in archived["issuance"]["documents"])]]
    for record in shown:
        assert record is not None and record.status == "valid"
        public = " ".join(str(v) for v in (record.report_number, record.kind, record.issuer, record.issued_on,
                                           record.pages, record.sha256))
        assert not [t for t in names + ids if t and t in public], public


def _verify(home: Path, pdf: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GONGU_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "gongu", "verify", str(pdf), *extra], capture_output=True, text=True,
                          env=env, timeout=180)


def test_gongu_verify_matches_a_file_with_the_record_of_its_code(archived: dict[str, Any], tmp_path: Path) -> None:
    home, package, issuance = archived["home"], archived["package"], archived["issuance"]
    opinion = archived["folder"] / issuance["pdf_file"]
    # the package's own record (all a reader holding only the folder has), then the home's catalog
    by_package = _verify(home, opinion, "--package", str(package), "--json")
    assert by_package.returncode == 0, by_package.stdout + by_package.stderr
    record = json.loads(by_package.stdout)["check_record"]
    assert record["found"] and record["matches"] and record["sha256"] == issuance["pdf_sha256"]
    assert record["report_number"] == issuance["number"] and record["status"] is None
    in_home = _verify(home, opinion)
    assert in_home.returncode == 0, in_home.stdout + in_home.stderr
    assert f"档案目录记录此校验码为 {issuance['number']} 司法鉴定意见书，状态：有效；文件 SHA-256 与记录一致" in in_home.stdout
    # a copy with bytes added after the end: still the code, no longer the issued file → exit 1
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(opinion.read_bytes() + b"\n% re-saved\n")
    changed = _verify(home, altered, "--package", str(package))
    assert changed.returncode == 1
    assert "文件 SHA-256 与记录不一致" in changed.stdout and issuance["pdf_sha256"] in changed.stdout
    # a companion document checked against the package: its own record, not the opinion's
    doc = next(d for d in issuance["documents"] if d.get("pdf_file"))
    companion = _verify(home, archived["folder"] / doc["pdf_file"], "--package", str(package), "--json")
    assert json.loads(companion.stdout)["check_record"]["sha256"] == doc["pdf_sha256"]
    # a folder that is not a package: a usage error, no traceback
    wrong = _verify(home, opinion, "--package", str(tmp_path))
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
