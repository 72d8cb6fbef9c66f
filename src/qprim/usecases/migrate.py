"""`qprim journal migrate`: work done before a team's set-up joins the shared state, so
it is reused, never submitted again."""

from __future__ import annotations

from qprim.backends.kinds import backend_kind
from qprim.files import qprim_home
from qprim.usecases.stores import JOURNAL_URL_ENV, TEAM_ENV, settings, storage


def copy_local_state(to: str | None = None) -> dict[str, object]:
    """`qprim journal migrate`: this machine's journal rows into the shared journal (`to`,
    else the configured one), and the stored results and Aer jobs of the rows copied into
    the shared store, if one is configured. Safe to repeat: what is there is kept."""
    from qprim.errors import InputError
    from qprim.state.database import masked
    from qprim.state.journal import Journal
    from qprim.state.storage import LocalStorage

    state = settings()
    target_url = to or state.journal_url
    if target_url is None:
        raise InputError(
            "no shared journal to copy into: pass --to postgresql://... or set "
            f"{JOURNAL_URL_ENV} (or {TEAM_ENV})"
        )
    local = Journal()
    target = Journal(url=target_url)
    if target.url == local.url:
        raise InputError("the journal to copy into is this machine's own")
    copied = local.copy_into(target)
    objects = 0
    if state.results is not None:
        source, shared = LocalStorage(qprim_home()), storage(state)
        for kind, job_id in copied.job_ids:
            for key in _object_keys(kind, job_id):
                data = source.read(key)
                if data is not None:
                    shared.write(key, data)
                    objects += 1
    return {
        "to": masked(target.url),
        "submissions": copied.submissions,
        "groups": copied.groups,
        "already_there": copied.already_there,
        "objects": objects,
        "store": state.results or "(no shared store configured: none)",
    }


def _object_keys(kind: str, job_id: str) -> list[str]:
    """Every stored object of a job, in the order a reader may trust them."""
    from qprim.backends.aer.store import AerJobStore
    from qprim.state.results import ResultStore

    keys = ResultStore.keys(kind, job_id)
    return [*AerJobStore.keys(job_id), *keys] if backend_kind(kind).local else keys
