"""The endpoint table: every page the workspace serves, as `gongu.web.access.page` records it. The app
routes from it, the navigation bar lists from it and the role × endpoint matrix test enumerates it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: tuple[str, ...]
    roles: frozenset[str]
    name: str
    func: Callable[[Request], Awaitable[Response]]
    nav: str | None = None  # label in the navigation bar (GET pages without path parameters)


ENDPOINTS: list[Endpoint] = []
