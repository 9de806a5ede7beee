"""Fixtures shared by every test module of a process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.archivekit import Kit, build_kit


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """The demo PKI and the example's sealed reports, made once per test process (sealing is slow); tests
    that change a report copy it first."""
    return build_kit(Path(tmp_path_factory.mktemp("kit")))
