"""Where a command's state lives: the journal, the result store and the Aer job store.

The default is one machine's: `$QPRIM_HOME/journal.sqlite` and `$QPRIM_HOME` for results
and Aer jobs. A team shares them: `QPRIM_JOURNAL_URL=postgresql://...` puts the journal
in PostgreSQL, `QPRIM_RESULTS=<block-type>/<block-name>` puts results and Aer jobs in a
Prefect storage block; `QPRIM_TEAM=NAME` takes both from a qprim team block on the
Prefect server instead (what a deployment's worker uses, so it needs no setting of its
own). Variables set on the machine win over the block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qprim.files import qprim_home

if TYPE_CHECKING:
    from qprim.backends.aer.store import AerJobStore
    from qprim.state.journal import Journal
    from qprim.state.results import ResultStore
    from qprim.state.storage import ObjectStorage

JOURNAL_URL_ENV = "QPRIM_JOURNAL_URL"
RESULTS_ENV = "QPRIM_RESULTS"
TEAM_ENV = "QPRIM_TEAM"


@dataclass(frozen=True)
class StateSettings:
    """Where the journal and the stores are; None: this machine's default."""

    journal_url: str | None = field(default=None, repr=False)  # may hold a password
    results: str | None = None  # a storage block, TYPE/NAME

    @property
    def shared(self) -> bool:
        return self.journal_url is not None or self.results is not None


def settings(team: str | None = None) -> StateSettings:
    """This machine's settings, completed from the team block `team` (else `QPRIM_TEAM`)."""
    journal_url = os.environ.get(JOURNAL_URL_ENV) or None
    results = os.environ.get(RESULTS_ENV) or None
    team = team or os.environ.get(TEAM_ENV) or None
    if team is not None and (journal_url is None or results is None):
        from qprim.flows.env import use_prefect

        use_prefect()
        from qprim.flows.blocks import load_team_config

        config = load_team_config(team)
        journal_url = journal_url or config.journal_url.get_secret_value()
        results = results or config.results
    return StateSettings(journal_url, results)


def journal(state: StateSettings | None = None) -> Journal:
    from qprim.state.journal import Journal

    state = state or settings()
    return Journal(url=state.journal_url)


def storage(state: StateSettings) -> ObjectStorage:
    """`$QPRIM_HOME`, or the storage block the settings name."""
    if state.results is None:
        from qprim.state.storage import LocalStorage

        return LocalStorage(qprim_home())
    from qprim.flows.env import use_prefect

    use_prefect()
    from qprim.flows.storage import open_storage

    return open_storage(state.results)


@dataclass(frozen=True)
class Stores:
    """A command's state, opened once: Aer jobs run under the journal's locks, so two
    machines sharing both never run the same Aer job twice."""

    settings: StateSettings
    journal: Journal
    results: ResultStore
    aer: AerJobStore


def open_stores(state: StateSettings | None = None) -> Stores:
    from qprim.backends.aer.store import AerJobStore
    from qprim.state.results import ResultStore

    state = state or settings()
    opened = journal(state)
    objects = storage(state)
    return Stores(state, opened, ResultStore(objects), AerJobStore(objects, opened.hold))
