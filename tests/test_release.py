"""A release says one version everywhere: `qprim --version`, the installed package's
metadata (setuptools reads `qprim.__version__` at build time) and CHANGELOG.md's newest
released section. The wheel itself is built, installed and run by `.ci/run`."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import qprim
from tests.support import REPO

RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def test_qprim_version_prints_the_version_without_reading_package_metadata() -> None:
    probe = (
        "import sys\n"
        "from qprim.launch import main\n"
        "sys.argv = ['qprim', '--version']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "print(f'EXIT={code} METADATA={\"importlib.metadata\" in sys.modules}', file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout == f"qprim {qprim.__version__}\n", done.stderr
    # the version is a literal: `qprim --help` and `--version` pay nothing to know it
    assert done.stderr.strip().endswith("EXIT=0 METADATA=False"), done.stderr


def test_the_installed_metadata_carries_the_source_version() -> None:
    installed = metadata.version("qprim")
    assert installed == qprim.__version__, (
        f"installed qprim is {installed}, the source says {qprim.__version__}: "
        "reinstall (pip install -e '.[test]') after changing the version"
    )


def test_the_changelogs_newest_release_is_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    releases = RELEASE.findall(changelog)
    assert releases, "CHANGELOG.md has no released section '## [X.Y.Z] - YYYY-MM-DD'"
    newest, _date = releases[0]
    assert newest == qprim.__version__, (
        f"CHANGELOG.md's newest release is {newest}, qprim.__version__ is {qprim.__version__}"
    )
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{newest}]")
