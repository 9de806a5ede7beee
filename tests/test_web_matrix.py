"""The role × endpoint matrix (issue 15 §4): every endpoint in gongu.web.access.ENDPOINTS refuses every
role that may not use it (403), anonymous requests are sent to the login page (GET) or refused (401),
and every non-GET endpoint refuses a missing or wrong CSRF token (403) even for a role that may use it.

The cases are generated from ENDPOINTS at collection time, so pages added by any module in PAGE_MODULES
are covered without editing this file. Starlette's TestClient against the real app (real catalog)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gongu.web.access import ENDPOINTS, ROLES, SAFE_METHODS, Endpoint
from gongu.web.app import create_app, load_page_modules
from tests.webkit import csrf_from, make_account

load_page_modules()  # every page registered before the parametrisation below reads ENDPOINTS
PASSWORD = "matrix-pass-1"


def concrete(path: str) -> str:
    """A request path for a route: int parameters 1, others a harmless name."""
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def _cases(refused: bool) -> list[tuple[Endpoint, str, str]]:
    out = []
    for e in ENDPOINTS:
        for method in e.methods:
            if method == "HEAD":
                continue
            for role in sorted(ROLES):
                if (role not in e.roles) == refused:
                    out.append((e, method, role))
    return out


def _id(case: tuple[Endpoint, str, str]) -> str:
    e, method, role = case
    return f"{e.name}-{method}-{role}"


REFUSED = _cases(refused=True)
UNSAFE = [(e, m) for e in ENDPOINTS for m in e.methods if m not in SAFE_METHODS]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    """One logged-in client per role (an account holding only that role)."""
    home = Path(tmp_path_factory.mktemp("matrix-home"))
    app = create_app(home, workers=0)  # no job runs here: each client's lifespan would start its own worker
    out: dict[str, TestClient] = {}
    for role in ROLES:
        make_account(home, f"m-{role}", {role}, f"测试{ROLES[role]}", PASSWORD)
    for role in ROLES:
        client = TestClient(app, base_url="http://127.0.0.1")
        client.__enter__()
        token = csrf_from(client.get("/login").text)
        r = client.post("/login", data={"username": f"m-{role}", "password": PASSWORD, "csrf_token": token},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        out[role] = client
    out["anonymous"] = TestClient(app, base_url="http://127.0.0.1")
    out["anonymous"].__enter__()
    yield out
    for client in out.values():
        client.__exit__(None, None, None)


def _token(client: TestClient) -> str:
    return csrf_from(client.get("/").text)


def test_the_registry_is_not_empty_and_names_are_unique() -> None:
    names = [e.name for e in ENDPOINTS]
    assert {"home", "logout", "accounts", "account_add", "account_disable", "account_roles"} <= set(names)
    assert len(names) == len(set(names))
    # every endpoint names at least one role, and only known ones
    assert all(e.roles and e.roles <= set(ROLES) for e in ENDPOINTS)


@pytest.mark.parametrize("case", REFUSED, ids=[_id(c) for c in REFUSED])
def test_role_not_allowed_is_refused(clients: dict[str, TestClient], case: tuple[Endpoint, str, str]) -> None:
    endpoint, method, role = case
    client = clients[role]
    # a valid CSRF token: the refusal must come from the role, not from the token
    r = client.request(method, concrete(endpoint.path), data={"csrf_token": _token(client)}
                       if method not in SAFE_METHODS else None, follow_redirects=False)
    assert r.status_code == 403, f"{role} {method} {endpoint.path} → {r.status_code}"
    assert "无权访问" in r.text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_anonymous_goes_to_login_or_is_refused(clients: dict[str, TestClient], endpoint: Endpoint) -> None:
    client = clients["anonymous"]
    for method in endpoint.methods:
        r = client.request(method, concrete(endpoint.path), follow_redirects=False)
        if method in SAFE_METHODS:
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        else:
            assert r.status_code == 401


@pytest.mark.parametrize("case", UNSAFE, ids=[f"{e.name}-{m}" for e, m in UNSAFE])
@pytest.mark.parametrize("token", ["missing", "wrong", "other-session"])
def test_unsafe_method_without_the_sessions_csrf_token_is_refused(
        clients: dict[str, TestClient], case: tuple[Endpoint, str], token: str) -> None:
    endpoint, method = case
    role = sorted(endpoint.roles)[0]
    client = clients[role]
    data: dict[str, str] = {}
    if token == "wrong":
        data["csrf_token"] = _token(client)[:-2] + "zz"
    elif token == "other-session":  # a real token, but of another logged-in session
        other = next(r for r in ROLES if r != role)
        data["csrf_token"] = _token(clients[other])
    r = client.request(method, concrete(endpoint.path), data=data, follow_redirects=False)
    assert r.status_code == 403, f"{method} {endpoint.path} with {token} token → {r.status_code}"
    assert "CSRF" in r.text
    # the same via the htmx header
    r = client.request(method, concrete(endpoint.path), headers={"X-CSRF-Token": data.get("csrf_token", "")},
                       follow_redirects=False)
    assert r.status_code == 403


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_login_form_refuses_a_missing_or_wrong_token(clients: dict[str, TestClient], token: str) -> None:
    client = clients["anonymous"]
    real = csrf_from(client.get("/login").text)
    data = {"username": "m-admin", "password": PASSWORD}
    if token == "wrong":
        data["csrf_token"] = real[::-1]
    r = client.post("/login", data=data, follow_redirects=False)
    assert r.status_code == 403
    assert "gongu_session" not in r.cookies or client.get("/", follow_redirects=False).status_code == 303


ALLOWED_GET = [(e, role) for e, m, role in _cases(refused=False) if m == "GET" and "{" not in e.path]


@pytest.mark.parametrize("case", ALLOWED_GET, ids=[f"{e.name}-{r}" for e, r in ALLOWED_GET])
def test_allowed_role_gets_the_page(clients: dict[str, TestClient], case: tuple[Endpoint, str]) -> None:
    endpoint, role = case
    r = clients[role].get(endpoint.path, follow_redirects=False)
    assert r.status_code not in (401, 403) and r.status_code < 500, f"{role} GET {endpoint.path} → {r.status_code}"
