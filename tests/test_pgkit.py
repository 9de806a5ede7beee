"""The throw-away PostgreSQL server the store and search suites run against (tests/pgkit.py)."""

import psycopg


def test_each_test_gets_its_own_empty_database_on_a_loopback_only_server(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW server_version_num").fetchone()[0].startswith("15")
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE scratch (x int)")


def test_a_second_test_does_not_see_the_first_ones_tables(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('public.scratch')").fetchone() == (None,)
