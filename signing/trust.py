"""Trust anchors and revocation data for signing (LTV) and verification, from files on disk.

Loopback only at run time: CRLs come from the configured files (the demo PKI writes trust/root.crl)
and from the report's own DSS; fetching from distribution points is opt-in (`fetch_revocation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext


class TrustFileError(Exception):
    pass


def load_certificates(path: Path) -> list[asn1_x509.Certificate]:
    """PEM (one or many) or DER certificates."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TrustFileError(f"无法读取信任根 {path}（cannot read trust roots）：{exc.strerror}") from None
    try:
        if pem.detect(data):
            return [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, multiple=True)]
        return [asn1_x509.Certificate.load(data)]
    except ValueError:
        raise TrustFileError(f"{path} 不是证书文件（not a PEM/DER certificate）") from None


def load_crl(path: Path) -> asn1_crl.CertificateList:
    try:
        data = Path(path).read_bytes()
        if pem.detect(data):
            _t, _h, data = pem.unarmor(data)
        crl = asn1_crl.CertificateList.load(data)
        crl.native  # noqa: B018 — parse now, so a bad file fails here with a clear message
        return crl
    except OSError as exc:
        raise TrustFileError(f"无法读取吊销列表 {path}（cannot read CRL）：{exc.strerror}") from None
    except ValueError:
        raise TrustFileError(f"{path} 不是吊销列表 CRL（not a CRL）") from None


def validation_kwargs(
    trust_roots: Sequence[Path], crls: Sequence[Path] = (), *, fetch: bool = False,
    moment: dt.datetime | None = None,
) -> dict[str, Any]:
    roots = [cert for path in trust_roots for cert in load_certificates(path)]
    kwargs: dict[str, Any] = {
        "trust_roots": roots,
        "crls": [load_crl(p) for p in crls],
        "allow_fetching": fetch,
        # soft-fail: a certificate without reachable revocation data still validates; one listed on
        # a CRL never does.
        "revocation_mode": "soft-fail",
    }
    if moment is not None:
        kwargs["moment"] = moment
    return kwargs


def validation_context(
    trust_roots: Sequence[Path], crls: Sequence[Path] = (), *, fetch: bool = False,
    moment: dt.datetime | None = None,
) -> ValidationContext:
    return ValidationContext(**validation_kwargs(trust_roots, crls, fetch=fetch, moment=moment))
