"""A new Prefect database starts as a copy of one already migrated, instead of running
Prefect's 100-odd migrations and registering its block types on every clean machine (a
CI job's first server start: 7 s instead of 3 s on two cores).

The template ships with qprim (`prefect-db/prefect-VERSION.db.gz`, built by `python -m
qprim.flows.template build` for the pinned Prefect). It is used only where Prefect itself
would create a new SQLite database in PREFECT_HOME, only for the Prefect version it was
built by, and only if its migration revision is the installed Prefect's migration head;
else Prefect migrates the new database itself, as without it. And a server starting on a
database already at that head skips the migration step (Prefect's
`PREFECT_SERVER_DATABASE_MIGRATE_ON_START`), which would find nothing to do.

Standard library only, Prefect not imported: the server's supervisor and a command about
to start Prefect's temporary server use it before anything heavy.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from qprim.files import prefect_home

TEMPLATES = Path(__file__).with_name("prefect-db")
MIGRATE_ENV = "PREFECT_SERVER_DATABASE_MIGRATE_ON_START"
BLOCKS_ENV = "PREFECT_SERVER_REGISTER_BLOCKS_ON_START"
# Settings that put Prefect's database anywhere but PREFECT_HOME/prefect.db, in both
# Prefect 3 spellings: qprim then leaves the database to Prefect
DATABASE_SETTINGS = tuple(
    f"PREFECT_{prefix}_DATABASE_{name}"
    for prefix in ("SERVER", "API")
    for name in ("CONNECTION_URL", "DRIVER", "NAME", "HOST")
)
_ASSIGNMENT = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_REVISION = re.compile(r"['\"]([0-9a-zA-Z_]+)['\"]")


def template_file(version: str, templates: Path = TEMPLATES) -> Path:
    return templates / f"prefect-{version}.db.gz"


def installed_prefect() -> tuple[str, str] | None:
    """The installed Prefect's version and SQLite migration head, found without importing
    it; None if either cannot be told."""
    try:
        version = metadata.version("prefect")
        spec = importlib.util.find_spec("prefect")
    except (metadata.PackageNotFoundError, ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    head = migration_head(package / "server/database/_migrations/versions/sqlite")
    return (version, head) if head else None


def migration_head(folder: Path) -> str | None:
    """The one revision of Alembic migration scripts in `folder` that no other revises;
    None unless there is exactly one."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in folder.glob("*.py"):
        for name, value in _ASSIGNMENT.findall(script.read_text(errors="replace")):
            found = set(_REVISION.findall(value))
            (revisions if name == "revision" else revised).update(found)
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def revision(database: Path) -> str | None:
    """The migration revision a SQLite database of Prefect's is at; None if it has none."""
    if not database.is_file():
        return None
    try:
        with contextlib.closing(
            sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=5)
        ) as connection:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None
    return rows[0][0] if len(rows) == 1 else None


def database_path(settings: dict[str, str]) -> Path | None:
    """The SQLite file Prefect's server will use: PREFECT_HOME/prefect.db; None when
    `settings` (the environment, the active profile and the working folder's files, as
    `qprim.flows.settings.prefect_settings` reads them) put the database elsewhere."""
    if any(settings.get(name) for name in DATABASE_SETTINGS):
        return None
    return prefect_home() / "prefect.db"


def restore(database: Path, templates: Path = TEMPLATES) -> bool:
    """Create `database` from the template for the installed Prefect if there is none yet
    and the template is at the installed migration head; whether it did. Atomic: a
    database another process created meanwhile is kept, never overwritten."""
    installed = installed_prefect()
    if installed is None or database.exists():
        return False
    version, head = installed
    template = template_file(version, templates)
    if not template.is_file():
        return False
    try:  # a folder it cannot write is Prefect's to report
        database.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=database.parent, prefix=".prefect-db.", suffix=".tmp")
    except OSError:
        return False
    try:
        with gzip.open(template) as source, os.fdopen(fd, "wb") as target:
            shutil.copyfileobj(source, target)
        if revision(Path(staged)) != head:
            return False
        os.link(staged, database)  # fails if a database appeared meanwhile
        return True
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    finally:
        Path(staged).unlink(missing_ok=True)


def prefect_collections() -> bool:
    """Some installed package adds block types to Prefect (a `prefect.collections`
    entry point): Prefect must register them when its server starts."""
    return bool(metadata.entry_points(group="prefect.collections"))


def server_settings(settings: dict[str, str], templates: Path = TEMPLATES) -> dict[str, str]:
    """What a Prefect server about to start on this machine's database can skip, as
    settings for its environment: restore the template where there is no database yet;
    skip the migrations on a database already at the installed head, and the block
    registration on one just made from the template (its block types are the installed
    Prefect's own). `settings` are the user's Prefect settings: they win."""
    database = database_path(settings)
    installed = installed_prefect()
    if database is None or installed is None:
        return {}
    restored = restore(database, templates)
    if revision(database) != installed[1]:
        return {}
    skip = {MIGRATE_ENV: "false"}
    if restored and not prefect_collections():
        skip[BLOCKS_ENV] = "false"
    return {name: value for name, value in skip.items() if name not in settings}


def build(folder: Path) -> Path:
    """Migrate a new database with the installed Prefect and register its block types, as
    its server's first start does; keep it, compressed, as the template for this Prefect
    version in `folder`. For maintainers, when the Prefect pin moves."""
    import asyncio

    installed = installed_prefect()
    if installed is None:
        raise RuntimeError("Prefect's version or migration head cannot be told")
    with tempfile.TemporaryDirectory() as work:
        database = Path(work) / "prefect.db"
        os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{database}"
        asyncio.run(_migrate_and_register())
        with contextlib.closing(sqlite3.connect(database)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")
            connection.execute("VACUUM")
        if revision(database) != installed[1]:
            raise RuntimeError(f"{database} is not at Prefect's migration head {installed[1]}")
        folder.mkdir(parents=True, exist_ok=True)
        target = template_file(installed[0], folder)
        with open(database, "rb") as source, gzip.GzipFile(target, "wb", mtime=0) as packed:
            shutil.copyfileobj(source, packed)
    return target


async def _migrate_and_register() -> None:
    """What Prefect's server does to a new database when it starts (its lifespan)."""
    from prefect.server.database import provide_database_interface
    from prefect.server.models.block_registration import run_block_auto_registration

    database = provide_database_interface()
    await database.create_db()
    async with await database.session() as session:
        await run_block_auto_registration(session=session)
        await session.commit()


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        sys.exit("usage: python -m qprim.flows.template build")
    print(build(TEMPLATES))
