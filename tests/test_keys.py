"""The demo PKI (`gongu keys demo`) and reading PKCS#12 keys."""

from __future__ import annotations

import glob
import json
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.keys import (
    DEMO_MARK,
    DEMO_PASSPHRASE,
    DEMO_TSA_ORGANISATION,
    DemoPki,
    KeyError_,
    WrongPassphrase,
    demo_organisations,
    make_demo_pki,
    read_p12,
)

HANDLERS = [("王志强", "GZ510100201800321"), ("陈晓梅", "GZ510100201900877")]
FIRM = "四川蜀安保险公估有限公司"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return make_demo_pki(tmp_path_factory.mktemp("pki"), FIRM, HANDLERS, crl_url="http://127.0.0.1:1/crl/root.crl")


def _open(path: Path) -> tuple[object, x509.Certificate, list[x509.Certificate]]:
    key, cert, chain = pkcs12.load_key_and_certificates(path.read_bytes(), DEMO_PASSPHRASE.encode())
    assert cert is not None
    return key, cert, chain


def _root(pki: DemoPki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.root_pem.read_bytes())


def test_every_certificate_is_marked_demo(pki: DemoPki) -> None:
    certs = [_root(pki)] + [_open(p)[1] for p in [pki.firm_p12, pki.tsa_p12, *pki.handler_p12.values()]]
    for cert in certs:
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == DEMO_MARK
        assert "DEMO" in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_chain_to_the_root(pki: DemoPki) -> None:
    root = _root(pki)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for path in [pki.firm_p12, pki.tsa_p12, *pki.handler_p12.values()]:
        key, cert, chain = _open(path)
        cert.verify_directly_issued_by(root)
        assert [c.subject for c in chain] == [root.subject]
        # RSA: ECDSA would push the sealed PDF to version 2.0 (no longer PDF/A-3).
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048


def test_firm_certificate_is_the_organisation(pki: DemoPki) -> None:
    _key, cert, _ = _open(pki.firm_p12)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == FIRM
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment


def test_handler_certificates_carry_name_and_licence(pki: DemoPki) -> None:
    assert list(pki.handler_p12) == [name for name, _ in HANDLERS]
    for name, licence in HANDLERS:
        _key, cert, _ = _open(pki.handler_p12[name])
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.startswith(name)
        assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == licence


def test_tsa_certificate_is_for_timestamping_only(pki: DemoPki) -> None:
    """RFC 3161 §2.3: the TSA certificate's extended key usage is timeStamping alone, critical."""
    _key, cert, _ = _open(pki.tsa_p12)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def _org(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value)


def test_tsa_is_its_own_authority_not_the_firm(pki: DemoPki) -> None:
    _key, cert, _ = _open(pki.tsa_p12)
    assert _org(cert) == DEMO_TSA_ORGANISATION != FIRM


def test_appraisers_are_issued_under_their_institution(tmp_path: Path) -> None:
    """通则 Art 19: an appraiser signs for the institution that designates them, so their certificate names
    it (O) and their 执业证号 (serialNumber); a handler not named in `organisations` stays under the firm."""
    institution = "绵阳涪城正衡司法鉴定中心"
    pki = make_demo_pki(tmp_path, FIRM, [*HANDLERS, ("陈国栋", "510703011004")], crl_url=None,
                        other_firms=[institution], organisations={"陈国栋": institution})
    _key, cert, _ = _open(pki.handler_p12["陈国栋"])
    assert _org(cert) == institution
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "510703011004"
    assert _org(_open(pki.handler_p12["王志强"])[1]) == FIRM
    assert _org(_open(pki.firm_p12s[institution])[1]) == institution
    # recorded beside the keys, so a demo home made under another binding is recognised
    assert demo_organisations(tmp_path) == {"王志强": FIRM, "陈晓梅": FIRM, "陈国栋": institution}


