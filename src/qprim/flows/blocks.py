"""Saved backend configurations as Prefect blocks: where a workload's `block: NAME` points.

Why blocks: the IBM Quantum token then lives in Prefect's store as a secret (a pydantic
`SecretStr`), never in a workload, a flag of `qprim run`, a task parameter or a log.
`prefect block register -m qprim.flows.blocks` registers its three block types (ibm, aer,
team) for the Prefect UI.

One name space: qprim treats a NAME as unique across its kinds, because a workload only
says `block: NAME`.

Masking: no character of a token is ever shown. `show_block`/`list_blocks` read documents
with `include_secrets=False` and replace every secret field with `SECRET_MASK` (no
prefix, suffix or length), and a loaded block's `repr` shows pydantic's own mask.

Blocks produce the configuration objects backends are built from (`account()`, `settings()`);
backends never load blocks themselves.

Importing this module imports Prefect: call `qprim.flows.env.use_prefect()` first.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from pydantic import Field, SecretStr

from qprim.backends.aer.devices import AER_SIMULATOR
from qprim.errors import InputError

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import BlockDocument

    from qprim.backends.ibm import IBMAccount
    from qprim.workload.types import BackendSpec

SECRET_MASK = "********"
CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
_NAME = re.compile(r"^[a-z0-9-]+$")  # Prefect's rule for block document names
_PAGE = 200


class IBMQuantumConfig(Block):
    """How to reach IBM Quantum: token, instance, channel, default device, endpoints."""

    _block_type_name = "qprim IBM Quantum"
    _block_type_slug = "qprim-ibm-quantum"
    _description = (
        "An IBM Quantum account for qprim: API token (secret), instance CRN, channel, "
        "default device and optional private endpoints."
    )
    kind: ClassVar[str] = "ibm"

    token: SecretStr = Field(description="IBM Quantum / IBM Cloud API key.")
    instance: str | None = Field(default=None, description="Instance CRN or name.")
    channel: str = Field(
        default="ibm_quantum_platform", description="ibm_quantum_platform or ibm_cloud."
    )
    backend: str | None = Field(default=None, description="Default device, e.g. ibm_brisbane.")
    url: str | None = Field(default=None, description="A private or emulated Runtime endpoint.")
    iam_url: str | None = Field(default=None, description="A private or emulated IAM endpoint.")

    def account(self, name: str) -> IBMAccount:
        """The configuration the IBM backend is built from."""
        from qprim.backends.ibm import IBMAccount

        return IBMAccount(
            name=name,
            token=self.token,
            instance=self.instance,
            channel=self.channel,
            url=self.url,
            iam_url=self.iam_url,
        )

    def complete(self, spec: BackendSpec) -> tuple[BackendSpec, IBMAccount | None]:
        """The device, unless the workload names one; and the account."""
        assert spec.block is not None
        return replace(spec, name=spec.name or self.backend), self.account(spec.block)


class AerConfig(Block):
    """A local Qiskit Aer simulator, optionally shaped and made noisy by a fake device."""

    _block_type_name = "qprim Aer"
    _block_type_slug = "qprim-aer"
    _description = "A Qiskit Aer simulator for qprim: device, noise model, seed."
    kind: ClassVar[str] = "aer"

    device: str = Field(default=AER_SIMULATOR, description="aer_simulator or a fake device.")
    noise: bool = Field(default=False, description="Use the fake device's noise model.")
    seed: int | None = Field(default=None, description="Simulator seed.")

    def complete(self, spec: BackendSpec) -> tuple[BackendSpec, IBMAccount | None]:
        """Device, noise and seed, unless the workload sets them; no account."""
        filled = replace(
            spec,
            name=spec.name or self.device,
            noise=spec.noise or self.noise,
            seed=spec.seed if spec.seed is not None else self.seed,
        )
        return filled, None


class TeamConfig(Block):
    """Where a team's qprim keeps its shared state: the journal's database (a secret: its
    URL holds a password) and the storage block results and Aer jobs go to. Machines and
    workers that name it (`QPRIM_TEAM=NAME`) need no other qprim setting."""

    _block_type_name = "qprim Team"
    _block_type_slug = "qprim-team"
    _description = (
        "Shared qprim state for a team: the journal's PostgreSQL URL (secret) and the "
        "storage block (TYPE/NAME) for results and Aer jobs."
    )
    kind: ClassVar[str] = "team"

    journal_url: SecretStr = Field(description="postgresql://USER:PASSWORD@HOST:PORT/DB")
    results: str | None = Field(
        default=None, description="A storage block, TYPE/NAME, e.g. remote-file-system/team."
    )


BlockClass = type[IBMQuantumConfig] | type[AerConfig] | type[TeamConfig]
# the block type that completes a workload's backend, by backend kind
BACKEND_BLOCKS: dict[str, type[IBMQuantumConfig] | type[AerConfig]] = {
    "ibm": IBMQuantumConfig,
    "aer": AerConfig,
}
KINDS: dict[str, BlockClass] = {**BACKEND_BLOCKS, "team": TeamConfig}
BlockT = TypeVar("BlockT", IBMQuantumConfig, AerConfig, TeamConfig)


def load_ibm_config(name: str) -> IBMQuantumConfig:
    """The IBM block NAME, token included; InputError (exit 2) if there is none."""
    return _load(IBMQuantumConfig, name)


def load_aer_config(name: str) -> AerConfig:
    """The Aer block NAME; InputError (exit 2) if there is none."""
    return _load(AerConfig, name)


def load_team_config(name: str) -> TeamConfig:
    """The team block NAME, its journal URL included; InputError (exit 2) if there is none."""
    return _load(TeamConfig, name)


def resolve(spec: BackendSpec) -> tuple[BackendSpec, IBMAccount | None]:
    """Fill in what a workload left to its saved block (device, noise, seed), so that the
    digest covers it; the workload's own values win. With the IBM account it names."""
    if spec.block is None:
        return spec, None
    return _load(BACKEND_BLOCKS[spec.kind], spec.block).complete(spec)


