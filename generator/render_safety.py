"""What the renderer may read: files inside the case's folder and the bundled/firm forms, nothing else.

Case text is hostile (brief §7): templates autoescape it, and this module checks every path the case
names before rendering and again inside WeasyPrint's URL fetcher, so neither a crafted photo path nor a
URL slipped into HTML can make the renderer read /etc/passwd or call the network.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class RenderError(Exception):
    """The report cannot be rendered for a reason the firm can fix (shown plainly, exit code 2)."""


class RefusedResource(FatalURLFetchingError):
    """Raised inside WeasyPrint: a BaseException there, so rendering stops instead of warning."""


def resolve_case_file(case_dir: Path, reference: str, what: str) -> Path:
    """A file the case names (a photo), relative to the case folder; anything else is refused.

    Refused: URLs of any scheme (http, https, file, data …), absolute paths, and paths that leave the
    case folder — by `..` or through a symlink. Returns the resolved path (it may not exist).
    """
    ref = reference.strip()
    if _SCHEME.match(ref) and not _WINDOWS_DRIVE.match(ref):
        raise RenderError(f"{what} “{reference}” 是网址，报告只能使用案件文件夹内的文件 (URLs are refused)")
    norm = ref.replace("\\", "/")
    if norm.startswith("/") or _WINDOWS_DRIVE.match(ref):
        raise RenderError(f"{what} “{reference}” 是绝对路径，请写相对于案件文件夹的路径 (absolute paths are refused)")
    root = case_dir.resolve()
    target = (root / norm).resolve()
    if not target.is_relative_to(root):
        raise RenderError(f"{what} “{reference}” 指向案件文件夹 {root} 之外 (path leaves the case folder)")
    return target


class FolderFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only local files under the allowed folders; no network at all."""

    def __init__(self, roots: list[Path]) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.roots = [r.resolve() for r in roots]

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # noqa: ARG002 — WeasyPrint's signature
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