def test_crl_is_signed_by_the_root_and_named_in_certificates(pki: DemoPki) -> None:
    crl = x509.load_der_x509_crl(pki.crl.read_bytes())
    assert crl.is_signature_valid(_root(pki).public_key())
    assert len(list(crl)) == 0
    _key, cert, _ = _open(pki.firm_p12)
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "http://127.0.0.1:1/crl/root.crl"


def test_toml_snippet_is_valid_and_complete(pki: DemoPki) -> None:
    config = tomllib.loads((pki.directory / "gongu.toml.snippet").read_text(encoding="utf-8"))
    signing = config["signing"]
    assert Path(signing["firm_p12"]) == pki.firm_p12
    assert set(signing["handlers"]) == {name for name, _ in HANDLERS}
    assert signing["trust_roots"] == [str(pki.root_pem)]
    assert "passphrase" not in json.dumps(signing).lower()  # secrets never go in the config


def test_wrong_passphrase_is_told_apart(pki: DemoPki) -> None:
    with pytest.raises(WrongPassphrase, match="口令错误"):
        read_p12(pki.firm_p12, b"wrong")
    _key, cert, _chain = read_p12(pki.firm_p12, DEMO_PASSPHRASE.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == FIRM


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError_, match="无法读取密钥文件"):
        read_p12(tmp_path / "none.p12", b"x")


def test_long_names_fit_the_64_character_limit(tmp_path: Path) -> None:
    long_firm = "四川省成都市高新技术产业开发区天府大道中段蜀安保险公估有限责任公司第一分公司"
    pki = make_demo_pki(tmp_path, long_firm, [("欧阳娜娜", None), ("司马相如", "X1")], crl_url=None)
    _key, cert, _ = _open(pki.firm_p12)
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert len(common.encode("utf-8")) <= 64 and common.startswith("DEMO 四川省")


def test_cli_demo_uses_the_bundled_examples_handlers(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gongu.cli.app import app

    examples = Path(__file__).resolve().parent.parent / "examples"
    expected = set()
    for path in glob.glob(str(examples / "*" / "case.json")):
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        # a survey case's handlers, a forensic case's appraisers: everyone who signs a document
        expected |= {h["name"] for h in raw.get("handlers", raw.get("appraisers", []))}
        # and the parties who sign: each side of a verifiable draw signs its record (Sichuan 二(三)), each
        # participant of a mediation the committee's 调解记录 (五(一))
        if (raw.get("selection") or {}).get("draw_record"):
            expected |= set(raw["selection"]["agreed_by"])
        expected |= {n for d in raw.get("disputes", []) for st in d["steps"] if st["kind"] == "mediation"
                     for n in st.get("participants", [])}
    # examples/forensic-reappraisal was drawn by 何建平 and the insurer: both sign the draw record
    assert {"何建平", "中国人民财产保险股份有限公司成都市分公司"} <= expected
    result = CliRunner().invoke(app, ["keys", "demo", str(tmp_path / "keys"), "--examples", str(examples)])
    assert result.exit_code == 0, result.output
    snippet = tomllib.loads((tmp_path / "keys" / "gongu.toml.snippet").read_text(encoding="utf-8"))
    assert set(snippet["signing"]["handlers"]) == expected
    assert "DEMO — NOT FOR PRODUCTION" in result.output
    # example (d)'s appraisers sign for 绵阳涪城正衡司法鉴定中心, not for the first (survey) firm
    handlers, firms = snippet["signing"]["handlers"], snippet["signing"]["firms"]
    for name, licence in (("陈国栋", "510703011004"), ("林雪", "510703016021")):
        cert = _open(Path(handlers[name]))[1]
        assert _org(cert) == "绵阳涪城正衡司法鉴定中心"
        assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == licence
    seal = _open(Path(firms["绵阳涪城正衡司法鉴定中心"]))[1]
    assert _org(seal) == "绵阳涪城正衡司法鉴定中心" and "司法鉴定专用章" in seal.subject.rfc4514_string()
    assert _org(_open(tmp_path / "keys" / "tsa.p12")[1]) == DEMO_TSA_ORGANISATION
