"""A throwaway PostgreSQL server for the tests (Debian's packages), or the one PG_TEST_URL names.

The first test that needs it starts one server (initdb into a temporary directory, 127.0.0.1 on a
free port, its socket in that directory, durability off); every xdist worker shares it through a
state file under a lock, and the controlling pytest process stops it at the end. Each test gets a
database of its own (CREATE DATABASE ... / DROP DATABASE ... WITH (FORCE)).

Without the binaries (and without PG_TEST_URL) the PostgreSQL tests are skipped with a message,
except where CI is set: there a missing server is a failure.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

STATE_DIR_VARIABLE = "OMS_TEST_PG_DIR"  # set by tests/conftest.py in the controlling process
_SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=200 -c shared_buffers=32MB"
)
MISSING = (
    "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl) here and no"
    " PG_TEST_URL; ./scripts/install-postgres.sh installs Debian's postgresql package"
)


class PostgresServer:
    """A server the tests may create databases in (needs CREATEDB)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def url_of(self, name: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    async def create_database(self) -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await connection.close()
        return self.url_of(name)

    async def drop_database(self, url: str) -> None:
        name = url.rpartition("/")[2]
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


class NoServerUser(RuntimeError):
    """Root, and no 'postgres' user to run the server as (initdb refuses root)."""


def postgres_server() -> PostgresServer:
    """The shared server; skips (or fails under CI) when there is none to be had."""
    url = os.environ.get("PG_TEST_URL")
    if url:
        return PostgresServer(url)
    binaries = find_binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING.replace("tests skipped", "server missing under CI"))
        pytest.skip(MISSING)
    state_dir = Path(os.environ.get(STATE_DIR_VARIABLE) or _private_state_dir())
    with open(state_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = state_dir / "server.json"
        if not state.exists():
            try:
                launch(state_dir)
            except NoServerUser as error:
                pytest.fail(str(error))
        port = json.loads(state.read_text())["port"]
    return PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")


def find_binaries() -> Path | None:
    """The bin directory holding initdb and pg_ctl: on PATH, or Debian's newest version."""
    initdb = shutil.which("initdb")
    if initdb is not None and shutil.which("pg_ctl") is not None:
        return Path(initdb).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def launch(state_dir: Path, options: str = _SERVER_OPTIONS) -> PostgresServer:
    """A server of the caller's own, its files under `state_dir` (stop(state_dir) ends it):
    FileNotFoundError without the binaries."""
    binaries = find_binaries()
    if binaries is None:
        raise FileNotFoundError(MISSING)
    port = start(binaries, state_dir / "cluster", options)
    (state_dir / "server.json").write_text(json.dumps({"port": port}))
    return PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")


def start(binaries: Path, cluster: Path, options: str = _SERVER_OPTIONS) -> int:
    """initdb and start a server on a free port of 127.0.0.1; returns the port. `options` are
    the server's settings (the tests' default trades durability for speed)."""
    cluster.mkdir(mode=0o700)
    run_as = _server_user()
    if run_as is not None:  # initdb refuses root
        shutil.chown(cluster, run_as)
    _run(run_as, binaries / "initdb", "-D", cluster, "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C", "--no-sync")  # fmt: skip
    port = _free_port()
    settings = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={cluster}"
    _run(run_as, binaries / "pg_ctl", "-D", cluster, "-l", cluster / "server.log", "-o",
         f"{settings} {options}", "-w", "-t", "60", "start")  # fmt: skip
    return port


def stop(state_dir: Path) -> None:
    """Stop the server started under state_dir, if any, and remove its files."""
    cluster = state_dir / "cluster"
    binaries = find_binaries()
    if (state_dir / "server.json").exists() and binaries is not None:
        _run(_server_user(), binaries / "pg_ctl", "-D", cluster, "-m", "immediate", "stop",
             check=False)  # fmt: skip
    shutil.rmtree(state_dir, ignore_errors=True)


def new_state_dir() -> Path:
    """Where the server's files go: /tmp rather than pytest's private tree, which the postgres
    user could not enter."""
    path = Path(tempfile.mkdtemp(prefix="oms-test-pg-"))
    path.chmod(0o711)
    return path


def _private_state_dir() -> str:
    # Only when tests/conftest.py did not run (an odd invocation): one per process.
    os.environ[STATE_DIR_VARIABLE] = str(new_state_dir())
    return os.environ[STATE_DIR_VARIABLE]


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        raise NoServerUser(
            "running as root without a 'postgres' user to run the test server as"
        ) from None


def _run(user: str | None, *command: object, check: bool = True) -> None:
    args = [str(part) for part in command]
    if user is not None:
        args = ["runuser", "-u", user, "--", *args]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
