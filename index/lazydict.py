"""jieba's prefix dictionary as an on-disk, memory-mapped Mapping, looked up on demand.

Loading jieba's dictionary whole (≈350 000 words plus their prefixes into a dict) costs ~0.45 s,
more than the rest of a `gongu search`. A query only looks up a few hundred fragments, so it reads
them from a sorted file instead. The file is written once from a stock-loaded tokenizer (jieba's
dictionary + the domain dictionary, exactly the FREQ and total jieba computes), so segmentation with
it is identical: jieba's get_DAG/calc only use `frag in FREQ`, `FREQ[frag]`, `FREQ.get(frag)` and
`total`.

File layout: b"GJD1", uint32 count, uint64 total, count uint32 offsets (into the data section),
then the data section: sorted (by UTF-8 bytes) lines b"word\\tfreq\\n".
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

MAGIC = b"GJD1"
_HEADER = struct.Struct("<4sIQ")


def cache_dir() -> Path:
    if os.environ.get("GONGU_CACHE_DIR"):
        return Path(os.environ["GONGU_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gongu"


def jieba_dict_path() -> Path:
    """jieba's shipped dict.txt, found without importing jieba (importing it costs ~0.1 s)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba 未安装")
    return Path(spec.origin).parent / "dict.txt"


def cache_key(domain_dict: Path) -> str:
    """Keyed by jieba's dictionary (path, size, mtime: it is 5 MB, hashing it would cost as much as
    a lookup saves) and the domain dictionary's content."""
    jd = jieba_dict_path()
    st = jd.stat()
    h = hashlib.sha256()
    h.update(f"{MAGIC!r}|{jd}|{st.st_size}|{st.st_mtime_ns}|".encode())
    h.update(domain_dict.read_bytes())
    return h.hexdigest()[:24]


def write_dict(path: Path, freq: Mapping[str, int], total: int) -> None:
    """Write `freq` atomically (temp file + rename), so a concurrent reader never sees half a file."""
    items = sorted((w.encode("utf-8"), int(f)) for w, f in freq.items())
    offsets = []
    data = bytearray()
    for w, f in items:
        offsets.append(len(data))
        data += w + b"\t" + str(f).encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_HEADER.pack(MAGIC, len(items), total))
            fh.write(struct.pack(f"<{len(offsets)}I", *offsets))
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class MappedFreq(Mapping[str, int]):
    """Read-only str → frequency mapping over a file written by `write_dict`; binary search per miss,
    results memoised (a process segments few distinct fragments for queries). Thread-safe: the mmap
    is read-only and the memo is a dict (single assignments under the GIL)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            self._mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        magic, self._n, self.total = _HEADER.unpack_from(self._mm, 0)
        if magic != MAGIC:
            raise ValueError(f"{path}: 不是词典缓存文件")
        start = _HEADER.size
        self._offsets = memoryview(self._mm)[start : start + 4 * self._n].cast("I")
        if sys.byteorder != "little":  # the file is little-endian
            self._offsets = list(struct.unpack_from(f"<{self._n}I", self._mm, start))  # type: ignore[assignment]
        self._data = start + 4 * self._n
        self._memo: dict[str, int | None] = {}

    def _line(self, i: int) -> tuple[bytes, int]:
        s = self._data + self._offsets[i]
        e = self._mm.find(b"\n", s)
        tab = self._mm.find(b"\t", s, e)
        return self._mm[s:tab], e

    def _lookup(self, key: str) -> int | None:
        k = key.encode("utf-8")
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            w, _ = self._line(mid)
            if w < k:
                lo = mid + 1
            else:
                hi = mid
        if lo < self._n:
            w, e = self._line(lo)
            if w == k:
                s = self._data + self._offsets[lo] + len(k) + 1
                return int(self._mm[s:e])
        return None

    def get(self, key: object, default: object = None) -> object:  # type: ignore[override]
        if not isinstance(key, str):
            return default
        try:
            v = self._memo[key]
        except KeyError:
            v = self._memo[key] = self._lookup(key)
        return default if v is None else v

    def __getitem__(self, key: str) -> int:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v  # type: ignore[return-value]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        for i in range(self._n):
            yield self._line(i)[0].decode("utf-8")


_build_lock = threading.Lock()


def mapped_freq(domain_dict: Path, full_loader: object) -> MappedFreq:
    """The cached mapping for jieba's + the domain dictionary, built on first use by `full_loader`
    (a callable returning a stock-loaded jieba.Tokenizer)."""
    path = cache_dir() / f"jieba-{cache_key(domain_dict)}.dict"
    try:
        return MappedFreq(path)
    except (OSError, ValueError, struct.error):
        pass
    with _build_lock:
        seg = full_loader()  # type: ignore[operator]
        write_dict(path, seg.FREQ, seg.total)  # OSError (read-only cache dir) is the caller's to handle
    return MappedFreq(path)
