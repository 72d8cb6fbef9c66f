"""Prefect's settings as Prefect 3 reads them, without importing Prefect (a command
decides which server to use, and how to start one, before paying for that import)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


def prefect_settings() -> dict[str, str]:
    """Prefect's settings as Prefect 3 reads them, without importing Prefect, by their
    environment names: the environment first, then `.env`, `prefect.toml` and
    `pyproject.toml` (`[tool.prefect]`) in the working folder, then the active profile
    (the profiles file and `PREFECT_PROFILE`)."""
    settings: dict[str, str] = {}
    for found in (
        os.environ,
        _dotenv(),
        _flatten(_toml_table(Path("prefect.toml"))),
        _flatten(_toml_table(Path("pyproject.toml")).get("tool", {}).get("prefect", {})),
        _profile(),
    ):
        for name, value in found.items():
            # an empty setting is no setting: the next place's counts
            if name.startswith("PREFECT_") and str(value).strip():
                settings.setdefault(name, str(value))
    return settings


def _dotenv() -> dict[str, str]:
    if not Path(".env").is_file():
        return {}
    from dotenv import dotenv_values  # Prefect's own reader of .env (via pydantic-settings)

    return {name.upper(): value for name, value in dotenv_values(".env").items() if value}


def _flatten(table: dict[str, Any], prefix: str = "PREFECT") -> dict[str, Any]:
    """A TOML table of Prefect's settings by their environment names (`[api] url` is
    PREFECT_API_URL)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}_{key.upper()}"
        flat.update(_flatten(value, name) if isinstance(value, dict) else {name: value})
    return flat


def _toml_table(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _profile() -> dict[str, Any]:
    profiles = _toml_table(_profiles_path())
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    found = profiles.get("profiles", {}).get(active, {})
    return found if isinstance(found, dict) else {}


def _profiles_path() -> Path:
    if path := os.environ.get("PREFECT_PROFILES_PATH"):
        return Path(path).expanduser()
    home = os.environ.get("PREFECT_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".prefect") / "profiles.toml"
