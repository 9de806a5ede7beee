"""Building the Archive from settings: root and catalog paths, the firm key that signs log checkpoints,
the PAdES verifier with the configured trust roots, and the search-index listener. Kept apart from
the typer commands so worker processes (and the web app later) build the same Archive cheaply."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.clock import SYSTEM_CLOCK, Clock
from gongu.output import GonguError
from gongu.settings import Settings
from signing.status import Verifier, VerifyOutcome

if TYPE_CHECKING:  # the archive (SQLAlchemy) loads when a command opens it, not at every start-up
    from archive.audit import AuditResult
    from archive.catalog import Catalog
    from archive.store import Archive, ArchiveConfig

FIRM_PASSPHRASE_ENV = "GONGU_FIRM_KEY_PASSPHRASE"
# Where GONGU_HOME keeps other copies of a case, each as <folder>/<case id>/: the workspace case folder,
# the issued reports, the workspace's previews and the forensic pages' renderings. Disposal removes
# them with the package (10.4: nothing of a destroyed file is kept or served).
CASE_COPIES = ("workspace", "issued", "workspace-previews", "web-cache/forensic")


def make_verifier(trust_roots: list[Path], crls: list[Path], policy: Any = None) -> Verifier | None:
    """The PAdES verifier of signing/verify.py behind the archive's small interface: every signature
    good and the report complete (signing/completeness.py; `policy` from `[signing]`, a
    signing.completeness.CompletenessPolicy), so a report cut back to an earlier revision or signed by
    another firm's certificate is refused at ingest and flagged by audit."""
    if not trust_roots:
        return None
    from signing.verify import VerifyError, verify_issued_report

    def verify(path: Path) -> VerifyOutcome:
        try:
            report, _completeness = verify_issued_report(path, trust_roots, crls=crls, policy=policy)
        except VerifyError as exc:
            return VerifyOutcome(False, str(exc))
        except Exception as exc:  # a validator crash on a hostile file is a failed check, never a traceback
            return VerifyOutcome(False, f"签章核验出错：{type(exc).__name__}: {exc}")
        problems = report.all_problems()
        signers = [s.signer for s in report.signatures]
        summary = f"{len(signers)} 个签名有效：{'、'.join(signers)}" if report.ok else "；".join(problems[:4])
        # the latest trusted timestamp (RFC 3161) on the report: when it was sealed, by a clock not ours;
        # ingest counts retention from no earlier than that (archive/retention.py)
        stamps = [s.timestamp.time for s in report.signatures + report.document_timestamps
                  if s.timestamp is not None and s.timestamp.intact and s.timestamp.valid and s.timestamp.trusted]
        return VerifyOutcome(report.ok, summary, {"signers": signers, "certified": report.certified,
                                                  "problems": problems,
                                                  "timestamped_at": max(stamps).isoformat() if stamps else None})

    return verify


def completeness_policy(cfg: Any) -> Any:  # signing.seal.SigningConfig → signing.completeness.CompletenessPolicy
    from signing.completeness import CompletenessPolicy

    return CompletenessPolicy.from_config(cfg)


def archive_config(settings: Settings) -> ArchiveConfig:
    from archive.store import ArchiveConfig

    a = settings.archive
    return ArchiveConfig.under(settings.home, root=a.root, catalog=a.catalog, checkpoint_dir=a.checkpoint_dir,
                               checkpoint_every=a.checkpoint_every, retention=a.retention_table(a.retention),
                               server=settings.server_store(), copies=CASE_COPIES)


def open_store(settings: Settings, *, check: bool = True, create: bool = True) -> Catalog:
    """The one store factory: the catalog of `settings` — the PostgreSQL server of `[store] url` when set
    (never a SQLite file then), else the home's SQLite file. Every command and page opens the catalog
    here or through build_archive, which uses the same location. `create=False`: a SQLite file that does
    not exist yet is not created (GonguError instead)."""
    from archive.catalog import Catalog, CatalogError

    location = archive_config(settings).catalog_location
    if not create and isinstance(location, Path) and not location.is_file():
        raise GonguError(f"目录数据库 {location} 尚不存在（本数据目录还没有账户或档案）")
    try:
        return Catalog(location, check=check)
    except CatalogError as exc:
        raise GonguError(str(exc)) from None


