"""Which package tree belongs to which catalog: the archive's identity.

Every office of a multi-office firm mounts one shared package tree (`[archive] root`) and writes one
catalog. An office whose share is not mounted sees an empty folder at that path; without a check it
would start a second archive there — new `packages/`, a newly pinned firm certificate, packages the
other offices then miss. So `gongu archive init` (the only way to start an archive) records an
identity in both places:

- in the catalog, table `archive_identity`: the archive id, the catalog's fingerprint (a random value
  that exists only in this catalog and in its root), when and by whom it was made;
- in the root, `gongu-archive.json` with the same id and fingerprint.

Every command that writes (ingest, holds, disposal, checkpoints, fsck repairs, index rebuilds) first
checks that the root holds the identity its catalog expects (`require_root`), and refuses before
creating anything when it does not: the root is missing or empty (the share looks unmounted), holds
another archive's identity (the wrong share), or the catalog was never initialised. Audit and fsck
say "check the mount" for these, not "restore from backup" (`root_state`)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, Table, Text, insert, select

from archive.catalog import Catalog, metadata
from archive.errors import ArchiveError

IDENTITY_FILE = "gongu-archive.json"
FORMAT = "gongu-archive-identity/1"

identity_table = Table(
    "archive_identity", metadata,
    Column("archive_id", Text, primary_key=True),
    Column("catalog_fingerprint", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
)


class ArchiveRootError(ArchiveError):
    """The archive root does not hold this catalog's identity: nothing may be written there."""


@dataclass(frozen=True)
class Identity:
    archive_id: str
    catalog_fingerprint: str

    def as_dict(self) -> dict[str, str]:
        return {"format": FORMAT, "archive_id": self.archive_id, "catalog_fingerprint": self.catalog_fingerprint}


@dataclass(frozen=True)
class RootState:
    """What the root holds compared with the catalog. `kind`: ok | uninitialised | missing | foreign."""

    kind: str
    root: Path
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    @property
    def mount_problem(self) -> bool:
        """The root is absent, empty or another archive's: check the mount, not a backup."""
        return self.kind in ("missing", "foreign")


def identity_file(root: Path) -> Path:
    return Path(root) / IDENTITY_FILE


def catalog_identity(catalog: Catalog) -> Identity | None:
    row = catalog._one(select(identity_table))  # noqa: SLF001 — the catalog's query helper, as accounts use it
    return None if row is None else Identity(row["archive_id"], row["catalog_fingerprint"])


def read_identity(root: Path) -> Identity | None:
    """The identity in `root`; None when the root or its file does not exist. A file that is not one
    (damaged, another program's) raises ArchiveRootError."""
    path = identity_file(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveRootError(f"档案标识文件 {path} 无法读取（{exc}）：请检查共享目录是否正确挂载") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not all(
            isinstance(data.get(k), str) for k in ("archive_id", "catalog_fingerprint")):
        raise ArchiveRootError(f"{path} 不是 Gongu 档案标识文件（format {FORMAT}）：请检查共享目录是否正确挂载")
    return Identity(data["archive_id"], data["catalog_fingerprint"])


def root_state(catalog: Catalog, root: Path) -> RootState:
    root = Path(root)
    expected = catalog_identity(catalog)
    if expected is None:
        return RootState("uninitialised", root, f"档案尚未初始化：目录 {catalog.label} 中没有档案标识。新建档案（或升级旧档案）"
                         "请先运行 gongu archive init；各分支机构共用一个档案时，只在第一个办公室运行一次")
    try:
        found = read_identity(root)
    except ArchiveRootError as exc:
        return RootState("foreign", root, str(exc))
    if found is None:
        where = "不存在" if not root.exists() else "中没有档案标识文件 " + IDENTITY_FILE
        return RootState("missing", root, f"档案根目录 {root} {where}：共享目录似乎未挂载，或 [archive] root "
                         f"指向了错误的路径（本目录的档案标识 {expected.archive_id}）。请检查挂载后重试（这不是档案包丢失）"
                         "（the archive share looks unmounted: check the mount）")
    if found != expected:
        what = ("属于另一个档案（标识 " + found.archive_id + "）" if found.archive_id != expected.archive_id
                else "的标识与本目录不配对（目录指纹不同）")
        return RootState("foreign", root, f"档案根目录 {root} {what}，而本目录的档案标识为 {expected.archive_id}："
                         "[archive] root 指向了错误的共享目录，或挂载了别的档案。请检查挂载"
                         "（wrong archive share: check the mount）")
    return RootState("ok", root)


def require_root(catalog: Catalog, root: Path) -> None:
    """Before any write: the root holds this catalog's identity, else ArchiveRootError (nothing written)."""
    state = root_state(catalog, root)
    if not state.ok:
        raise ArchiveRootError(state.message + "。未写入任何内容")


@dataclass(frozen=True)
class InitResult:
    identity: Identity
    created: bool  # False: the archive was already initialised with this root


def init_archive(catalog: Catalog, root: Path, *, at: datetime, by: str) -> InitResult:
    """`gongu archive init`: give a new archive (or one from before identities) its identity.

    Refused when it could start a second archive: the catalog already has an identity that the root
    lacks (the share is not mounted), the root holds another archive's identity, the catalog lists
    packages the root does not hold, or the root holds packages a new catalog does not list."""
    from archive import package

    root = Path(root)
    expected = catalog_identity(catalog)
    found = read_identity(root)
    if expected is not None:
        state = root_state(catalog, root)
        if state.ok:
            return InitResult(expected, False)
        raise ArchiveRootError(state.message + "。档案已初始化过，不会在此另建档案")
    listed = catalog.packages(state="active")
    on_disk = list(package.iter_bags(root)) if root.is_dir() else []
    if found is not None and (listed or on_disk):
        raise ArchiveRootError(f"档案根目录 {root} 已属于档案 {found.archive_id}，而目录 {catalog.label} 没有档案标识："
                               "gongu.toml 的 [store] 或 [archive] 指向了不配对的目录与共享目录，未初始化")
    absent = [r["rel_path"] for r in listed if not (root.joinpath(*str(r["rel_path"]).split("/"))).is_dir()]
    if absent:
        raise ArchiveRootError(f"目录登记了 {len(listed)} 个档案包，其中 {len(absent)} 个不在 {root}（如 "
                               f"{'、'.join(absent[:3])}）：共享目录似乎未挂载或路径有误，未初始化（check the mount）")
    if not listed and on_disk:
        raise ArchiveRootError(f"{root} 中已有 {len(on_disk)} 个档案包，而目录 {catalog.label} 是空的：这是另一个档案的目录，"
                               "未初始化（加入共用档案见 docs/deployment.md，gongu store join）")
    identity = found or Identity(str(uuid.uuid4()), secrets.token_hex(32))
    with catalog.write():
        catalog._writing().execute(insert(identity_table).values(  # noqa: SLF001
            archive_id=identity.archive_id, catalog_fingerprint=identity.catalog_fingerprint,
            created_at=at.isoformat(), created_by=by))
        if found is None:  # written inside the transaction: a failed write leaves the catalog without an identity
            write_identity(root, identity)
    return InitResult(identity, True)


def write_identity(root: Path, identity: Identity) -> None:
    from generator.atomic import atomic_write

    data = json.dumps(identity.as_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write(identity_file(root), data.encode("utf-8"))


__all__ = ["IDENTITY_FILE", "ArchiveRootError", "Identity", "InitResult", "RootState", "catalog_identity",
           "identity_table", "init_archive", "read_identity", "require_root", "root_state", "write_identity"]
