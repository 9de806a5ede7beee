"""A throw-away PostgreSQL 15 cluster for the tests: Debian's `initdb` and `pg_ctl` in a temporary
directory, listening on 127.0.0.1 on a free port, stopped at the end (about one second here).

initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` system user
(`runuser -u postgres --`); as any other user they run as that user. Authentication is `trust`
on loopback only: the cluster lives for one test run and holds nothing but test data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    return (PG_BIN / "initdb").exists()


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]),
            check=True, capture_output=True, text=True,
        )

    def start(self) -> None:
        # Sockets in our own folder (not /var/run/postgresql), TCP only on loopback, fsync kept on:
        # the crash tests need a server that really persists what it acknowledged.
        opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._ctl("-l", str(self.folder / "server.log"), "-o", opts, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def cluster() -> Iterator[PgCluster]:
    """Initialise, start, and finally stop and delete a cluster."""
    folder = Path(tempfile.mkdtemp(prefix="gongu-pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pg = PgCluster(folder, _free_port())
    subprocess.run(
        _as_server_user([str(PG_BIN / "initdb"), "-D", str(pg.data), "-U", "postgres", "--auth=trust",
                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
        check=True, capture_output=True, text=True,
    )
    pg.start()
    try:
        yield pg
    finally:
        try:
            pg.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped by a test that stops the server on purpose
        shutil.rmtree(folder, ignore_errors=True)
