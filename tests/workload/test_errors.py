"""Malformed workloads: each is a WorkloadError `FILE:LINE: message` at the right line."""

from __future__ import annotations

import pytest

from qprim.errors import InputError
from qprim.workload import CircuitFileFlags, WorkloadError, load_workload
from tests.support import CORPUS
from tests.workload.malformed import BELL, CASES, HEAD, make_workdir


@pytest.fixture
def workdir(in_tmp):
    return make_workdir(in_tmp)


@pytest.mark.parametrize(
    ("text", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_workload(workdir, text, line, words):
    (workdir / "w.yaml").write_text(text)
    with pytest.raises(WorkloadError) as info:
        load_workload("w.yaml")
    message = str(info.value)
    if line is not None:
        assert message.startswith(f"w.yaml:{line}: "), message
        assert info.value.where.line == line
    for word in words:
        assert word in message, message


def test_relative_workload_path_is_kept(workdir):
    (workdir / "sub" / "w.yaml").write_text(
        HEAD + "circuits: {v: {file: vqe_uccsd_n6.qasm}}\npubs: [{circuit: v}]\n"
    )
    with pytest.raises(WorkloadError, match=r"^sub/vqe_uccsd_n6\.qasm:2286: "):
        load_workload("sub/w.yaml")
    (workdir / "sub" / "w.yaml").write_text(HEAD + BELL + "pubs: 3\n")
    with pytest.raises(WorkloadError, match=r"^sub/w\.yaml:11: pubs must be a list"):
        load_workload("sub/w.yaml")


@pytest.mark.parametrize(("name", "line"), [("vqe_uccsd_n4", 225), ("vqe_uccsd_n6", 2286)])
def test_invalid_corpus_files_as_bare_inputs(name, line):
    path = CORPUS / f"{name}.qasm"
    with pytest.raises(WorkloadError) as info:
        load_workload(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert "'q' is not defined" in str(info.value)


def test_errors_are_never_tracebacks(in_tmp):
    (in_tmp / "w.yaml").write_bytes(b"\xff\xfe bad bytes")
    with pytest.raises(WorkloadError, match=r"^w\.yaml:1: column 1: byte 0xff is not UTF-8"):
        load_workload("w.yaml")
    (in_tmp / "bad.qpy").write_bytes(b"not qpy at all")
    with pytest.raises(WorkloadError, match=r"^bad\.qpy:1: .*not a readable QPY"):
        load_workload("bad.qpy")
    with pytest.raises(InputError, match="not found"):
        load_workload("missing.yaml")
    with pytest.raises(InputError, match="expected a workload"):
        load_workload("w.txt")
    with pytest.raises(InputError, match="unknown aer backend"):
        load_workload(CORPUS / "bell_n4.qasm", CircuitFileFlags(backend="fake_nowhere"))
