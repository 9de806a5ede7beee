"""Web workspace accounts: who may log in, with which roles, their server-side sessions, the grants a
second admin confirms, and the login rate limits.

Tables sit on the catalog's SQLAlchemy `metadata` (revisions 0003, 0006) so they live in the same database
as the tamper-evident log the trail writes to, and work unchanged on PostgreSQL (SQLAlchemy Core only).
Passwords are Argon2id hashes (argon2-cffi); sessions and rate limits are kept here, not in memory, so
they hold across server workers and restarts."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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
from archive.sessions import end_all as _end_sessions
from generator.persons import person_key

# The one list of roles an account may hold, with the title pages and messages show. Defined here, where
# accounts are stored, so the archive checks them without depending on the web.
# supervisor / forensic_supervisor: every case of one kind, given on purpose (gongu/access/case_access.py)
ROLES: dict[str, str] = {
    "handler": "承办", "proofreader": "校对", "rechecker": "复核", "approver": "审核",
    "archivist": "档案管理", "appraiser": "鉴定人", "reviewer": "鉴定复核", "admin": "管理员",
    "supervisor": "公估主管", "forensic_supervisor": "鉴定主管"}
ALL_ROLES = frozenset(ROLES)

# Which role reviews which level, per case kind (ROLES above): a survey report's 复核 is the
# rechecker's (9.3), a forensic appraisal's the 鉴定复核 reviewer's (通则 Art 35) — never the other kind's.
LEVEL_ROLES: dict[str, dict[str, frozenset[str]]] = {
    "car_survey": {"proofread": frozenset({"proofreader"}), "recheck": frozenset({"rechecker"}),
                   "approve": frozenset({"approver"})},
    "forensic_appraisal": {"proofread": frozenset({"proofreader"}), "recheck": frozenset({"reviewer"}),
                           "approve": frozenset({"approver"})},
}
REVIEW_LEVELS = ("proofread", "recheck", "approve")


def level_roles(kind: str, level: str) -> frozenset[str]:
    """The roles that may decide `level` of a case of `kind` (none for an unknown kind or level)."""
    return LEVEL_ROLES.get(kind, {}).get(level, frozenset())


def kinds_reviewed(roles: frozenset[str], level: str) -> list[str]:
    """The case kinds whose `level` an account with `roles` decides: what its queue of that level lists."""
    return [kind for kind in LEVEL_ROLES if roles & level_roles(kind, level)]


accounts_table = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("person", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    # 0 while the password is one an admin set: the person sets their own at the next login
    Column("password_own", Integer, nullable=False, server_default="1"),
    Column("email", Text),  # where the daily reminder digest goes (revision 0011); none: the queue page only
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

account_grants_table = Table(
    "account_grants", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("what", Text, nullable=False),  # a role, or PASSWORD_GRANT for a password an admin set
    Column("granted_at", Text, nullable=False),
    Column("granted_by", Text, nullable=False),
    Column("confirmed_by", Text),
    Column("confirmed_at", Text),
)

MAX_FAILURES = 5  # failures in a row before the username+client pair is locked
LOCK_MINUTES = 15
# One client trying one password against many usernames: failures of all names from one client within
# LOCK_MINUTES, counted on the row whose username is CLIENT_KEY (no account can be named "").
CLIENT_MAX_FAILURES = 20
CLIENT_KEY = ""
MIN_PASSWORD = 12
GRANT_DELAY_HOURS = 72  # default of [accounts] grant_delay_hours
PASSWORD_GRANT = "password"
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
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
    password_own: bool = True  # False: an admin set it; the person must set their own before anything else
    email: str | None = None


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
    return Account(row["id"], row["username"], row["person"], frozenset(r["role"] for r in roles), bool(row["disabled"]),
                   bool(row["password_own"]), row["email"])


def get_account(catalog: Catalog, username: str) -> Account | None:
    return _load(catalog, username)


def get_account_by_id(catalog: Catalog, account_id: int) -> Account | None:
    name = catalog._scalar(select(accounts_table.c.username).where(accounts_table.c.id == account_id))
    return _load(catalog, name) if name is not None else None


def list_accounts(catalog: Catalog) -> list[Account]:
    names = [r["username"] for r in catalog._rows(select(accounts_table.c.username).order_by(accounts_table.c.username))]
    return [a for a in (_load(catalog, n) for n in names) if a is not None]


def _check_roles(roles: set[str] | frozenset[str]) -> None:
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


@functools.cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in (line.strip() for line in lines) if w and not w.startswith("#"))


_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def common_password(password: str) -> bool:
    """True for a password of the common list (archive/common_passwords.txt), one of its words with only
    digits or punctuation around it ("Password2024!"), or one short piece repeated ("qwertyqwerty")."""
    folded = password.casefold()
    common = _common_passwords()
    core = _EDGES.sub("", folded)
    return (folded in common or (len(core) >= 4 and core in common) or folded.isdigit()
            or re.fullmatch(r"(.{1,6}?)\1+", folded) is not None)


def check_password(password: str, username: str = "") -> None:
    """The password rules: at least MIN_PASSWORD characters, not common, not containing the username."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符（password too short）")
    if common_password(password):
        raise AccountError("密码过于常见（在常用密码表中，或只是常用词加数字、重复的短串）；请另选（common password）")
    if len(username) >= 4 and username_key(username) in password.casefold():
        raise AccountError("密码不能包含用户名（password contains the username）")


