"""A throw-away PostgreSQL cluster (initdb + pg_ctl on a temp folder), and the store on each database."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, inspect

from finsync.store import IntegrationStore
from tests.support.servers import free_port


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so step down to the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if not found:
        pytest.fail(f"{name} not found: the PostgreSQL server (Debian package postgresql) is needed for these tests")
    return str(found)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    # Not pytest's tmp_path: its folders are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="finsync-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                   check=True, capture_output=True)
    subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                                 f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> IntegrationStore:
    if request.param == "sqlite":
        return IntegrationStore(f"sqlite:///{tmp_path / 'store.db'}")
    store = IntegrationStore(request.getfixturevalue("postgres_url"))
    tables = set(inspect(store.engine).get_table_names()) - {"alembic_version"}   # the schema stays as migrated
    with store.engine.begin() as db:   # every test starts from empty tables, whichever the store has
        db.exec_driver_sql(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY")
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases (a SQLite file, or a database on the PostgreSQL server) and gives their URLs."""
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path / uuid4().hex}.db"
        return
    server: str = request.getfixturevalue("postgres_url")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        made.append(f"store_{uuid4().hex}")
        with admin.connect() as db:
            db.exec_driver_sql(f"CREATE DATABASE {made[-1]}")
        return f"{server.rsplit('/', 1)[0]}/{made[-1]}"

    yield make
    with admin.connect() as db:
        for name in made:
            db.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()
