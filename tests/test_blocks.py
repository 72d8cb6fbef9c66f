"""`qprim blocks`: saved configurations round-trip through a real Prefect server, and the
IBM token is stored as a secret and shown nowhere: not in output, JSON, errors or the API."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest

from qprim.cli.blocks import resolve_token
from qprim.errors import InputError
from tests.support import REPO, Qprim

# no English word, no run of ordered digits: none of its 6-character pieces can turn up
# in qprim's output by accident, so finding one means the token leaked
TOKEN = "Zq7xK9-TOKEN-f3a9c2e81b7d4c60W4"
TOKEN_ENV = {"QPRIM_TEST_TOKEN": TOKEN}
TOKEN_FLAG = ("--token-env", "QPRIM_TEST_TOKEN")


def assert_no_token(*texts: str) -> None:
    """Neither the token nor any 6+ character piece of it is in any of `texts`."""
    for text in texts:
        for start in range(len(TOKEN) - 5):
            assert TOKEN[start : start + 6] not in text, f"token piece leaked into:\n{text}"


def unique(prefix: str) -> str:
    """Block names are per server, and the server is shared by the whole session."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_ok(qprim: Qprim, *args: str) -> subprocess.CompletedProcess[str]:
    """`qprim ...` (with the token in its env var), asserting success and no leak."""
    done = qprim.run(*args, env=TOKEN_ENV)
    assert done.returncode == 0, done.stderr
    assert_no_token(done.stdout, done.stderr)
    return done