def list_blocks() -> list[dict[str, Any]]:
    """Every qprim block, as `show_block` describes it (no secrets), sorted by name."""
    with get_client(sync_client=True) as client:
        found = [
            _describe(cls, document)
            for cls in KINDS.values()
            for document in _documents_of(client, cls)
        ]
    return sorted(found, key=lambda entry: entry["name"])


def show_block(name: str) -> dict[str, Any]:
    """`{name, kind, block_type, settings, created, updated}`; secret settings masked."""
    with get_client(sync_client=True) as client:
        cls, document = _find_any(client, name)
    return _describe(cls, document)


def remove_block(name: str) -> str:
    """Delete the block NAME; returns its kind."""
    with get_client(sync_client=True) as client:
        cls, document = _find_any(client, name)
        client.delete_block_document(document.id)
    return cls.kind


def save_ibm_config(
    name: str,
    *,
    token: str,
    instance: str | None = None,
    channel: str = "ibm_quantum_platform",
    backend: str | None = None,
    url: str | None = None,
    iam_url: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Save an IBM block (the token as a secret); returns it as `show_block` would."""
    if not token.strip():
        raise InputError("the IBM Quantum token is empty")
    if channel not in CHANNELS:
        raise InputError(f"unknown channel {channel!r}: use {' or '.join(CHANNELS)}")
    for flag, value in (("--url", url), ("--iam-url", iam_url)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise InputError(f"{flag} must be an http(s) URL, got {value!r}")
    config = IBMQuantumConfig(
        token=SecretStr(token.strip()),
        instance=instance,
        channel=channel,
        backend=backend,
        url=url,
        iam_url=iam_url,
    )
    return _save(config, name, overwrite)


def save_aer_config(
    name: str,
    *,
    device: str = AER_SIMULATOR,
    noise: bool = False,
    seed: int | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Save an Aer block; the device must be aer_simulator or a fake device."""
    if device == AER_SIMULATOR:
        if noise:
            raise InputError("--noise needs a fake device to take the noise model from")
    else:
        from qprim.backends.aer.devices import fake_device_names  # imports qiskit: only if needed

        fakes = fake_device_names()
        if device not in fakes:
            examples = ", ".join(sorted(fakes)[:4])
            raise InputError(
                f"unknown aer device {device!r}: use {AER_SIMULATOR} or a fake device such as "
                f"{examples}, ... (qiskit_ibm_runtime.fake_provider)"
            )
    return _save(AerConfig(device=device, noise=noise, seed=seed), name, overwrite)


def save_team_config(
    name: str, *, journal_url: str, results: str | None = None, overwrite: bool = False
) -> dict[str, Any]:
    """Save a team block (the journal URL as a secret); both settings are checked first."""
    from qprim.state.database import masked, normalized

    try:
        backend = normalized(journal_url).get_backend_name()
    except Exception:
        raise InputError("the journal URL is not a database URL") from None
    if backend != "postgresql":
        raise InputError(
            f"a team journal is a PostgreSQL database, got {masked(journal_url)}: "
            "use postgresql://USER:PASSWORD@HOST:PORT/DB"
        )
    if results is not None:
        from qprim.flows.storage import check_slug

        check_slug(results)
    config = TeamConfig(journal_url=SecretStr(journal_url), results=results)
    return _save(config, name, overwrite)


def unknown_block(name: str, kind: str = "ibm") -> InputError:
    return InputError(
        f"unknown block {name!r}: create it with `qprim blocks create {kind} {name} ...`, "
        "or list them with `qprim blocks ls`"
    )


def _load(cls: type[BlockT], name: str) -> BlockT:
    with get_client(sync_client=True) as client:
        if _document(client, cls, name) is None:
            error = unknown_block(name, cls.kind)
            for other in KINDS.values():
                if other is not cls and _document(client, other, name) is not None:
                    error = InputError(f"{error} ({name!r} is an {other.kind} block)")
            raise error
    return cls.load(name)


def _save(
    config: IBMQuantumConfig | AerConfig | TeamConfig, name: str, overwrite: bool
) -> dict[str, Any]:
    if not _NAME.match(name):
        raise InputError(
            f"bad block name {name!r}: use lowercase letters, digits and dashes (Prefect's rule)"
        )
    with get_client(sync_client=True) as client:
        for cls in KINDS.values():
            existing = _document(client, cls, name)
            if existing is None:
                continue
            if not overwrite:
                raise InputError(
                    f"a block named {name!r} already exists ({cls.kind}): "
                    "pass --overwrite to replace it, or choose another name"
                )
            if cls is not type(config):  # replacing a block of the other kind
                client.delete_block_document(existing.id)
    try:
        config.save(name, overwrite=overwrite)
    except ValueError:  # Prefect's word for "taken": another process saved it meanwhile
        if overwrite:
            raise
        raise InputError(
            f"a block named {name!r} was just created by someone else: "
            "pass --overwrite to replace it"
        ) from None
    return show_block(name)


def _find_any(client: SyncPrefectClient, name: str) -> tuple[BlockClass, BlockDocument]:
    for cls in KINDS.values():
        document = _document(client, cls, name)
        if document is not None:
            return cls, document
    raise unknown_block(name, "ibm|aer")


def _document(client: SyncPrefectClient, cls: BlockClass, name: str) -> BlockDocument | None:
    try:
        return client.read_block_document_by_name(
            name, cls.get_block_type_slug(), include_secrets=False
        )
    except ObjectNotFound:
        return None


def _documents_of(client: SyncPrefectClient, cls: BlockClass) -> list[BlockDocument]:
    """All documents of one type, page by page; none if the type was never registered."""
    found: list[BlockDocument] = []
    while True:
        try:
            page = client.read_block_documents_by_type(
                cls.get_block_type_slug(), offset=len(found), limit=_PAGE, include_secrets=False
            )
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code == 404:
                return []
            raise
        found.extend(page)
        if len(page) < _PAGE:
            return found


def _describe(cls: BlockClass, document: BlockDocument) -> dict[str, Any]:
    secrets = _secret_fields(cls)
    settings = {
        field: SECRET_MASK if field in secrets else document.data.get(field, info.default)
        for field, info in cls.model_fields.items()
    }
    return {
        "name": document.name,
        "kind": cls.kind,
        "block_type": cls.get_block_type_slug(),
        "settings": settings,
        "created": _iso(document.created),
        "updated": _iso(document.updated),
    }


def _secret_fields(cls: BlockClass) -> set[str]:
    return {field for field, info in cls.model_fields.items() if info.annotation is SecretStr}


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None
