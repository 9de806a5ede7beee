"""One search step for the command line and the web workspace: the query built from the query text and
the filter options, and the hits' package paths resolved against the archive root (with a kept package
that is gone from disk flagged). `gongu search` and the archive search page both call these."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from gongu.pipeline.archiving import archive_root_and_catalog_path, open_catalog
from gongu.pipeline.indexing import open_index
from gongu.settings import Settings
from index.maintenance import package_on_disk
from index.query import QueryError, Range, SearchQuery, SearchResults, parse_date_bound, parse_query


def build_query(text: str, *, insurer: str | None = None, kind: str | None = None, status: str | None = None,
                date_from: str | None = None, date_to: str | None = None, sort: str = "score",
                page: int = 1, page_size: int = 10) -> SearchQuery:
    """The query text plus the filters as extra AND-groups; QueryError names what is wrong."""
    if sort not in ("score", "date"):
        raise QueryError(f"--sort 只能是 score 或 date：{sort!r}")
    if page < 1 or page_size < 1:
        raise QueryError(f"页码与每页条数须为正整数：{page}, {page_size}")
    sort_key: Literal["score", "date"] = "date" if sort == "date" else "score"
    q = parse_query(text, sort=sort_key, page=page, page_size=page_size)
    extra = ""
    if insurer:
        extra += f' 保险人:"{insurer}"'
    if kind:
        extra += f" 类型:{kind}"
    if status:
        extra += f" 状态:{status}"
    if extra:
        for group in parse_query(extra).groups:
            q = q.with_any(group)
    if date_from or date_to:
        low = parse_date_bound(date_from, end=False, title="--from") if date_from else None
        high = parse_date_bound(date_to, end=True, title="--to") if date_to else None
        if low and high and low > high:
            raise QueryError(f"--from {date_from} 晚于 --to {date_to}")
        q = q.with_range(Range("loss_date", low, high))
    return q


def resolve_hits(settings: Settings, results: SearchResults) -> list[str]:
    """Make each hit's `package_path` absolute (the index keeps it relative to the archive root, so a
    moved GONGU_HOME still works) and set `package_missing`; returns the paths of kept packages that
    are gone from disk — an incident to report, never listed as if present."""
    root, _ = archive_root_and_catalog_path(settings)
    missing_paths = []
    for hit in results.hits:
        rel = str(hit.fields.get("package_path") or "")
        if rel and not Path(rel).is_absolute():
            hit.fields["package_path"] = str(root / rel)
        missing = bool(rel) and hit.fields.get("status") != "disposed" and not package_on_disk(
            Path(str(hit.fields["package_path"])))
        hit.fields["package_missing"] = missing
        if missing:
            missing_paths.append(str(hit.fields["package_path"]))
    return missing_paths


def catch_up(settings: Settings) -> list[str]:
    """Apply index work a crashed ingest, hold or disposal left queued in the catalog before searching:
    a package archived just before a kill -9 is found by the very next search, not only after the next
    archive command. What cannot be applied is said; `gongu index sync` retries it."""
    from index.maintenance import apply_queued

    # Most searches find nothing queued: ask without the full-file integrity scan, which would cost
    # every search a read of the whole catalog; only applying the work (a write) opens it checked.
    with open_catalog(settings, check=False) as catalog:
        if catalog is None or not catalog.pending_index_events():
            return []
    with open_catalog(settings) as catalog:
        assert catalog is not None
        root, _ = archive_root_and_catalog_path(settings)
        _, failures = apply_queued(open_index(settings), catalog, root)
    return list(failures)
