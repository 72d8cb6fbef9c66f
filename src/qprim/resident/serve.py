"""`python -m qprim.resident --socket PATH`: a qprim process that has already imported
Prefect, Qiskit and Aer, and forks one child per command, so that a command does not pay
for imports another process on this machine already paid.

qprim's local server supervisor starts it beside Prefect and stops it with Prefect
(`qprim server stop`). A command (`qprim.launch`) sends its argv, working directory,
environment and umask, and its stdin/stdout/stderr over the socket; the child takes them
all, runs the command exactly as `qprim` would, and the resident process tells the caller
how it ended. When the caller goes away (killed), the child is killed too.

It refuses, and the caller runs the command itself, whenever it could run anything other
than what the caller would: another Python or `sys.path`, an environment variable that
libraries read only at import time set differently, or any source file it imported changed
since it started (then it exits, and its supervisor starts a new one).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import io
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from qprim.flows.env import DEFAULTS, FLOW_RUN_IMPORTS
from qprim.flows.resident import STALE_EXIT, connect_unix, log_line, rss_bytes, send

# What a command needs imported, down to what `qprim run` imports lazily on the way
# (161 modules, 0.3 s of a served run otherwise); qiskit_ibm_runtime comes with qprim's
# own modules (it applies QISKIT_IBM_RUNTIME_LOG_LEVEL when imported: IMPORT_TIME_ENV).
PRELOADED = (
    "qprim.cli.app",
    "qprim.cli.progress",
    "qprim.cli.render",
    "qprim.usecases.run",
    "qprim.usecases.stores",
    "qprim.state.results",
    "qprim.usecases.assemble",
    "qprim.plan.jobs",
    "qprim.report.checks",
    "qprim.report.markdown",
    "qprim.report.record",
    "qprim.flows.run",
    "qprim.flows.artifacts",
    "qprim.flows.blocks",
    "qprim.flows.health",
    "qprim.backends.aer",
    "sqlalchemy.dialects.sqlite",  # the journal's
    "rich.logging",
    "qiskit.transpiler.preset_passmanagers",
    "qiskit_aer.primitives",
    "qiskit_qasm3_import",  # what reads OpenQASM 3 circuits: 0.5 s of a `qprim validate`
    "typer.rich_utils",  # what prints help
)
# Read by libraries when they are imported (native threads, Qiskit's and the IBM client's
# settings, Python's own): a command that sets one differently runs in its own process.
IMPORT_TIME_ENV = (
    "HOME",
    "DO_NOT_TRACK",  # Prefect starts its telemetry (or not) when imported
    "PYTHONPATH",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "PYTHONIOENCODING",
    "QISKIT_PARALLEL",
    "QISKIT_NUM_PROCS",
    "QISKIT_SETTINGS",
    "QISKIT_FORCE_THREADS",
    "QISKIT_IN_PARALLEL",
    "QISKIT_SUPPRESS_PACKAGING_WARNINGS",
    "QISKIT_IBM_RUNTIME_LOG_LEVEL",
    "QISKIT_IBM_RUNTIME_LOG_FILE",
)
IMPORT_TIME_PREFIXES = ("OMP_", "OPENBLAS_", "MKL_", "RAYON_")
# a first program for the OpenQASM 3 parser: it builds its lookup tables on its first one
WARM_QASM = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c; h q[0]; c = measure q;'
MAX_MESSAGE = 1 << 20
RECEIVE_TIMEOUT_S = 5.0


def preload() -> None:
    """Import what commands use; let Qiskit find its transpiler plugins, Typer build the
    command line and the OpenQASM 3 parser its tables, once."""
    from qprim.flows.env import configure_prefect, refresh_imported_prefect

    configure_prefect()
    for name in (*PRELOADED, *FLOW_RUN_IMPORTS):
        importlib.import_module(name)
    from qiskit import qasm3
    from qiskit.transpiler.preset_passmanagers.plugin import list_stage_plugins

    from qprim.cli.app import command

    for stage in ("init", "layout", "routing", "translation", "optimization", "scheduling"):
        list_stage_plugins(stage)
    command()
    qasm3.loads(WARM_QASM)
    refresh_imported_prefect()  # what a command with the same settings need not do again


def source_files() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file an imported module came from."""
    found: dict[str, tuple[int, int]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path:
            with contextlib.suppress(OSError):
                stat = os.stat(path)
                found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed(files: dict[str, tuple[int, int]]) -> str | None:
    for path, seen in files.items():
        try:
            stat = os.stat(path)
        except OSError:
            return path
        if (stat.st_mtime_ns, stat.st_size) != seen:
            return path
    return None


def import_time_env(env: dict[str, str]) -> dict[str, str]:
    """The settings read at import time, as a command sees them once qprim has set its
    defaults under them (`DO_NOT_TRACK=1` set by hand or by qprim is the same)."""
    return {
        name: value
        for name, value in {**DEFAULTS, **env}.items()
        if name in IMPORT_TIME_ENV or name.startswith(IMPORT_TIME_PREFIXES)
    }


def say(text: str) -> None:
    """A line in the resident process's log (the local server's log)."""
    log_line("resident", text)


def peer_uid(connection: socket.socket) -> int:
    """The user id of the process at the other end (Linux's SO_PEERCRED)."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    return struct.unpack("3i", credentials)[1]


def receive(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One request line and the descriptors sent with it."""
    connection.settimeout(RECEIVE_TIMEOUT_S)  # a caller that connects and says nothing
    data, fds, _flags, _address = socket.recv_fds(connection, MAX_MESSAGE, 3)
    while data and not data.endswith(b"\n") and len(data) < MAX_MESSAGE:
        more = connection.recv(MAX_MESSAGE)
        if not more:
            break
        data += more
    connection.settimeout(None)
    return json.loads(data), fds


class Resident:
    """The listening socket, and the commands running in children (pid -> connection)."""

    def __init__(self, path: Path, environment: dict[str, str]) -> None:
        self.path = path
        self.import_time_env = import_time_env(environment)  # as it was before preloading
        self.files = source_files()
        self.started = time.time()
        self.served = 0
        self.children: dict[int, socket.socket] = {}
        self.stopping: list[int] = []
        self.code = 0
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path.unlink(missing_ok=True)
        previous = os.umask(0o077)  # the socket: this user's only
        try:
            connect_unix(self.listener, path, bind=True)
        finally:
            os.umask(previous)
        self.listener.listen(16)
        self.wakeup, wakeup_write = os.pipe()
        os.set_blocking(self.wakeup, False)
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda signum, _frame: self.stopping.append(signum))
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wakeup, selectors.EVENT_READ, "signal")

    def serve(self) -> int:
        """Accept commands until SIGTERM, or until a source file changed (STALE_EXIT);
        then, listening no more, wait for the commands still running."""
        try:
            while not self.stopping or self.children:
                if self.stopping and self.listener.fileno() >= 0:
                    self.close_listener()
                for key, _events in self.selector.select():
                    try:
                        self.handle(key.data)
                    except Exception as exc:  # one bad exchange must not end the others
                        say(f"error: {type(exc).__name__}: {exc}")
        finally:
            self.close_listener()
        return self.code

    def handle(self, event: str | int) -> None:
        if event == "accept":
            self.accept()
        elif event == "signal":
            with contextlib.suppress(BlockingIOError):
                os.read(self.wakeup, 512)
            self.reap()
        else:  # a caller's connection: readable only once the caller is gone
            self.caller_gone(int(event))

    def close_listener(self) -> None:
        if self.listener.fileno() >= 0:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.path.unlink(missing_ok=True)

    def refusal(self, request: dict[str, Any]) -> str | None:
        """Why this process must not run `request`, if it must not."""
        stale = changed(self.files)
        if stale is not None:
            self.code = STALE_EXIT
            self.stopping.append(0)
            return f"{stale} changed since the resident process started"
        # sys.path[0] is the script's folder (or the working directory with -m): not where
        # anything preloaded came from
        path = request.get("path")
        if (
            request.get("executable") != os.path.realpath(sys.executable)
            or request.get("prefix") != sys.prefix
            or not isinstance(path, list)
            or path[1:] != sys.path[1:]
        ):
            return "another Python, environment or sys.path"
        env = request.get("env")
        if not isinstance(env, dict) or import_time_env(env) != self.import_time_env:
            return "an environment variable read at import time differs"
        return None

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "served": self.served,
            "running": len(self.children),
            "rss_bytes": rss_bytes(os.getpid()),
        }

    def accept(self) -> None:
        connection, _ = self.listener.accept()
        fds: list[int] = []
        try:
            if peer_uid(connection) != os.getuid():  # it runs commands as this user only
                raise PermissionError("a caller of another user")
            request, fds = receive(connection)
            if request.get("status"):
                send(connection, self.status())
            elif (refusal := self.refusal(request)) or len(fds) != 3:
                say(f"declined a command: {refusal or 'no terminal descriptors'}")
                send(connection, {"refused": refusal or "no terminal descriptors"})
            else:
                self.start(connection, request, fds)
                return
        except (OSError, ValueError) as exc:
            say(f"declined a command: {exc}")
            with contextlib.suppress(OSError):
                send(connection, {"refused": str(exc)})
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        connection.close()

    def start(self, connection: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        """Fork the command's process. It says its pid to the caller itself, first, so
        nothing it writes can come before it."""
        pid = os.fork()
        if pid == 0:  # the child: runs the command and never returns
            self.selector.close()
            for other in [self.listener, *self.children.values()]:
                other.close()
            os.close(self.wakeup)
            run_child(request, fds, connection)
        with contextlib.suppress(OSError):  # as the child does: the group the caller signals
            os.setpgid(pid, pid)
        for fd in fds:
            os.close(fd)
        self.served += 1
        self.children[pid] = connection
        self.selector.register(connection, selectors.EVENT_READ, pid)

    def reap(self) -> None:
        """Tell each caller whose command ended how it ended."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.children.pop(pid, None)
            if connection is None:
                continue
            ended = (
                {"signal": os.WTERMSIG(status)}
                if os.WIFSIGNALED(status)
                else {"exit": os.waitstatus_to_exitcode(status)}
            )
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(connection)
            with contextlib.suppress(OSError):
                send(connection, ended)
            connection.close()

    def caller_gone(self, pid: int) -> None:
        """A caller was killed: its command ends the same way, as it would have in-process."""
        connection = self.children.get(pid)
        if connection is not None:
            self.selector.unregister(connection)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def run_child(request: dict[str, Any], fds: list[int], connection: socket.socket) -> None:
    """Become the caller (its descriptors, folder, environment, umask, argv), run the
    command as `qprim` would, and exit with its code."""
    code = 1
    try:
        os.setpgid(0, 0)  # signals the caller forwards reach what the command started, too
        send(connection, {"pid": os.getpid()})
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["qprim", *request["argv"]]
        reopen_stdio()
        become_caller(int(request["pid"]))
        code = run_command()
    except BaseException as exc:  # nothing of the resident process's own may run on
        with contextlib.suppress(Exception):
            print(f"qprim: the resident process could not run the command: {exc}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        # said here, after the output: the caller learns it even if the resident is gone
        with contextlib.suppress(OSError):
            send(connection, {"exit": code})
        os._exit(code)


def reopen_stdio() -> None:
    """New sys.stdin/stdout/stderr on the caller's descriptors, buffered as Python's own
    would be for them (line-buffered on a terminal, unbuffered with PYTHONUNBUFFERED)."""
    encoding = os.environ.get("PYTHONIOENCODING", "").split(":")[0] or sys.stdout.encoding
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    sys.stdin = sys.__stdin__ = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    for fd, name, errors in ((1, "stdout", "strict"), (2, "stderr", "backslashreplace")):
        stream = io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(fd, "w", closefd=False)),
            encoding=encoding,
            errors=errors,
            line_buffering=os.isatty(fd) or fd == 2,
            write_through=unbuffered,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def become_caller(pid: int) -> None:
    """What qprim and Prefect read from the process when they were imported, read again
    for the caller `pid`: the umask, Prefect's settings and its logging; and the pid that
    names the command (in who-holds-the-work messages) is the caller's."""
    from qprim import files
    from qprim.flows.env import configure_prefect

    files.become_caller(pid)
    configure_prefect()  # qprim's defaults under the caller's settings, then read again


def run_command() -> int:
    """`qprim` as the command line runs it, including its exit handlers."""
    import atexit

    from qprim.cli import main

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except KeyboardInterrupt:  # uncaught: Python's own ending, death by SIGINT
        atexit._run_exitfuncs()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except Exception:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", type=Path, required=True, help="where to listen")
    args = parser.parse_args(argv)
    environment = dict(os.environ)
    preload()
    gc.collect()
    gc.freeze()  # the children share these pages instead of copying each on first touch
    return Resident(args.socket, environment).serve()
