"""A throwaway PostgreSQL server on a free loopback port, for the team tests.

`initdb` into a fresh folder, `pg_ctl start` with the unix socket inside that folder,
then stop it and remove everything. `initdb` refuses to run as root, so as root the
server runs as the `postgres` user (created with `useradd` if the machine has none);
otherwise as the current user. Durability is switched off (`fsync=off`): a test server
is thrown away, and this makes it fast on a busy disk. Logins over TCP need a password
(SCRAM), as on a real team server, so URLs in tests carry one to be masked.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.prefect_server import free_port

PG_BIN_ENV = "QPRIM_PG_BIN"
SERVER_USER = "postgres"
SUPERUSER_PASSWORD = "qprim-test-superuser"  # a loopback server that lives for one test run


def find_pg_bin() -> Path | None:
    """The folder with `initdb`, `pg_ctl` and `postgres`: `QPRIM_PG_BIN`, Debian's newest
    `/usr/lib/postgresql/N/bin`, or the PATH; None when this machine has none."""
    wanted = os.environ.get(PG_BIN_ENV)
    candidates = [Path(wanted)] if wanted else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


@dataclass
class PostgresServer:
    bin: Path
    folder: Path
    port: int
    user: str | None  # the OS user the server runs as (None: this process's)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str, role: str, password: str, driver: str = "postgresql") -> str:
        return f"{driver}://{role}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._tool(
            "pg_ctl", "start", "-w", "-t", "120", "-D", self.data, "-l", self.log, "-o", options
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` lets clients go; `immediate` is a crash (no shutdown checkpoint)."""
        self._tool("pg_ctl", "stop", "-w", "-D", self.data, "-m", mode)

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (through the unix socket: no password)."""
        self._tool(
            "psql", "-h", self.folder, "-p", str(self.port), "-U", SERVER_USER,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement,
        )  # fmt: skip

    def create_database(self, name: str, role: str, password: str) -> str:
        """A database owned by a login role of its own; its URL (password included)."""
        self.sql(
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} LOGIN PASSWORD '{password}'; END IF; END$$"
        )
        self.sql(f"CREATE DATABASE {name} OWNER {role}")
        return self.url(name, role, password)

    def _tool(self, tool: str, *args: str | Path) -> None:
        done = subprocess.run(
            [str(self.bin / tool), *map(str, args)],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=self.folder,
        )
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} {args[0]} failed: {done.stderr}\n{log}")


def _server_user() -> str | None:
    """Who runs the server: as root the `postgres` user (made if missing), else nobody new."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SERVER_USER], check=True, timeout=60
        )
    return SERVER_USER


@contextmanager
def postgres_server(pg_bin: Path) -> Iterator[PostgresServer]:
    """A running server in a new folder (not under pytest's root-only tmp folders: the
    server's user must reach it); stopped and removed at the end."""
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="qprim-pg-"))
    if user is not None:
        shutil.chown(folder, user, user)
    server = PostgresServer(pg_bin, folder, free_port(), user)
    try:
        password_file = folder / "superuser-password"
        password_file.write_text(SUPERUSER_PASSWORD)
        if user is not None:
            shutil.chown(password_file, user, user)
        server._tool(
            "initdb", "-D", server.data, "-U", SERVER_USER, "--pwfile", password_file,
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        server.start()
        try:
            yield server
        finally:
            if (server.data / "postmaster.pid").exists():
                server.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