def run_concurrently(
    qprim: Qprim, *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once: each pays Prefect's import time, so overlap them."""
    started = [(command, qprim.popen(*command, env=TOKEN_ENV)) for command in commands]
    done = []
    for command, process in started:
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def create_ibm(name: str, *extra: str) -> tuple[str, ...]:
    """The arguments of `qprim blocks create ibm NAME` with the token in an env var."""
    instance = "crn:v1:bluemix:public:quantum-computing:us-east:a/abc::"
    return ("blocks", "create", "ibm", name, "--instance", instance, *TOKEN_FLAG, *extra)


def listed(qprim: Qprim, name: str) -> list[dict[str, Any]]:
    return [block for block in qprim.run_json("blocks", "ls") if block["name"] == name]


@pytest.mark.slow
def test_ibm_block_round_trip_never_shows_the_token(qprim: Qprim) -> None:
    name = unique("ibm")
    run_ok(qprim, *create_ibm(name, "--backend", "ibm_fez", "--url", "http://127.0.0.1:9/rt"))

    outputs = run_concurrently(
        qprim,
        ("blocks", "ls"),
        ("blocks", "ls", "--json"),
        ("blocks", "show", name),
        ("blocks", "show", name, "--json"),
    )
    assert [done.returncode for done in outputs] == [0, 0, 0, 0], [d.stderr for d in outputs]
    assert_no_token(*(text for done in outputs for text in (done.stdout, done.stderr)))
    ls_err, ls_json = outputs[0].stderr, outputs[1].stdout
    show_err, show_json = outputs[2].stderr, outputs[3].stdout

    row = next(line for line in ls_err.splitlines() if name in line)
    assert "ibm" in row and "ibm_fez" in row and "instance=crn:v1:bluemix" in row
    [entry] = [block for block in json.loads(ls_json) if block["name"] == name]
    shown = json.loads(show_json)
    assert entry == shown
    assert shown["kind"] == "ibm" and shown["block_type"] == "qprim-ibm-quantum"
    assert shown["settings"] == {
        "token": "********",
        "instance": "crn:v1:bluemix:public:quantum-computing:us-east:a/abc::",
        "channel": "ibm_quantum_platform",
        "backend": "ibm_fez",
        "url": "http://127.0.0.1:9/rt",
        "iam_url": None,
    }
    assert "********" in show_err and "ibm_fez" in show_err

    removed = run_ok(qprim, "blocks", "rm", name)
    assert f"removed ibm block {name}" in removed.stderr
    after, gone = run_concurrently(qprim, ("blocks", "ls", "--json"), ("blocks", "show", name))
    assert after.returncode == 0 and name not in after.stdout
    assert gone.returncode == 2
    assert gone.stderr.startswith(f"error: unknown block '{name}'"), gone.stderr


@pytest.mark.slow
def test_aer_block_is_saved_and_a_bad_device_is_refused(qprim: Qprim) -> None:
    name = unique("aer")
    run_ok(
        qprim, "blocks", "create", "aer", name, "--device", "fake_manila", "--noise", "--seed", "3"
    )
    show, bad, noiseless = run_concurrently(
        qprim,
        ("blocks", "show", name, "--json"),
        ("blocks", "create", "aer", unique("aer"), "--device", "fake_nowhere"),
        ("blocks", "create", "aer", unique("aer"), "--noise"),  # no device to take it from
    )
    shown = json.loads(show.stdout)
    assert shown["kind"] == "aer" and shown["block_type"] == "qprim-aer"
    assert shown["settings"] == {"device": "fake_manila", "noise": True, "seed": 3}
    assert bad.returncode == 2
    assert "fake_nowhere" in bad.stderr and "Traceback" not in bad.stderr
    assert noiseless.returncode == 2 and "--noise needs a fake device" in noiseless.stderr


@pytest.mark.slow
def test_a_name_is_never_overwritten_by_accident_in_either_kind(qprim: Qprim) -> None:
    name = unique("taken")
    run_ok(qprim, "blocks", "create", "aer", name, "--seed", "1")

    again, other_kind = run_concurrently(
        qprim, ("blocks", "create", "aer", name, "--seed", "2"), create_ibm(name)
    )
    for refused in (again, other_kind):
        assert refused.returncode == 2
        assert f"'{name}' already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert_no_token(other_kind.stdout, other_kind.stderr)
    assert qprim.run_json("blocks", "show", name)["settings"]["seed"] == 1

    run_ok(qprim, "blocks", "create", "aer", name, "--seed", "2", "--overwrite")
    assert qprim.run_json("blocks", "show", name)["settings"]["seed"] == 2
    # one name space: replacing it with the other kind leaves a single block
    run_ok(qprim, *create_ibm(name, "--overwrite"))
    assert [block["kind"] for block in listed(qprim, name)] == ["ibm"]


@pytest.mark.slow
def test_token_problems_exit_2_without_showing_a_token(qprim: Qprim) -> None:
    name = unique("ibm")
    base = ("blocks", "create", "ibm", name, "--instance", "crn:x")
    unset = qprim.run(*base, "--token-env", "QPRIM_TEST_UNSET_VAR", env=TOKEN_ENV)
    both = qprim.run(*base, "--token-env", "QPRIM_TEST_TOKEN", "--token", TOKEN, env=TOKEN_ENV)
    # no token and stdin is not a terminal: nothing to prompt on, so say how to give one
    no_tty = subprocess.run(
        [sys.executable, "-m", "qprim", *base],
        cwd=qprim.cwd,
        env=qprim.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for done, words in (
        (unset, ["QPRIM_TEST_UNSET_VAR"]),
        (both, ["--token", "--token-env"]),
        (no_tty, ["--token-env", "terminal"]),
    ):
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
        assert all(word in done.stderr for word in words), done.stderr
        assert_no_token(done.stdout, done.stderr)
    assert listed(qprim, name) == []


@pytest.mark.slow
def test_a_token_on_the_command_line_works_with_a_warning(qprim: Qprim) -> None:
    name = unique("ibm")
    done = run_ok(qprim, "blocks", "create", "ibm", name, "--instance", "crn:x", "--token", TOKEN)
    assert "warning:" in done.stderr and "--token-env" in done.stderr
    assert qprim.run_json("blocks", "show", name)["settings"]["token"] == "********"


@pytest.mark.slow
def test_the_token_is_stored_as_a_prefect_secret(qprim: Qprim, prefect_api_url: str) -> None:
    name = unique("ibm")
    aer = unique("aer")
    created = run_concurrently(
        qprim,
        ("blocks", "create", "ibm", name, "--instance", "crn:x", *TOKEN_FLAG),
        ("blocks", "create", "aer", aer),
    )
    assert [done.returncode for done in created] == [0, 0], [done.stderr for done in created]

    # the Python API the IBM backend uses, in a process of its own like the CLI's
    script = f"""
import json
from qprim.flows.env import use_prefect
use_prefect()
from qprim.flows.blocks import load_aer_config, load_ibm_config
from qprim.errors import InputError
config = load_ibm_config({name!r})
errors = []
missing = [(load_ibm_config, "nope"), (load_ibm_config, {aer!r}), (load_aer_config, {name!r})]
for load, missing in missing:
    try:
        load(missing)
    except InputError as exc:
        errors.append([exc.exit_code, str(exc)])
print(json.dumps({{
    "round_trips": config.token.get_secret_value() == {TOKEN!r},
    "repr": repr(config),
    "instance": config.instance,
    "aer_device": load_aer_config({aer!r}).device,
    "errors": errors,
}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=qprim.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert_no_token(done.stdout, done.stderr)
    found = json.loads(done.stdout)
    assert found["round_trips"] and found["instance"] == "crn:x"
    assert found["aer_device"] == "aer_simulator"
    nope, wrong_kind, wrong_kind_aer = found["errors"]
    assert nope == [
        2,
        "unknown block 'nope': create it with `qprim blocks create ibm nope ...`, "
        "or list them with `qprim blocks ls`",
    ]
    assert wrong_kind[0] == 2 and "is an aer block" in wrong_kind[1]
    assert wrong_kind_aer[0] == 2 and "qprim blocks create aer" in wrong_kind_aer[1]

    query = {"block_documents": {"name": {"any_": [name]}}}
    with httpx.Client(base_url=prefect_api_url, timeout=30) as api:
        hidden = api.post("/block_documents/filter", json={**query, "include_secrets": False})
        revealed = api.post("/block_documents/filter", json={**query, "include_secrets": True})
    assert_no_token(hidden.text)
    [document] = hidden.json()
    assert document["block_schema"]["fields"]["secret_fields"] == ["token"]
    # ...and it is there for who asks for secrets: the check above is not vacuous
    assert revealed.json()[0]["data"]["token"] == TOKEN


@pytest.mark.slow
def test_prefect_block_register_registers_every_type_the_docs_name(
    qprim: Qprim, prefect_api_url: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "block", "register", "-m", "qprim.flows.blocks"],
        cwd=qprim.cwd,
        env=qprim.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with httpx.Client(base_url=prefect_api_url, timeout=30) as api:
        found = api.post("/block_types/filter", json={}).json()
    registered = sorted(t["slug"] for t in found if t["slug"].startswith("qprim-"))
    assert registered == ["qprim-aer", "qprim-ibm-quantum", "qprim-team"]
    assert "qprim's three block types (ibm, aer and team)" in " ".join(
        (REPO / "docs" / "ibm.md").read_text().split()
    )


def test_importing_the_blocks_cli_imports_no_prefect() -> None:
    code = "import sys, qprim.cli.blocks; print(any(m.startswith('prefect') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class TestResolveToken:
    """Where the token comes from, without a Prefect server."""

    def test_from_an_environment_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("QPRIM_TEST_TOKEN", TOKEN)
        assert resolve_token(None, "QPRIM_TEST_TOKEN", interactive=False) == TOKEN

    @pytest.mark.parametrize("value", [None, "", "  "])
    def test_an_unset_or_empty_variable_is_named(
        self, monkeypatch: pytest.MonkeyPatch, value: str | None
    ) -> None:
        if value is None:
            monkeypatch.delenv("QPRIM_TEST_TOKEN", raising=False)
        else:
            monkeypatch.setenv("QPRIM_TEST_TOKEN", value)
        with pytest.raises(InputError, match="QPRIM_TEST_TOKEN"):
            resolve_token(None, "QPRIM_TEST_TOKEN", interactive=True)

    def test_from_the_flag(self) -> None:
        assert resolve_token(TOKEN, None, interactive=False) == TOKEN

    def test_both_flags_are_a_usage_error_that_does_not_echo_the_token(self) -> None:
        with pytest.raises(InputError) as caught:
            resolve_token(TOKEN, "QPRIM_TEST_TOKEN", interactive=True)
        assert_no_token(str(caught.value))

    def test_prompts_with_hidden_input_when_interactive(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        asked: list[dict[str, Any]] = []

        def prompt(text: str, **kwargs: Any) -> str:
            asked.append(kwargs)
            return TOKEN

        monkeypatch.setattr("typer.prompt", prompt)
        assert resolve_token(None, None, interactive=True) == TOKEN
        assert asked == [{"hide_input": True}]

    def test_no_terminal_and_no_token_explains_token_env(self) -> None:
        with pytest.raises(InputError, match="--token-env"):
            resolve_token(None, None, interactive=False)
