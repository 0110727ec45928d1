"""Settings read from the environment, refusing nonsense: a value Tidings cannot use stops it
at start-up with a sentence that names the variable and what it accepts, instead of quietly
meaning something else (like Healthchecks' `envbool`).

A variable set to an empty value counts as unset for the readers of booleans, numbers,
choices, URLs and paths; text and lists keep an empty value as given."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from dotenv import load_dotenv

TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")


class ConfigurationError(Exception):
    """A variable in the environment has a value Tidings cannot use; the message says which
    and what it accepts."""


def load_env_file() -> None:
    """Read `.env` in the working folder (or the file TIDINGS_ENV_FILE names) when there is
    one; variables already in the environment win."""
    load_dotenv(env_path("TIDINGS_ENV_FILE", ".env"))


def _given(name: str) -> str | None:
    """The variable's value without surrounding blanks, or None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = _given(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ConfigurationError(
        f"{name}={value!r} is not a yes/no value: use true or false (or yes/no, on/off, 1/0)."
    )


def env_int(name: str, default: int, *, min: int | None = None, max: int | None = None) -> int:
    value = _given(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(
            f"{name}={value!r} is not a whole number: {_range(min, max)}."
        ) from None
    if (min is not None and number < min) or (max is not None and number > max):
        raise ConfigurationError(f"{name}={value!r} is out of range: {_range(min, max)}.")
    return number


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"give a whole number from {low} to {high}"
    if low is not None:
        return f"give a whole number of at least {low}"
    if high is not None:
        return f"give a whole number of at most {high}"
    return "give a whole number"


def env_port(name: str, default: int) -> int:
    return env_int(name, default, min=1, max=65535)


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    """One of `choices`, compared without regard to case; returned as spelt in `choices`."""
    value = _given(name)
    if value is None:
        return default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigurationError(f"{name}={value!r} is not one of {', '.join(choices)}.")


def env_url(name: str, default: str = "", *, schemes: Sequence[str], host: bool = True) -> str:
    """A URL whose scheme is one of `schemes` (and, with `host`, that names a host)."""
    value = _given(name)
    if value is None:
        return default
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme.lower() not in schemes or (host and not parsed.hostname):
        starts = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ConfigurationError(
            f"{name}={value!r} is not a URL Tidings can use: it must start with {starts}"
            + (" and name a host." if host else ".")
        )
    return value


def env_list(name: str, default: str = "") -> list[str]:
    """Comma-separated values, blanks around each removed and empty ones left out."""
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


def env_path(name: str, default: str | Path) -> Path:
    value = _given(name)
    return Path(value).expanduser() if value is not None else Path(default)
