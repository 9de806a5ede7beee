"""A person's decision on the command line needs that person's own credential (a review level, a
disposal step, a hold): `--by` / `--reviewer` names the person, and the person proves it with

- their workspace account password: `GONGU_PASSWORD`, else a hidden prompt on a terminal, checked
  against an enabled account of that person holding a role for the decision (archive/accounts.py, with
  its failed-login limit), or
- their signing key (gongu.toml [signing.handlers], passphrase from `GONGU_HANDLER_KEY_PASSPHRASE` or a
  prompt) signing the decision itself, when the person has a key configured and no password is given.

`confirm_person` returns what the log event records about the credential used; it never contains a
password or passphrase."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from archive.accounts import Account, check_login, list_accounts
from archive.catalog import Catalog, canonical
from generator.persons import same_person
from gongu.output import GonguError
from gongu.settings import Settings

PASSWORD_ENV = "GONGU_PASSWORD"
KEY_PASSPHRASE_ENV = "GONGU_HANDLER_KEY_PASSPHRASE"
CLI_CLIENT = "cli"  # the failed-login counter's client for the command line
DEMO_MARK = " (DEMO)"  # the demo PKI's common names: "王志强 (DEMO)" (signing/keys.py)


class CredentialRefused(GonguError):
    """The person's credential is missing or wrong: nothing was decided (exit code 2)."""


def person_accounts(catalog: Catalog, person: str, roles: Iterable[str]) -> list[Account]:
    wanted = frozenset(roles)
    return [a for a in list_accounts(catalog) if same_person(a.person, person) and not a.disabled
            and a.roles & wanted]


# Decisions that are the second person of a two-person rule: an account new, with an admin-set password or
# a fresh role takes part only once its grant is confirmed or old enough (archive/accounts.py).
TWO_PERSON_ACTIONS = frozenset({"dispose_approve", "dispose_execute", "release", "review"})


def confirm_person(catalog: Catalog, settings: Settings, person: str, *, roles: Iterable[str],
                   decision: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Check that `person` (registered spelling) gives `decision` with their own credential; return the
    credential record for the log. Raises CredentialRefused naming what is missing."""
    credential = _confirm(catalog, settings, person, roles=roles, decision=decision, now=now)
    if decision.get("action") in TWO_PERSON_ACTIONS and credential.get("account"):
        from archive.accounts import decision_blocker

        if reason := decision_blocker(catalog, str(credential["account"]), now, settings.accounts.grant_delay_hours):
            raise CredentialRefused(reason)
    return credential


def _confirm(catalog: Catalog, settings: Settings, person: str, *, roles: Iterable[str],
             decision: dict[str, Any], now: datetime) -> dict[str, Any]:
    roles = frozenset(roles)
    role_text = "、".join(sorted(roles))
    accounts = person_accounts(catalog, person, roles)
    if not accounts:
        raise CredentialRefused(f"{person} 没有可用的、具有此决定所需角色（{role_text}）的账户："
                                "决定须由本人以自己的账户凭据作出（gongu users add / roles）")
    password = os.environ.get(PASSWORD_ENV)
    key = _person_key(settings, person)
    if password is None and key is None and sys.stdin.isatty():
        import typer

        password = typer.prompt(f"{person} 的账户密码", hide_input=True)
    if password is not None:
        return _by_password(catalog, person, accounts, password, now)
    if key is not None:
        return _by_key(person, accounts, key, _trust_roots(settings), decision, now)
    raise CredentialRefused(f"须由 {person} 本人确认：请在终端输入其账户密码，或设置环境变量 {PASSWORD_ENV}"
                            "（也可在 gongu.toml [signing.handlers] 配置其签名密钥）")


def _by_password(catalog: Catalog, person: str, accounts: list[Account], password: str,
                 now: datetime) -> dict[str, Any]:
    for account in accounts:
        outcome = check_login(catalog, account.username, password, CLI_CLIENT, now)
        if outcome.account is not None:
            return {"method": "password", "account": account.username}
        if outcome.locked_until is not None:
            raise CredentialRefused(f"账户 {account.username} 因多次密码错误已锁定至 "
                                    f"{outcome.locked_until.isoformat(timespec='minutes')}")
    raise CredentialRefused(f"{person} 的账户密码不正确（{PASSWORD_ENV} 或输入的密码）：未作任何决定")


def _person_key(settings: Settings, person: str) -> Any:
    cfg = settings.signing_config()
    if cfg is None:
        return None
    return next((path for name, path in cfg.handlers.items() if same_person(name, person)), None)


def _trust_roots(settings: Settings) -> list[Any]:
    from cryptography import x509

    cfg = settings.signing_config()
    roots = []
    for path in cfg.trust_roots if cfg is not None else ():
        try:
            roots += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CredentialRefused(f"无法读取信任根 {path}：{exc}") from None
    return roots


def _chains_to(cert: Any, chain: list[Any], roots: list[Any]) -> bool:
    """The certificate is issued by a trust root, directly or through certificates of the key file."""
    from cryptography.exceptions import InvalidSignature

    current, seen = cert, 0
    while seen <= len(chain):
        for root in roots:
            try:
                current.verify_directly_issued_by(root)
                return True
            except (InvalidSignature, ValueError, TypeError):  # not issued by this root
                continue
        parent = next((c for c in chain if c.subject == current.issuer and c != current), None)
        if parent is None:
            return False
        current, seen = parent, seen + 1
    return False


def _by_key(person: str, accounts: list[Account], path: Any, roots: list[Any], decision: dict[str, Any],
            now: datetime) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    from signing.keys import KeyError_, passphrase_from_env, read_p12

    passphrase = passphrase_from_env(KEY_PASSPHRASE_ENV)
    if passphrase is None:
        if not sys.stdin.isatty():
            raise CredentialRefused(f"须由 {person} 本人确认：设置环境变量 {PASSWORD_ENV}（账户密码）或 "
                                    f"{KEY_PASSPHRASE_ENV}（签名密钥 {path.name} 的口令）")
        import typer

        passphrase = typer.prompt(f"{person} 的签名密钥口令（{path.name}）", hide_input=True).encode()
    try:
        key, cert, _chain = read_p12(path, passphrase)
    except KeyError_ as exc:
        raise CredentialRefused(f"{person} 的签名密钥：{exc}") from None
    names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not any(same_person(n.removesuffix(DEMO_MARK), person) for n in names):
        raise CredentialRefused(f"密钥 {path.name} 的证书属于 {'、'.join(names) or '（无名）'}，不是 {person}")
    if not _chains_to(cert, list(_chain), roots):
        raise CredentialRefused(f"密钥 {path.name} 的证书不是由 gongu.toml [signing] trust_roots 中的根证书签发的")
    body = canonical({**decision, "person": person, "at": now.isoformat()}).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "RSA-PKCS1v15-SHA256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(body, ec.ECDSA(hashes.SHA256()))
        algorithm = "ECDSA-SHA256"
    else:
        raise CredentialRefused(f"密钥 {path.name} 不是 RSA 或 EC 密钥")
    der = cert.public_bytes(Encoding.DER)
    return {"method": "signing_key", "account": accounts[0].username, "signed": body.decode(),
            "algorithm": algorithm, "signature": base64.b64encode(signature).decode(),
            "certificate_sha256": hashlib.sha256(der).hexdigest(),
            "certificate": base64.b64encode(der).decode()}