def _grant(conn: Any, account_id: int, what: str, now: datetime, by: str) -> None:
    conn.execute(insert(account_grants_table).values(account_id=account_id, what=what, granted_at=now.isoformat(),
                                                     granted_by=by or "命令行"))


def add_account(catalog: Catalog, username: str, *, password: str, roles: set[str] | frozenset[str],
                person: str, now: datetime, by: str = "") -> Account:
    """A new account with a password its person did not choose (they set their own at first login) and
    one grant per role, pending until a second admin confirms it or GRANT_DELAY_HOURS pass. `by`: the
    admin account that adds it ("" for the command line)."""
    username = _clean_username(username)
    if not person.strip():
        raise AccountError("须写明姓名（--person）")
    _check_roles(roles)
    check_password(password, username)
    with catalog.write():
        conn = catalog._writing()
        if _load(catalog, username) is not None:
            raise AccountError(f"账户 {username} 已存在（account exists）")
        account_id = int(conn.execute(insert(accounts_table).values(
            username=username, person=person.strip(), password_hash=hash_password(password), disabled=0,
            created_at=now.isoformat(), password_own=0)).inserted_primary_key[0])
        for role in sorted(roles):
            conn.execute(insert(account_roles_table).values(account_id=account_id, role=role))
            _grant(conn, account_id, role, now, by)
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
    """Disable (or enable) an account; disabling ends its sessions at once."""
    account = _require(catalog, username)
    _keep_an_admin(catalog, account, losing=disabled)
    with catalog.write():
        conn = catalog._writing()
        conn.execute(update(accounts_table).where(accounts_table.c.id == account.id).values(disabled=int(disabled)))
        if disabled:
            _end_sessions(conn, account.id)
    return _require(catalog, username)


def set_password(catalog: Catalog, username: str, password: str, *, own: bool = False, by: str = "",
                 now: datetime | None = None) -> None:
    """Set a password and end every session of the account (a copied cookie stops working). `own`: the
    person chose it themselves (logged in, with the current password); otherwise an admin did, so the
    person must set their own at the next login, and the reset is a grant a second admin confirms."""
    check_password(password, username)
    account = _require(catalog, username)
    when = now or _clock_now()
    with catalog.write():
        conn = catalog._writing()
        conn.execute(update(accounts_table).where(accounts_table.c.id == account.id)
                     .values(password_hash=hash_password(password), password_own=int(own)))
        if not own:
            _grant(conn, account.id, PASSWORD_GRANT, when, by)
        _end_sessions(conn, account.id)


def set_roles(catalog: Catalog, username: str, roles: set[str] | frozenset[str], *, by: str = "",
              now: datetime | None = None) -> Account:
    """Replace the account's roles: each new role is a pending grant, a removed role's grants go, and the
    account's sessions end (the next request sees the new roles only after logging in again)."""
    _check_roles(roles)
    account = _require(catalog, username)
    _keep_an_admin(catalog, account, losing="admin" not in roles)
    when = now or _clock_now()
    with catalog.write():
        conn = catalog._writing()
        conn.execute(delete(account_roles_table).where(account_roles_table.c.account_id == account.id))
        for role in sorted(roles):
            conn.execute(insert(account_roles_table).values(account_id=account.id, role=role))
            if role not in account.roles:
                _grant(conn, account.id, role, when, by)
        gone = sorted(account.roles - set(roles))
        if gone:
            conn.execute(delete(account_grants_table).where(account_grants_table.c.account_id == account.id,
                                                            account_grants_table.c.what.in_(gone)))
        if set(roles) != set(account.roles):
            _end_sessions(conn, account.id)
    return _require(catalog, username)


