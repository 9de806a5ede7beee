"""Signing keys: PKCS#12 files unlocked with a passphrase, and a clearly marked demo PKI.

Passphrases never come from the command line or a config file (ARCHITECTURE: secrets only from the
environment or a prompt); this module takes them as bytes and never logs them.

The demo PKI is built with `cryptography` (a runtime dependency already) rather than certomancer
(dev-only) so that `gongu keys demo` works on a production install too. Every subject carries
DEMO_MARK (OU) and "DEMO" in its common name, so nobody mistakes a demo seal for a real one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from generator.atomic import atomic_write
from generator.clock import SYSTEM_CLOCK

DEMO_MARK = "DEMO — NOT FOR PRODUCTION"
DEMO_PASSPHRASE = "gongu-demo"
# RSA, not ECDSA: pyHanko raises the PDF version to 2.0 for ECDSA, which breaks the PDF/A-3a claim.
RSA_BITS = 2048
DEFAULT_CRL_PATH = "/crl/root.crl"
# The demo TSA is its own authority, not any firm's or institution's: a timestamp is a third party's word
# on the time (RFC 3161 §1), so its certificate never names an organisation whose documents it stamps.
DEMO_TSA_ORGANISATION = "Gongu Demo Time-Stamping Authority"
# Which organisation each demo person certificate names (JSON, name → O), so a demo home made before the
# appraisers were bound to their institutions can be told apart and remade.
ORGANISATIONS_FILE = "organisations.json"


class KeyError_(Exception):
    """A key file cannot be used (missing, wrong passphrase, not PKCS#12)."""


class WrongPassphrase(KeyError_):
    pass


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key (kept in memory only while building the PKI)."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass
class DemoPki:
    directory: Path
    root_pem: Path
    crl: Path
    firm_p12: Path
    tsa_p12: Path
    handler_p12: dict[str, Path] = field(default_factory=dict)
    # Further firms' seal certificates (the bundled examples come from several firms).
    firm_p12s: dict[str, Path] = field(default_factory=dict)
    passphrase: str = DEMO_PASSPHRASE

    def toml_snippet(self, tsa_url: str = "http://127.0.0.1:8731/tsa", *, home: Path | None = None) -> str:
        """The `[signing]` section for gongu.toml. With `home` (GONGU_HOME) every path inside it is written
        relative to it — gongu.toml resolves paths against GONGU_HOME, so a copied or moved home keeps
        using its own keys — and every other path absolute."""

        def w(path: Path) -> str:
            if home is None:
                return str(path)
            full = Path(path).resolve()
            try:
                return full.relative_to(Path(home).resolve()).as_posix()
            except ValueError:
                return str(full)

        lines = [
            "# DEMO — NOT FOR PRODUCTION: demo keys made by `gongu keys demo`.",
            "# Passphrases: GONGU_FIRM_KEY_PASSPHRASE / GONGU_HANDLER_KEY_PASSPHRASE (demo: gongu-demo).",
            "[signing]",
            f'firm_p12 = "{w(self.firm_p12)}"',
            f'trust_roots = ["{w(self.root_pem)}"]',
            f'crls = ["{w(self.crl)}"]',
            f'tsa_url = "{tsa_url}"',
            "ltv = true",
            "# seal_image = \"firm-seal.png\"   # the firm's own seal image; generated from the firm name if unset",
            "",
            "[signing.handlers]",
        ]
        lines += [f'"{name}" = "{w(path)}"' for name, path in self.handler_p12.items()]
        if self.firm_p12s:
            lines += ["", "[signing.firms]   # per firm name; firm_p12 seals for any other firm"]
            lines += [f'"{name}" = "{w(path)}"' for name, path in self.firm_p12s.items()]
        return "\n".join(lines) + "\n"


def _name(common_name: str, organisation: str | None = None, *, serial: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_MARK))
    if serial:
        # The practising licence number (执业证号) identifies a handler as the law knows them.
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, _fit(common_name)))
    return x509.Name(attrs)


