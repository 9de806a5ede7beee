"""Web workspace accounts (issue 15 §2): who may log in, with which roles, and the login rate limit.

Tables sit on the catalog's SQLAlchemy `metadata` (revision 0003) so they live in the same database as
the tamper-evident log the trail writes to, and work unchanged on PostgreSQL (SQLAlchemy Core only).
Passwords are Argon2id hashes (argon2-cffi); the rate limit is kept here, not in memory, so it holds
across server workers and restarts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from archive.catalog import Catalog, metadata
from archive.errors import ArchiveError

accounts_table = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("person", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
)
account_roles_table = Table(
    "account_roles", metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("role", Text, nullable=False),
    PrimaryKeyConstraint("account_id", "role"),
)
login_failures_table = Table(
    "login_failures", metadata,
    Column("username", Text, nullable=False),
    Column("client", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Text),
    Column("last_failure", Text, nullable=False),
    PrimaryKeyConstraint("username", "client"),
)

MAX_FAILURES = 5  # failures in a row before the username+client pair is locked
LOCK_MINUTES = 15
_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile


class AccountError(ArchiveError):
    """A refused account operation (unknown name, duplicate, bad role); exit code 2 in the CLI."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    person: str
    roles: frozenset[str]
    disabled: bool = False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _row(catalog: Catalog, username: str) -> dict | None:
    """The account row by the name as typed, else by its stored form (username_key)."""
    table = accounts_table.c.username
    row = catalog._one(select(accounts_table).where(table == username))
    if row is None and username_key(username) != username:
        row = catalog._one(select(accounts_table).where(table == username_key(username)))
    return row


def _load(catalog: Catalog, username: str) -> Account | None:
    row = _row(catalog, username)
    if row is None:
        return None
    roles = catalog._rows(select(account_roles_table.c.role).where(account_roles_table.c.account_id == row["id"]))
    return Account(row["id"], row["username"], row["person"], frozenset(r["role"] for r in roles), bool(row["disabled"]))


def get_account(catalog: Catalog, username: str) -> Account | None:
    return _load(catalog, username)


def get_account_by_id(catalog: Catalog, account_id: int) -> Account | None:
    name = catalog._scalar(select(accounts_table.c.username).where(accounts_table.c.id == account_id))
    return _load(catalog, name) if name is not None else None


def list_accounts(catalog: Catalog) -> list[Account]:
    names = [r["username"] for r in catalog._rows(select(accounts_table.c.username).order_by(accounts_table.c.username))]
    return [a for a in (_load(catalog, n) for n in names) if a is not None]