_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def check_address(address: str) -> str:
    """An e-mail address as the SMTP envelope takes it (local@domain, ASCII, at most 254 characters);
    AccountError otherwise. A display name ("王志强 <a@b>") is not an address."""
    value = address.strip()
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        raise AccountError(f"电子邮件地址无效（invalid e-mail address; local@domain, ASCII only）：{address!r}")
    return value


def set_email(catalog: Catalog, username: str, address: str | None) -> Account:
    """Set (or, with None, remove) the address the account's person gets reminder digests at."""
    value = check_address(address) if address is not None else None
    account = _require(catalog, username)
    with catalog.write():
        catalog._writing().execute(update(accounts_table).where(accounts_table.c.id == account.id).values(email=value))
    return _require(catalog, username)


def addresses_of(catalog: Catalog, person: str) -> list[str]:
    """The distinct e-mail addresses of the enabled accounts of `person` (compared by person_key)."""
    key = person_key(person)
    rows = catalog._rows(select(accounts_table.c.person, accounts_table.c.email).where(
        accounts_table.c.disabled == 0, accounts_table.c.email.is_not(None)).order_by(accounts_table.c.username))
    return list(dict.fromkeys(r["email"] for r in rows if person_key(r["person"]) == key))


def _clock_now() -> datetime:
    from generator.clock import SYSTEM_CLOCK

    return SYSTEM_CLOCK.now()


# ── grants and the two-person rule ──

@dataclass(frozen=True)
class Grant:
    id: int
    username: str
    person: str
    what: str  # a role or PASSWORD_GRANT
    granted_at: datetime
    granted_by: str
    confirmed_by: str | None
    confirmed_at: datetime | None


def grants(catalog: Catalog, username: str | None = None, *, pending_only: bool = False) -> list[Grant]:
    """Grants (of one account, or all), oldest first; what every admin sees on the accounts page."""
    g, a = account_grants_table, accounts_table
    query = select(g, a.c.username, a.c.person).join(a, a.c.id == g.c.account_id).order_by(g.c.id)
    if username is not None:
        query = query.where(a.c.id == _require(catalog, username).id)
    if pending_only:
        query = query.where(g.c.confirmed_by.is_(None))
    return [Grant(r["id"], r["username"], r["person"], r["what"], datetime.fromisoformat(r["granted_at"]),
                  r["granted_by"], r["confirmed_by"],
                  datetime.fromisoformat(r["confirmed_at"]) if r["confirmed_at"] else None)
            for r in catalog._rows(query)]


def confirm_grants(catalog: Catalog, username: str, *, by: str, now: datetime) -> int:
    """A second admin confirms the account's pending grants: `by` must be an enabled admin account, not
    the account itself, and confirms only grants another admin (or the command line) made."""
    admin = _load(catalog, by)
    if admin is None or admin.disabled or "admin" not in admin.roles:
        raise AccountError(f"只有可用的管理员账户能确认授予：{by} 不是（confirm needs an admin）")
    account = _require(catalog, username)
    if account.id == admin.id:
        raise AccountError("不能确认授予自己的角色或密码（须由另一名管理员确认）")
    pending = [g for g in grants(catalog, account.username, pending_only=True)]
    mine = [g for g in pending if g.granted_by == admin.username]
    todo = [g for g in pending if g.granted_by != admin.username]
    if not todo:
        if mine:
            raise AccountError(f"账户 {account.username} 待确认的授予都是 {admin.username} 本人所为，须由另一名管理员确认")
        raise AccountError(f"账户 {account.username} 没有待确认的授予")
    with catalog.write():
        catalog._writing().execute(update(account_grants_table)
                                   .where(account_grants_table.c.id.in_([g.id for g in todo]))
                                   .values(confirmed_by=admin.username, confirmed_at=now.isoformat()))
    return len(todo)


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def grant_wait(grant: Grant, now: datetime, delay_hours: int) -> float:
    """Hours left before an unconfirmed grant counts (0 when confirmed or old enough)."""
    if grant.confirmed_by is not None:
        return 0.0
    return max(0.0, delay_hours - _hours(now - grant.granted_at))


