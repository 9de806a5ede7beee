"""What the renderer may read: files inside the case's folder and the bundled/firm forms, nothing else.

Case text is hostile (brief §7): templates autoescape it, and this module checks every path the case
names before rendering and again inside WeasyPrint's URL fetcher, so neither a crafted photo path nor a
URL slipped into HTML can make the renderer read /etc/passwd or call the network.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from generator import case_paths


class RenderError(Exception):
    """The report cannot be rendered for a reason the firm can fix (shown plainly, exit code 2)."""


class RefusedResource(FatalURLFetchingError):
    """Raised inside WeasyPrint: a BaseException there, so rendering stops instead of warning."""


def resolve_case_file(case_dir: Path, reference: str, what: str) -> Path:
    """generator.case_paths' rule, with the renderer's error type (shown plainly, exit code 2)."""
    try:
        return case_paths.resolve_case_file(case_dir, reference, what)
    except case_paths.CasePathError as exc:
        raise RenderError(str(exc)) from None


class FolderFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only local files under the allowed folders; no network at all."""

    def __init__(self, roots: list[Path], resources: dict[str, tuple[bytes, str]] | None = None) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.roots = [r.resolve() for r in roots]
        # URL → (bytes, MIME type) prepared in memory, e.g. the photos' print copies (generator/photos.py).
        self.resources = dict(resources or {})

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # noqa: ARG002 — WeasyPrint's signature
        if url in self.resources:
            body, mime = self.resources[url]
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedResource(f"拒绝读取外部资源 {url} (only files inside the case folder are allowed)")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            raise RefusedResource(f"拒绝读取案件文件夹之外的文件 {path} (path outside the allowed folders)")
        if not path.is_file():
            raise RefusedResource(f"文件不存在 {path}")
        mime, _ = mimetypes.guess_type(path.name)
        body = path.read_bytes()
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": mime or "application/octet-stream"})
