"""The firm's certificate pinned with the archive: who may sign the event log's checkpoints
(a certificate embedded in a checkpoint proves nothing alone).

Checking a checkpoint needs the firm's certificate, never its private key. The certificate inside a
checkpoint proves nothing (a forger signs with their own key and embeds their own certificate), and
the firm's PKCS#12 file cannot be opened without the passphrase. So the first time the firm key signs a
checkpoint, its certificate is written next to the catalog (`firm-certificate.pem`) and from then on
every checkpoint must be signed by a pinned certificate, with or without GONGU_FIRM_KEY_PASSPHRASE.
With a shared PostgreSQL catalog the pin lives in the package tree every office mounts (`pin_file`).

Why pinned rather than a certificate named in gongu.toml: the pin is written by a process that holds
the private key (it has just signed with it), exists from the archive's first checkpoint without any
configuration step that could be forgotten, and cannot drift from the key really used. A new firm
certificate (renewal) is added deliberately with `add_pin`; the old one stays, since old checkpoints
remain signed by it. What the pin does not stop (someone with shell access replacing the file) is
caught by comparing the exported checkpoint copies kept elsewhere (docs/archive.md, threat model).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from generator.atomic import atomic_write

PIN_FILE = "firm-certificate.pem"


class PinError(ValueError):
    """The pinned certificate file is unreadable, or a key not pinned tries to sign."""


def pin_path(catalog_path: Path) -> Path:
    """The pin beside a SQLite catalog file."""
    return Path(catalog_path).parent / PIN_FILE


def pin_file(files_dir: Path) -> Path:
    """The pin in the folder of files kept with the catalog (`Catalog.files_dir`): beside the SQLite
    file, or in the shared package tree for a PostgreSQL catalog, so every office checks checkpoints
    against the same certificate."""
    return Path(files_dir) / PIN_FILE


def fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


def pinned_certificates(path: Path) -> list[x509.Certificate]:
    """The pinned certificates (PEM bundle); none when the file does not exist yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PinError(f"无法读取固定的机构证书 {path}：{exc.strerror}") from None
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise PinError(f"固定的机构证书文件 {path} 不是 PEM 证书（file damaged or replaced）") from None


def add_pin(path: Path, cert: x509.Certificate) -> None:
    """Add `cert` to the pinned certificates (atomic; already pinned → nothing to do)."""
    certs = pinned_certificates(path)
    if any(fingerprint(c) == fingerprint(cert) for c in certs):
        return
    data = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [*certs, cert])
    atomic_write(path, data)


def ensure_pinned(path: Path, cert: x509.Certificate) -> None:
    """Before the firm key signs: pin its certificate on first use; refuse a key that is not pinned."""
    certs = pinned_certificates(path)
    if not certs:
        add_pin(path, cert)
    elif not any(fingerprint(c) == fingerprint(cert) for c in certs):
        raise PinError(
            f"机构签章证书（{cert.subject.rfc4514_string()}）不是档案固定的机构证书 {path}；"
            "更换机构证书须先把新证书加入该文件（the firm key's certificate is not pinned for this archive）")
