"""Signed checkpoints of the event log and its verification.

A checkpoint is (tree size, RFC 6962 root hash, time) as canonical JSON, signed with the firm key
(RSA-PSS/SHA-256, or ECDSA/SHA-256 for an EC key) and exported as a file. A copy kept elsewhere
proves later that history was not rewritten: the current tree must contain the checkpointed tree
unchanged (a consistency proof, RFC 6962 §2.1.2)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from archive.catalog import Catalog, Event, canonical
from archive.firmcert import PinError, ensure_pinned, pin_file, pinned_certificates
from archive.merkle import Tree, leaf_hash, root_hash, verify_consistency
from generator.atomic import atomic_write
from generator.types import SHANGHAI

ORIGIN = "gongu-archive-log/1"
# How far event times may step back without it counting as a clock set back: NTP corrects a drifting
# clock by seconds, rarely by a minute or two. A step back of more than this is a clock moved by hand —
# the trace a forward jump leaves (events dated ahead) once the clock is set back to the right time.
CLOCK_TOLERANCE = timedelta(minutes=5)


class SignerError(ValueError):
    pass


@dataclass(frozen=True)
class CheckpointSigner:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def from_pkcs12(cls, path: Path, passphrase: bytes | None) -> CheckpointSigner:
        from signing.keys import KeyError_, read_p12  # the one PKCS#12 reader (signing/keys.py)

        try:
            key, cert, _chain = read_p12(path, passphrase)
        except KeyError_ as exc:
            raise SignerError(f"机构密钥：{exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SignerError(f"机构密钥文件 {path} 中没有 RSA/EC 私钥及证书")
        return cls(key, cert)

    def sign(self, body: bytes) -> tuple[str, bytes]:
        if isinstance(self.key, rsa.RSAPrivateKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
            return "RSA-PSS-SHA256", self.key.sign(body, pss, hashes.SHA256())
        return "ECDSA-SHA256", self.key.sign(body, ec.ECDSA(hashes.SHA256()))


def checkpoint_body(tree_size: int, root: bytes, at: datetime) -> dict[str, Any]:
    return {"origin": ORIGIN, "tree_size": tree_size, "root_hash": root.hex(), "time": at.isoformat()}


def make_checkpoint(catalog: Catalog, signer: CheckpointSigner, at: datetime, export_dir: Path | None) -> dict[str, Any]:
    """Sign the current tree head; store it in the catalog and export it as a file. The first checkpoint
    pins the signing certificate with the archive (archive/firmcert.py); a key not pinned is refused."""
    ensure_pinned(pin_file(catalog.files_dir), signer.certificate)
    with catalog.write():
        leaves = catalog.leaf_hashes()
        body = checkpoint_body(len(leaves), root_hash(leaves), at)
        algorithm, signature = signer.sign(canonical(body).encode())
        document = {**body, "algorithm": algorithm, "signature": base64.b64encode(signature).decode(),
                    "certificate": signer.certificate.public_bytes(serialization.Encoding.PEM).decode()}
        catalog.save_checkpoint(len(leaves), body["root_hash"], body["time"], canonical(document))
    if export_dir is not None:
        export_checkpoint(document, export_dir)
    return document


def export_checkpoint(document: dict[str, Any], export_dir: Path) -> Path:
    export_dir.mkdir(parents=True, exist_ok=True)
    target = export_dir / f"checkpoint-{document['tree_size']:012d}.json"
    return atomic_write(target, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def check_signature(document: dict[str, Any], trusted: list[x509.Certificate]) -> str | None:
    """None when the checkpoint's signature is good and by one of the `trusted` certificates (the firm's
    pinned certificate). The certificate inside the checkpoint proves nothing alone: anyone can sign
    with their own key and embed their own certificate, so no trusted certificate
    means no checkpoint can be accepted."""
    try:
        body = {k: document[k] for k in ("origin", "tree_size", "root_hash", "time")}
        cert = x509.load_pem_x509_certificate(document["certificate"].encode())
        signature = base64.b64decode(document["signature"], validate=True)
        public = cert.public_key()
        data = canonical(body).encode()
        if document["algorithm"] == "RSA-PSS-SHA256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                       salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        elif document["algorithm"] == "ECDSA-SHA256" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return f"不支持的签名算法 {document['algorithm']}"
    except (KeyError, ValueError, TypeError):
        return "检查点文件格式错误"
    except InvalidSignature:
        return "检查点签名无效（内容被改动或不是该证书签署）"
    if not trusted:
        return "没有可信的机构证书（档案未固定机构证书），无法确认检查点由本机构签署"
    if not any(cert.fingerprint(hashes.SHA256()) == t.fingerprint(hashes.SHA256()) for t in trusted):
        return f"检查点签名证书不是本机构证书：{cert.subject.rfc4514_string()}"
    return None


@dataclass
class LogReport:
    size: int = 0
    root: str = ""
    checkpoints_checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "tree_size": self.size, "root_hash": self.root,
                "checkpoints_checked": self.checkpoints_checked, "problems": self.problems, "warnings": self.warnings}


def verify_log(catalog: Catalog, *, extra_checkpoints: list[Path] = (), export_dir: Path | None = None,  # type: ignore[assignment]
               trusted: list[x509.Certificate] = ()) -> LogReport:  # type: ignore[assignment]
    """Recompute the tree from the stored events; check every checkpoint (catalog, export folder, extra
    files) for its signature and for consistency with the current tree. A checkpoint must be signed by
    the firm certificate pinned with the archive (or one of `trusted`), whoever runs the check and
    whether or not the firm key's passphrase is at hand."""
    report = LogReport()
    try:
        trusted = [*trusted, *pinned_certificates(pin_file(catalog.files_dir))]
    except PinError as exc:
        report.problems.append(str(exc))
    rows = catalog.event_rows()
    leaves: list[bytes] = []
    for expected, row in enumerate(rows):
        if row["seq"] != expected:
            report.problems.append(f"事件序号不连续：期望 {expected}，实际 {row['seq']}")
        entry = row["entry"]
        lh = leaf_hash(entry.encode())
        leaves.append(lh)
        if lh.hex() != row["leaf_hash"]:
            report.problems.append(f"事件 {row['seq']} 的内容与其叶哈希不符（事件被改写）")
        try:
            ev = Event.from_entry(entry)
        except (ValueError, KeyError):
            report.problems.append(f"事件 {row['seq']} 不是有效的 JSON")
            continue
        if (ev.seq, ev.kind, ev.case_id, ev.report_number, ev.actor, ev.at) != (
                row["seq"], row["kind"], row["case_id"], row["report_number"], row["actor"], row["at"]):
            report.problems.append(f"事件 {row['seq']} 的目录字段与日志条目不一致")
    report.size = len(leaves)
    tree = Tree(leaves)
    current = tree.root()
    report.root = current.hex()

    documents: list[tuple[str, dict[str, Any]]] = []
    for tree_size, document in catalog.checkpoint_documents():
        documents.append((f"目录中的检查点 {tree_size}", json.loads(document)))
    files = sorted(export_dir.glob("checkpoint-*.json")) if export_dir and export_dir.is_dir() else []
    for path in [*files, *extra_checkpoints]:
        try:
            documents.append((str(path), json.loads(Path(path).read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            report.problems.append(f"无法读取检查点 {path}：{exc}")
    if not documents:
        report.warnings.append("尚无签名检查点")
    for label, doc in documents:
        report.checkpoints_checked += 1
        bad = check_signature(doc, list(trusted))
        if bad:
            report.problems.append(f"{label}：{bad}")
            continue
        size, old_root = int(doc["tree_size"]), bytes.fromhex(doc["root_hash"])
        if size > report.size:
            report.problems.append(f"{label}：检查点记录了 {size} 个事件，现存仅 {report.size} 个（日志被截断）")
            continue
        proof = tree.consistency(size)
        if not verify_consistency(size, report.size, old_root, current, proof) or tree.root(0, size) != old_root:
            report.problems.append(f"{label}：现有日志与检查点（{size} 个事件）不一致——历史被改写")
    return report


# ── the clock, checked against the log's own times ──

def event_times(catalog: Catalog) -> list[tuple[int, datetime]]:
    """(seq, time) of every event whose time reads as an ISO time (a naive time is Beijing time).
    An unreadable time is left out here: a rewritten event fails `verify_log`."""
    out = []
    for seq, at in catalog.event_times():
        try:
            t = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue
        out.append((seq, t if t.tzinfo is not None else t.replace(tzinfo=SHANGHAI)))
    return out


def latest_event(catalog: Catalog) -> tuple[int, datetime] | None:
    """The event with the latest time (seq, time; of equal times the last logged); the clock must not
    read earlier than that."""
    times = event_times(catalog)
    return max(times, key=lambda st: (st[1], st[0])) if times else None


def _span(delta: timedelta) -> str:
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{days} 天 " if days else "") + f"{hours} 小时 {minutes} 分 {seconds} 秒"


def time_reversals(times: list[tuple[int, datetime]], tolerance: timedelta = CLOCK_TOLERANCE) -> list[str]:
    """Where event times step back by more than `tolerance` behind the latest time logged before them.
    Each stretch behind is reported once, at its first event (later events of the same stretch are
    behind for the same reason)."""
    found: list[str] = []
    peak: tuple[int, datetime] | None = None
    behind = False
    for seq, at in times:
        if peak is not None and at < peak[1] - tolerance:
            if not behind:
                found.append(f"事件 {seq}（{at.isoformat()}）比此前的事件 {peak[0]}（{peak[1].isoformat()}）"
                             f"早 {_span(peak[1] - at)}：时钟曾被调快后又调回 / event {seq} at {at.isoformat()} "
                             f"is earlier than event {peak[0]} at {peak[1].isoformat()}: the clock was set back")
            behind = True
            continue
        behind = False
        if peak is None or at > peak[1]:
            peak = (seq, at)
    return found


def future_events(times: list[tuple[int, datetime]], now: datetime,
                  tolerance: timedelta = CLOCK_TOLERANCE) -> list[str]:
    """Events dated more than `tolerance` after the archive clock's `now`."""
    return [f"事件 {seq}（{at.isoformat()}）晚于档案时钟当前时间 {now.isoformat()} / event {seq} at "
            f"{at.isoformat()} is later than the archive clock {now.isoformat()}"
            for seq, at in times if at > now + tolerance]