def decision_blocker(catalog: Catalog, username: str, now: datetime, delay_hours: int = GRANT_DELAY_HOURS,
                     role: str | None = None) -> str | None:
    """Why this account may not (yet) take part in a two-person decision (disposal approval or execution,
    hold release, a review level), or None. The person must have set their own password, and every grant
    behind the decision (the `role` given, or every role; and an admin-set password) must be confirmed
    by a second admin or be `delay_hours` old — time in which every admin sees it on the accounts page."""
    account = _load(catalog, username)
    if account is None or account.disabled:
        return f"没有可用的账户 {username}"
    if not account.password_own:
        return (f"账户 {account.username}（{account.person}）的密码由管理员设置，本人尚未设置自己的密码："
                "登录并设置本人密码后才能参与双人决定")
    for grant in grants(catalog, account.username, pending_only=True):
        if role is not None and grant.what not in (role, PASSWORD_GRANT):
            continue
        left = grant_wait(grant, now, delay_hours)
        if left > 0:
            what = "管理员重设的密码" if grant.what == PASSWORD_GRANT else f"角色 {grant.what}"
            return (f"账户 {account.username}（{account.person}）的{what}于 {grant.granted_at:%Y-%m-%d %H:%M} "
                    f"由 {grant.granted_by} 授予，尚未经第二名管理员确认，也未满 {delay_hours} 小时"
                    f"（还差约 {left:.0f} 小时）：此前不能参与双人决定")
    return None


def account_age_hours(catalog: Catalog, username: str, now: datetime) -> float | None:
    row = _row(catalog, username)
    return _hours(now - datetime.fromisoformat(row["created_at"])) if row is not None else None


# ── login and its rate limit ──

@dataclass(frozen=True)
class LoginOutcome:
    account: Account | None
    locked_until: datetime | None = None  # set when the pair or the client is locked (before or by this attempt)
    client_locked: bool = False  # the lock is the client's, whatever username it tries


def locked_until(catalog: Catalog, username: str, client: str, now: datetime) -> datetime | None:
    row = catalog._one(select(login_failures_table).where(login_failures_table.c.username == username,
                                                          login_failures_table.c.client == client))
    if row is None or row["locked_until"] is None:
        return None
    until = datetime.fromisoformat(row["locked_until"])
    return until if until > now else None


def _count_failure(conn: Any, username: str, client: str, now: datetime, limit: int, *, window: bool) -> datetime | None:
    """One more failure on the (username, client) row; the lock time when it reaches `limit`. `window`:
    failures older than LOCK_MINUTES no longer count (the client row, which a success does not reset)."""
    key = (login_failures_table.c.username == username, login_failures_table.c.client == client)
    row = conn.execute(select(login_failures_table.c.failures, login_failures_table.c.last_failure).where(*key)).first()
    current = row[0] if row is not None else None
    if row is not None and window and now - datetime.fromisoformat(row[1]) > timedelta(minutes=LOCK_MINUTES):
        current = 0
    failures = (current or 0) + 1
    lock = (now + timedelta(minutes=LOCK_MINUTES)) if failures >= limit else None
    values = {"failures": 0 if lock else failures, "locked_until": lock.isoformat() if lock else None,
              "last_failure": now.isoformat()}
    if row is None:
        conn.execute(insert(login_failures_table).values(username=username, client=client, **values))
    else:
        conn.execute(update(login_failures_table).where(*key).values(**values))
    return lock


def check_login(catalog: Catalog, username: str, password: str, client: str, now: datetime) -> LoginOutcome:
    """The account when the password is right, it is enabled and neither the pair nor the client is
    locked. A locked pair or client is refused without checking the password, so guessing on during the
    lock teaches nothing. The client lock (CLIENT_MAX_FAILURES failures of any names within LOCK_MINUTES)
    stops one client trying one password against every username."""
    row = _row(catalog, username)
    # one counter per account whatever the spelling typed (Demo-Admin, ｄｅｍｏ-admin): no fresh tries by case
    username = str(row["username"]) if row is not None else username_key(username)
    client_until = locked_until(catalog, CLIENT_KEY, client, now)
    if client_until is not None:
        return LoginOutcome(None, client_until, client_locked=True)
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
        if ok:
            conn.execute(delete(login_failures_table).where(login_failures_table.c.username == username,
                                                            login_failures_table.c.client == client))
            if _hasher.check_needs_rehash(row["password_hash"]):
                conn.execute(update(accounts_table).where(accounts_table.c.id == row["id"])
                             .values(password_hash=hash_password(password)))
        else:
            lock = _count_failure(conn, username, client, now, MAX_FAILURES, window=False)
            client_lock = _count_failure(conn, CLIENT_KEY, client, now, CLIENT_MAX_FAILURES, window=True)
            if client_lock is not None:
                return LoginOutcome(None, client_lock, client_locked=True)
            return LoginOutcome(None, lock)
    return LoginOutcome(_load(catalog, username))