def missing_package_advice(settings: Settings, *, command: str = "gongu archive audit") -> str:
    """What to do about a package the catalog lists but the root does not hold: check the mount when the
    root is not this archive's (archive/identity.py), else it is an incident — audit, restore from backup."""
    from archive.identity import root_state

    try:
        catalog = open_store(settings, check=False, create=False)
    except GonguError:
        return f"事故：请运行 {command}，从备份恢复"
    try:
        state = root_state(catalog, settings.resolve(settings.archive.root))
    finally:
        catalog.close()
    return state.message if state.mount_problem else f"事故：请运行 {command}，从备份恢复"


def _asn1_roots(paths: tuple[Path, ...] | list[Path]) -> list[Any]:
    """The trust roots as asn1crypto certificates (what pyHanko's validation takes); an unreadable file is
    reported by the seal verifier built from the same list."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    roots = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        blocks = [der for _t, _h, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        roots += [asn1_x509.Certificate.load(der) for der in blocks]
    return roots


def existing_store(settings: Settings, *, check: bool = True) -> Catalog | None:
    """The catalog of `settings` (open_store), or None when an embedded home has none yet: a reader or a
    lock that only matters where a catalog exists never creates one."""
    location = archive_config(settings).catalog_location
    if isinstance(location, Path) and not location.is_file():
        return None
    return open_store(settings, check=check, create=False)


def build_archive(settings: Settings, *, need_signer: bool = False, clock: Clock = SYSTEM_CLOCK,
                  catch_up: bool = True, write: bool = False) -> Archive:
    """The archive of `settings`, telling time by `clock` (the wall clock unless a test passes a
    generator.clock.FixedClock: no option or environment variable moves it).

    `write`: the caller is about to write (ingest, hold, disposal, checkpoint, fsck repair, index
    rebuild): the root must hold the identity the catalog expects (archive/identity.py), checked before
    anything is created or pinned; otherwise GonguError naming the path. Readers get the archive as it
    is, and never pin a certificate into a root that is not this archive's."""
    from archive.errors import ArchiveError
    from archive.store import Archive

    config = archive_config(settings)
    cfg = settings.signing_config()
    signer = firm_signer(cfg, need_signer=need_signer)
    verifier = make_verifier(list(cfg.trust_roots), list(cfg.crls), completeness_policy(cfg)) if cfg else None
    archive = Archive(config, signer=signer, verifier=verifier, clock=clock)
    if cfg is not None and cfg.tsa_url:  # time for disposal from outside the machine (archive/timestamps.py)
        from archive.timestamps import http_timestamper

        archive.timestamper = http_timestamper(cfg.tsa_url)
        archive.timestamp_roots = tuple(_asn1_roots(cfg.trust_roots))
    try:
        if write:
            archive.require_root()
        if signer is not None:
            _check_pin(config, signer.certificate, may_pin=write or archive.root_state().ok)
        from gongu.pipeline.ledger_rows import subscribe_ledger

        subscribe_ledger(archive)  # the work ledger's row of a forensic package, computed as it is ingested
        try:
            from gongu.pipeline.indexing import subscribe_index

            subscribe_index(archive, settings, catch_up=catch_up)
        except ImportError:  # the search index is optional for the archive
            pass
    except ArchiveError as exc:
        archive.close()
        raise GonguError(str(exc)) from None
    except BaseException:
        archive.close()
        raise
    return archive


