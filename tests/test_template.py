"""A new Prefect database starts from qprim's pre-migrated template (`qprim.flows.template`)
only when the template is the installed Prefect's, and a server skips only what it
would find done: real SQLite files, the installed Prefect's real migration scripts, and
real servers (qprim's local one and its temporary one) on a database made this way.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from qprim.flows import template
from qprim.flows.settings import prefect_settings
from qprim.flows.template import BLOCKS_ENV, MIGRATE_ENV
from tests.support import EXAMPLES, Qprim, qprim_processes

BELL = EXAMPLES / "bell.yaml"
INSTALLED = template.installed_prefect()
needs_prefect = pytest.mark.skipif(INSTALLED is None, reason="Prefect's migrations not found")
needs_template = pytest.mark.skipif(
    INSTALLED is None or not template.template_file(INSTALLED[0]).is_file(),
    reason="no template for the installed Prefect (test_the_shipped_template... says so)",
)


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        found = connection.execute(sql).fetchall()
        connection.commit()
        return found


def shipped() -> Path:
    assert INSTALLED is not None
    return template.template_file(INSTALLED[0])


def template_at(folder: Path, version: str, revision: str) -> Path:
    """A copy of the shipped template for Prefect `version`, its migration revision set to
    `revision`: what another Prefect's template would say of itself."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "work.db"
    with gzip.open(shipped()) as source, open(database, "wb") as target:
        shutil.copyfileobj(source, target)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        connection.commit()
    packed = template.template_file(version, folder)
    with open(database, "rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    database.unlink()
    return packed


@needs_prefect
def test_the_shipped_template_is_the_installed_prefects(tmp_path: Path) -> None:
    """A Prefect pin moved without a new template would silently lose the fast start:
    `python -m qprim.flows.template build` makes it."""
    assert INSTALLED is not None
    assert shipped().is_file(), f"no template for Prefect {INSTALLED[0]}: build it"
    database = tmp_path / "prefect.db"
    with gzip.open(shipped()) as source, open(database, "wb") as target:
        shutil.copyfileobj(source, target)
    assert template.revision(database) == INSTALLED[1], "the template is behind: rebuild it"


@needs_template
def test_a_template_is_restored_only_for_the_installed_prefect_and_never_over_a_database(
    tmp_path: Path,
) -> None:
    assert INSTALLED is not None
    version, head = INSTALLED
    database = tmp_path / "home" / "prefect.db"

    older = tmp_path / "older"  # named for this Prefect, but at another migration revision
    template_at(older, version, "9725c1cbee35")  # Prefect's first migration
    assert not template.restore(database, older)
    assert not database.exists() and not list(database.parent.glob(".prefect-db.*"))

    other = tmp_path / "other"  # at this head, but another Prefect's (its block types)
    template_at(other, "0.0.1", head)
    assert not template.restore(database, other)
    assert not database.exists()

    assert template.restore(database)  # the shipped one
    assert template.revision(database) == head
    assert rows(database, "SELECT count(*) FROM block_type")[0][0] > 0
    assert rows(database, "SELECT count(*) FROM flow_run") == [(0,)]

    rows(database, "CREATE TABLE mine (x)")  # a database of the user's is never replaced
    assert not template.restore(database)
    assert rows(database, "SELECT name FROM sqlite_master WHERE name = 'mine'") == [("mine",)]


def test_the_migration_head_is_the_revision_nothing_revises(tmp_path: Path) -> None:
    scripts = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision = "b"\ndown_revision = "a"\n',
        "c.py": "revision: str = 'c'\ndown_revision: str | None = 'a'\n",
        "d.py": 'revision = "d"\ndown_revision = ("b", "c")\n',  # a merge
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(f'"""{name}"""\n{text}')
    assert template.migration_head(tmp_path) == "d"
    (tmp_path / "d.py").unlink()
    assert template.migration_head(tmp_path) is None  # two heads: no template is right


@needs_template
def test_a_server_skips_only_what_it_would_find_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    database = tmp_path / "prefect.db"

    elsewhere = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": "postgresql+asyncpg://db/prefect"}
    assert template.server_settings(elsewhere) == {}  # not Prefect's SQLite file: hands off
    work = tmp_path / "work"  # the same said by a prefect.toml in the working folder
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "prefect.toml").write_text('[server.database]\nname = "/elsewhere/prefect.db"\n')
    assert prefect_settings()["PREFECT_SERVER_DATABASE_NAME"] == "/elsewhere/prefect.db"
    assert template.server_settings(prefect_settings()) == {}
    assert not database.exists()

    first = template.server_settings({})
    assert template.revision(database) == INSTALLED[1]  # type: ignore[index]
    assert first[MIGRATE_ENV] == "false"
    assert first.get(BLOCKS_ENV) == (None if template.prefect_collections() else "false")

    # a database already there and at the head: its block types are Prefect's to check
    assert template.server_settings({}) == {MIGRATE_ENV: "false"}
    assert template.server_settings({MIGRATE_ENV: "true"}) == {}  # the user's setting wins

    rows(database, "UPDATE alembic_version SET version_num = '9725c1cbee35'")
    assert template.server_settings({}) == {}  # behind the installed Prefect: it migrates


@pytest.mark.slow
@needs_template
def test_a_new_homes_servers_start_on_the_template_and_keep_its_history(
    managed: Qprim,
) -> None:
    done = managed.run("run", BELL, "--json", "--out", "first")
    assert done.returncode == 0, done.stderr
    status = managed.run_json("server", "status")
    log = Path(status["log"]).read_text()
    assert f"starting with {MIGRATE_ENV}=false" in log
    database = Path(managed.env["PREFECT_HOME"]) / "prefect.db"
    with httpx.Client(base_url=status["url"], timeout=30) as api:
        flow_run = api.get(f"/flow_runs/{_flow_run_id(done.stdout)}").json()
        assert flow_run["state"]["type"] == "COMPLETED"
        block_types = api.post("/block_types/filter", json={}).json()
        assert any(block["slug"] == "secret" for block in block_types)

    stopped = managed.run_json("server", "stop")
    assert stopped["stopped"]
    assert rows(database, "SELECT count(*) FROM flow_run") == [(1,)]

    # Prefect's temporary server: the same database, started by qprim, gone afterwards
    temporary = {"QPRIM_SERVER": "temporary"}
    again = managed.run("run", BELL, "--json", "--refresh", "--out", "t", env=temporary)
    assert again.returncode == 0, again.stderr
    flow_run_id = _flow_run_id(again.stdout)
    assert rows(database, f"SELECT count(*) FROM flow_run WHERE id = '{flow_run_id}'") == [(1,)]
    assert not qprim_processes(managed.home)


def _flow_run_id(stdout: str) -> str:
    return str(json.loads(stdout)["flow_run"]["id"])
