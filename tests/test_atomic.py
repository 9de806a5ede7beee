"""One atomic write for every file Gongu produces (issue 11): old or new content, never half; the mode a
normal new file gets (0666 less the umask), except private keys (0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.atomic import atomic_write


@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_the_usual_mode_under_the_umask(tmp_path: Path, umask_027: None) -> None:
    target = atomic_write(tmp_path / "sub" / "report.pdf", b"%PDF-1.7 new")
    assert target.read_bytes() == b"%PDF-1.7 new"
    assert _mode(target) == 0o640  # 0666 & ~0027
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")  # what an ordinary write gives, for comparison
    assert _mode(target) == _mode(plain)


def test_private_keys_keep_owner_only(tmp_path: Path) -> None:
    assert _mode(atomic_write(tmp_path / "firm.p12", b"secret", mode=0o600)) == 0o600


def test_replaces_whole_and_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "case.json", b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]  # no temp file left