def _fit(text: str, limit: int = 64) -> str:
    """X.520 caps a common name at 64; cryptography counts UTF-8 bytes, and CJK takes three each."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _now() -> dt.datetime:
    return SYSTEM_CLOCK.now().astimezone(dt.UTC).replace(microsecond=0)


def make_root(common_name: str = "Gongu Demo Root CA (DEMO)", *, years: int = 20) -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    name = _name(common_name)
    start = _now() - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue(
    ca: Issued,
    subject: x509.Name,
    *,
    timestamping: bool = False,
    crl_url: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """An end-entity certificate: signing (non-repudiation) or, with `timestamping`, a TSA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    start = not_before or (_now() - dt.timedelta(hours=1))
    end = not_after or (start + dt.timedelta(days=365 * 3))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if timestamping:
        # RFC 3161 §2.3: a TSA certificate carries the critical timeStamping extended key usage, alone.
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    else:
        # digitalSignature + nonRepudiation (contentCommitment): pyHanko requires the latter by default.
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_crl(ca: Issued, *, revoked: Iterable[x509.Certificate] = (), days: int = 365) -> bytes:
    """A CRL signed by the CA (empty unless told otherwise), DER."""
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def write_p12(path: Path, issued: Issued, chain: Sequence[x509.Certificate], passphrase: str, label: str) -> Path:
    data = pkcs12.serialize_key_and_certificates(
        label.encode("utf-8"),
        issued.key,
        issued.cert,
        list(chain),
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    atomic_write(path, data, mode=0o600)  # a private key: owner only
    return path


def _safe_file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def make_demo_pki(
    directory: Path,
    firm_name: str,
    handlers: Sequence[tuple[str, str | None]],
    *,
    crl_url: str | None = "http://127.0.0.1:8731" + DEFAULT_CRL_PATH,
    passphrase: str = DEMO_PASSPHRASE,
    other_firms: Sequence[str] = (),
    seal_purposes: dict[str, str] | None = None,
    organisations: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> DemoPki:
    """Root CA, the firm's organisation (seal) certificate, one certificate per handler, a TSA.

    `seal_purposes` names a firm's seal when it is not a 公估专用章 (a forensic institution's
    司法鉴定专用章); handlers include a forensic case's appraisers, by name and 执业证号 (subject
    serialNumber). `organisations` names the organisation (subject O) of a person's certificate: an
    appraiser's is the institution that issues their opinions (通则 Art 19), a handler's their firm;
    anyone not in it is issued under `firm_name`. The TSA has its own identity (DEMO_TSA_ORGANISATION).

    Writes PKCS#12 files, `trust/root.pem`, `trust/root.crl` (an empty CRL signed by the root so
    LTV validation data exist offline) and `gongu.toml.snippet` (paths relative to `home`, GONGU_HOME,
    when inside it).
    """
    directory = Path(directory)
    purposes = seal_purposes or {}
    root = make_root()
    firm = issue(root, _name(f"DEMO {firm_name} {purposes.get(firm_name, '公估专用章')}", firm_name), crl_url=crl_url)
    tsa = issue(root, _name("Gongu Demo TSA (DEMO)", DEMO_TSA_ORGANISATION), timestamping=True, crl_url=crl_url)
    pki = DemoPki(
        directory=directory,
        root_pem=directory / "trust" / "root.pem",
        crl=directory / "trust" / "root.crl",
        firm_p12=write_p12(directory / "firm.p12", firm, [root.cert], passphrase, firm_name),
        tsa_p12=write_p12(directory / "tsa.p12", tsa, [root.cert], passphrase, "tsa"),
        passphrase=passphrase,
    )
    for index, other in enumerate(dict.fromkeys(f for f in other_firms if f != firm_name), start=2):
        cert = issue(root, _name(f"DEMO {other} {purposes.get(other, '公估专用章')}", other), crl_url=crl_url)
        pki.firm_p12s[other] = write_p12(directory / f"firm-{index}.p12", cert, [root.cert], passphrase, other)
    bound = dict(organisations or {})
    for index, (name, licence) in enumerate(handlers, start=1):
        bound.setdefault(name, firm_name)
        cert = issue(root, _name(f"{name} (DEMO)", bound[name], serial=licence), crl_url=crl_url)
        path = directory / "handlers" / f"handler-{index}-{_safe_file_name(licence or str(index))}.p12"
        pki.handler_p12[name] = write_p12(path, cert, [root.cert], passphrase, name)
    atomic_write(pki.root_pem, root.cert.public_bytes(serialization.Encoding.PEM))
    atomic_write(pki.crl, make_crl(root))
    # The root key is kept (encrypted) only so the demo can issue more certificates or a new CRL.
    atomic_write(
        directory / "trust" / "root-key.pem",
        root.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        ),
        mode=0o600,
    )
    atomic_write(directory / "gongu.toml.snippet", pki.toml_snippet(home=home).encode("utf-8"))
    people = {name: bound[name] for name in pki.handler_p12}
    atomic_write(directory / ORGANISATIONS_FILE, json.dumps(people, ensure_ascii=False, indent=1).encode("utf-8"))
    return pki


def demo_organisations(directory: Path) -> dict[str, str]:
    """Person name → the organisation their demo certificate names (empty for a demo PKI that predates it)."""
    try:
        data = json.loads((Path(directory) / ORGANISATIONS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def read_p12(path: Path, passphrase: bytes | None) -> tuple[object, x509.Certificate, list[x509.Certificate]]:
    """Open a PKCS#12 file; a wrong passphrase is told apart from a bad file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyError_(f"无法读取密钥文件 {path}（cannot read key file）：{exc.strerror}") from None
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        # cryptography says "Invalid password or PKCS12 data" for both; try without a passphrase to tell.
        raise WrongPassphrase(
            f"密钥文件 {path} 的口令错误或文件不是 PKCS#12（wrong passphrase or not a PKCS#12 file）"
        ) from None
    if key is None or cert is None:
        raise KeyError_(f"密钥文件 {path} 中没有私钥或证书（no key or certificate in file）")
    return key, cert, list(others)


class KeySigner(SimpleSigner):
    """pyHanko's `SimpleSigner` holding the unlocked key as a `cryptography` object: `SimpleSigner.sign_raw`
    parses the key from DER for every raw signature (the signature itself, and the trial one pyHanko makes
    to size the /Contents hole), and parsing checks the RSA key (~40 ms a time). Any other mechanism goes
    to pyHanko's own method."""

    def __init__(self, private_key: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = mechanism["algorithm"].native
        if algorithm == "rsassa_pkcs1v15" and isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


def load_p12_signer(path: Path, passphrase: bytes | None) -> SimpleSigner:
    """The one PKCS#12 loader for pyHanko (the seal signers and the timestamp server), as pyHanko's
    `SimpleSigner.load_pkcs12_data` builds it (the key, its certificate, the file's other certificates) from
    the one decryption `read_p12` makes (it tells a wrong passphrase from a bad file: pyHanko says only
    "could not load"). RSA PKCS#1 v1.5 with SHA-256 is kept: ECDSA would make pyHanko raise the PDF version
    to 2.0 (not PDF/A-3)."""
    key, cert, others = read_p12(path, passphrase)
    registry = SimpleCertificateStore()
    registry.register_multiple({translate_pyca_cryptography_cert_to_asn1(c) for c in others})
    return KeySigner(key, signing_key=translate_pyca_cryptography_key_to_asn1(key),  # type: ignore[arg-type]
                     signing_cert=translate_pyca_cryptography_cert_to_asn1(cert), cert_registry=registry)


def passphrase_from_env(*names: str) -> bytes | None:
    """The first set variable among `names` (per-signer first, then the shared one)."""
    for name in names:
        value = os.environ.get(name)
        if value is not None:
            return value.encode("utf-8")
    return None


def handler_env_name(index: int) -> str:
    return f"GONGU_HANDLER_{index}_KEY_PASSPHRASE"