def firm_signer(cfg: Any, *, need_signer: bool = False) -> Any:
    """The firm key that signs checkpoints (archive.eventlog.CheckpointSigner), unlocked with
    GONGU_FIRM_KEY_PASSPHRASE; None when not configured or not unlocked and not needed. When needed, a
    variable that is not set is reported as missing, not as a wrong passphrase."""
    from archive.eventlog import CheckpointSigner, SignerError

    if cfg is None:
        if need_signer:
            raise GonguError("未配置机构签章密钥（gongu.toml [signing] firm_p12），无法签署日志检查点")
        return None
    passphrase = os.environ.get(FIRM_PASSPHRASE_ENV)
    if passphrase is None:
        if need_signer:
            raise GonguError(f"未设置环境变量 {FIRM_PASSPHRASE_ENV}：机构签章密钥 {cfg.firm_p12} 的口令从该变量读取"
                             f"（{FIRM_PASSPHRASE_ENV} is not set）")
        return None
    try:
        return CheckpointSigner.from_pkcs12(cfg.firm_p12, passphrase.encode())
    except SignerError as exc:
        if need_signer:
            raise GonguError(f"{exc}（口令取自环境变量 {FIRM_PASSPHRASE_ENV}）") from None
        return None


def _check_pin(config: ArchiveConfig, certificate: Any, *, may_pin: bool = True) -> None:
    """Pin the unlocked firm key's certificate with the archive when nothing is pinned yet (a new
    archive, or one made before pinning: whoever holds the key and passphrase pins it) — only into a
    root that is this archive's (`may_pin`) — and refuse a key that is not the pinned one before any
    work, not when the first checkpoint is due (archive/firmcert.py)."""
    from archive.firmcert import PinError, add_pin, fingerprint, pin_file, pinned_certificates

    path = pin_file(config.files_dir)
    try:
        pinned = pinned_certificates(path)
        if not pinned and may_pin:
            add_pin(path, certificate)
    except (PinError, OSError) as exc:
        raise GonguError(str(exc)) from None
    if pinned and not any(fingerprint(c) == fingerprint(certificate) for c in pinned):
        raise GonguError(f"机构签章密钥的证书（{certificate.subject.rfc4514_string()}）不是本档案固定的机构证书"
                         f" {path}（firm key not pinned for this archive）")


def pin_firm_certificate(config: ArchiveConfig, signer: Any) -> str | None:
    """`gongu archive init`: pin the unlocked firm key's certificate with the archive now (for a shared
    catalog, in the shared package tree every office reads); returns what was pinned, None without a key."""
    if signer is None:
        return None
    from archive.firmcert import pin_file

    _check_pin(config, signer.certificate, may_pin=True)
    return f"{signer.certificate.subject.rfc4514_string()} → {pin_file(config.files_dir)}"


def trusted_firm_certs(archive: Archive) -> list[Any]:
    """Certificates a checkpoint may be signed by: the firm certificate pinned with the archive (read by
    archive.eventlog.verify_log itself), never whatever certificate a checkpoint carries. The unlocked
    firm key adds nothing: build_archive refuses a key whose certificate is not pinned."""
    return []


def full_audit(archive: Archive, settings: Settings, *, by: str,
               progress: Callable[[str, int], None] | None = None) -> AuditResult:
    """The 四性 audit as `gongu archive audit` and the workspace's audit page run it: every package, the
    catalog, disposals, the log and the clock (archive/audit.py), plus the search index agreeing with
    the catalog (usability: archived means findable)."""
    from archive.audit import audit
    from gongu.pipeline.indexing import catalog_index_drift

    result = audit(archive, progress=progress, trusted_certs=trusted_firm_certs(archive), by=by)
    drift = catalog_index_drift(archive, settings)
    result.add("usability", "检索索引与目录一致（已归档即可检索）", drift.clean,
               "；".join(drift.lines()[:5]) + "（gongu index sync 可修复）")
    return result


def archive_root_and_catalog_path(settings: Settings) -> tuple[Path, Path]:
    return settings.resolve(settings.archive.root), settings.resolve(settings.archive.catalog)


@contextmanager
def open_catalog(settings: Settings, *, check: bool = True) -> Iterator[Catalog | None]:
    """The archive catalog if there is one (read for holds and tombstones); None for a fresh home.
    `check=False`: only reading, so no up-front integrity scan (archive.catalog.Catalog)."""
    _, path = archive_root_and_catalog_path(settings)
    # a PostgreSQL catalog (gongu.toml [store]) is always there to open; a SQLite file only once made
    if settings.server_store() is None and not path.is_file():
        yield None
        return
    catalog = open_store(settings, check=check)
    try:
        yield catalog
    finally:
        catalog.close()