def _check_roles(roles: set[str] | frozenset[str]) -> None:
    from gongu.web.access import ROLES  # the one list of roles

    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise AccountError(f"未知角色（unknown role）：{'、'.join(unknown)}；可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    if not roles:
        raise AccountError("账户至少须有一个角色（--role）")


def username_key(username: str) -> str:
    """The one form a username is stored and looked up in: NFKC, case-folded, so `Demo-Admin` and
    `ｄｅｍｏ-admin` are the account `demo-admin`, never a second one beside it."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def _clean_username(username: str) -> str:
    """A new username in its stored form; refused when empty or carrying whitespace, control, format
    (zero-width, bidi) or unassigned characters, which make two names look alike (`admin\u200b`)."""
    name = username.strip()
    bad = [c for c in name if c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")]
    if not name or bad:
        shown = "、".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
        raise AccountError(f"用户名不能为空，也不能含空白、控制字符或不可见的格式字符（invalid username）"
                           f"{('：' + shown) if shown else ''}：{username!r}")
    return username_key(name)


def add_account(catalog: Catalog, username: str, *, password: str, roles: set[str] | frozenset[str],
                person: str, now: datetime) -> Account:
    username = _clean_username(username)
    if not person.strip():
        raise AccountError("须写明姓名（--person）")
    if len(password) < 8:
        raise AccountError("密码至少 8 个字符（password too short）")
    _check_roles(roles)
    with catalog.write():
        conn = catalog._writing()
        if _load(catalog, username) is not None:
            raise AccountError(f"账户 {username} 已存在（account exists）")
        account_id = int(conn.execute(insert(accounts_table).values(
            username=username, person=person.strip(), password_hash=hash_password(password), disabled=0,
            created_at=now.isoformat())).inserted_primary_key[0])
        for role in sorted(roles):
            conn.execute(insert(account_roles_table).values(account_id=account_id, role=role))
    account = _load(catalog, username)
    assert account is not None
    return account


def _require(catalog: Catalog, username: str) -> Account:
    account = _load(catalog, username)
    if account is None:
        raise AccountError(f"没有账户 {username}（no such account）")
    return account


def _keep_an_admin(catalog: Catalog, account: Account, *, losing: bool) -> None:
    """The last enabled admin may not lose the role or be disabled: no command could restore it."""
    if not losing or "admin" not in account.roles or account.disabled:
        return
    others = [a for a in list_accounts(catalog) if a.id != account.id and "admin" in a.roles and not a.disabled]
    if not others:
        raise AccountError(f"账户 {account.username} 是最后一个可用的管理员（admin），不能取消其管理员角色或停用它"
                           "（the last admin keeps the role）")


def set_disabled(catalog: Catalog, username: str, disabled: bool = True) -> Account:
    account = _require(catalog, username)
    _keep_an_admin(catalog, account, losing=disabled)
    with catalog.write():
        catalog._writing().execute(update(accounts_table).where(accounts_table.c.id == account.id)
                                   .values(disabled=int(disabled)))
    return _require(catalog, username)


def set_password(catalog: Catalog, username: str, password: str) -> None:
    if len(password) < 8:
        raise AccountError("密码至少 8 个字符（password too short）")
    account = _require(catalog, username)
    with catalog.write():
        catalog._writing().execute(update(accounts_table).where(accounts_table.c.id == account.id)
                                   .values(password_hash=hash_password(password)))


def set_roles(catalog: Catalog, username: str, roles: set[str] | frozenset[str]) -> Account:
    _check_roles(roles)
    account = _require(catalog, username)
    _keep_an_admin(catalog, account, losing="admin" not in roles)
    with catalog.write():
        conn = catalog._writing()
        conn.execute(delete(account_roles_table).where(account_roles_table.c.account_id == account.id))
        for role in sorted(roles):
            conn.execute(insert(account_roles_table).values(account_id=account.id, role=role))
    return _require(catalog, username)


# ── login and its rate limit ──

@dataclass(frozen=True)
class LoginOutcome:
    account: Account | None
    locked_until: datetime | None = None  # set when the pair is locked (before or by this attempt)


def locked_until(catalog: Catalog, username: str, client: str, now: datetime) -> datetime | None:
    row = catalog._one(select(login_failures_table).where(login_failures_table.c.username == username,
                                                          login_failures_table.c.client == client))
    if row is None or row["locked_until"] is None:
        return None
    until = datetime.fromisoformat(row["locked_until"])
    return until if until > now else None


def check_login(catalog: Catalog, username: str, password: str, client: str, now: datetime) -> LoginOutcome:
    """The account when the password is right, it is enabled and the pair is not locked. A locked pair
    is refused without checking the password, so guessing on during the lock teaches nothing."""
    row = _row(catalog, username)
    # one counter per account whatever the spelling typed (Demo-Admin, ｄｅｍｏ-admin): no fresh tries by case
    username = str(row["username"]) if row is not None else username_key(username)
    until = locked_until(catalog, username, client, now)
    if until is not None:
        return LoginOutcome(None, until)
    ok = False
    if row is not None and not row["disabled"]:
        try:
            ok = _hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # same work for an unknown name: response time does not reveal accounts
    with catalog.write():
        conn = catalog._writing()
        key = (login_failures_table.c.username == username, login_failures_table.c.client == client)
        if ok:
            conn.execute(delete(login_failures_table).where(*key))
            if _hasher.check_needs_rehash(row["password_hash"]):
                conn.execute(update(accounts_table).where(accounts_table.c.id == row["id"])
                             .values(password_hash=hash_password(password)))
        else:
            current = conn.execute(select(login_failures_table.c.failures).where(*key)).scalar()
            failures = (current or 0) + 1
            lock = (now + timedelta(minutes=LOCK_MINUTES)) if failures >= MAX_FAILURES else None
            values = {"failures": 0 if lock else failures, "locked_until": lock.isoformat() if lock else None,
                      "last_failure": now.isoformat()}
            if current is None:
                conn.execute(insert(login_failures_table).values(username=username, client=client, **values))
            else:
                conn.execute(update(login_failures_table).where(*key).values(**values))
            return LoginOutcome(None, lock)
    return LoginOutcome(_load(catalog, username))
