"""Settings refuse nonsense: a value Tidings cannot use stops it at start-up with a sentence
naming the variable and what it accepts, and the README's table documents every variable."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tidings.environment import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_port,
    env_str,
    env_url,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tidings"
# Where variables are read: the settings, the `tidings` command, and the .env reader.
READERS = ("settings.py", "cli.py", "environment.py")


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "On", " on "])
def test_env_bool_accepts_the_usual_yes(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG") is True


@pytest.mark.parametrize("value", ["false", "False", "0", "no", "OFF"])
def test_env_bool_accepts_the_usual_no(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", default=True) is False


def test_env_bool_unset_or_empty_is_the_default(monkeypatch):
    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert env_bool("SOME_FLAG", default=True) is True
    monkeypatch.setenv("SOME_FLAG", "")
    assert env_bool("SOME_FLAG", default=True) is True
    assert env_bool("SOME_FLAG") is False


@pytest.mark.parametrize("value", ["ture", "y", "enabled", "2"])
def test_env_bool_refuses_anything_else_naming_variable_and_accepted_values(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ConfigurationError) as error:
        env_bool("SOME_FLAG")
    assert str(error.value) == (
        f"SOME_FLAG={value!r} is not a yes/no value: use true or false (or yes/no, on/off, 1/0)."
    )


def test_env_int_reads_numbers_within_bounds(monkeypatch):
    monkeypatch.delenv("SOME_COUNT", raising=False)
    assert env_int("SOME_COUNT", 7) == 7
    monkeypatch.setenv("SOME_COUNT", " 12 ")
    assert env_int("SOME_COUNT", 7, min=0, max=12) == 12
    monkeypatch.setenv("SOME_COUNT", "lots")
    with pytest.raises(ConfigurationError, match=r"SOME_COUNT='lots' is not a whole number"):
        env_int("SOME_COUNT", 7, min=1)
    monkeypatch.setenv("SOME_COUNT", "2.5")
    with pytest.raises(ConfigurationError, match="not a whole number"):
        env_int("SOME_COUNT", 7)
    monkeypatch.setenv("SOME_COUNT", "-1")
    with pytest.raises(ConfigurationError, match="out of range: give a whole number of at least 0"):
        env_int("SOME_COUNT", 7, min=0)
    monkeypatch.setenv("SOME_COUNT", "13")
    with pytest.raises(ConfigurationError, match="from 1 to 12"):
        env_int("SOME_COUNT", 7, min=1, max=12)


@pytest.mark.parametrize("value", ["0", "70000", "http"])
def test_env_port_refuses_what_is_no_port(monkeypatch, value):
    monkeypatch.setenv("SOME_PORT", value)
    with pytest.raises(ConfigurationError, match="SOME_PORT=.* from 1 to 65535"):
        env_port("SOME_PORT", 25)
    monkeypatch.setenv("SOME_PORT", "587")
    assert env_port("SOME_PORT", 25) == 587


def test_env_choice_ignores_case_and_names_the_choices(monkeypatch):
    monkeypatch.setenv("SOME_LEVEL", "warning")
    assert env_choice("SOME_LEVEL", "INFO", ("INFO", "WARNING")) == "WARNING"
    monkeypatch.setenv("SOME_LEVEL", "loud")
    with pytest.raises(ConfigurationError) as error:
        env_choice("SOME_LEVEL", "INFO", ("INFO", "WARNING"))
    assert str(error.value) == "SOME_LEVEL='loud' is not one of INFO, WARNING."


def test_env_url_checks_scheme_and_host(monkeypatch):
    monkeypatch.setenv("SOME_URL", "https://tidings.example.com")
    assert env_url("SOME_URL", schemes=("http", "https")) == "https://tidings.example.com"
    for wrong in ("tidings.example.com", "ftp://tidings.example.com", "https://", "http://h:x"):
        monkeypatch.setenv("SOME_URL", wrong)
        with pytest.raises(ConfigurationError, match="must start with http:// or https://"):
            env_url("SOME_URL", schemes=("http", "https"))
    monkeypatch.setenv("SOME_URL", "unix:///run/redis.sock")
    assert env_url("SOME_URL", schemes=("redis", "unix"), host=False).startswith("unix://")
    monkeypatch.setenv("SOME_URL", "")
    assert env_url("SOME_URL", "redis://default", schemes=("redis",)) == "redis://default"


def test_env_str_list_and_path(monkeypatch):
    monkeypatch.setenv("SOME_TEXT", "")
    assert env_str("SOME_TEXT", "x") == ""
    monkeypatch.setenv("SOME_LIST", " a, ,b ,")
    assert env_list("SOME_LIST") == ["a", "b"]
    monkeypatch.delenv("SOME_PATH", raising=False)
    assert env_path("SOME_PATH", "/srv/data") == Path("/srv/data")
    monkeypatch.setenv("SOME_PATH", "/var/lib/tidings")
    assert env_path("SOME_PATH", "/srv/data") == Path("/var/lib/tidings")


def variables_read() -> set[str]:
    """Every variable read through an env_* reader in the settings, the command and the .env
    reader; settings.py reads the environment in no other way."""
    names = set()
    for file in READERS:
        for node in ast.walk(ast.parse((PACKAGE / file).read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("env_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def variables_documented() -> set[str]:
    """The variables named in the first column of the README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def test_settings_read_the_environment_only_through_the_readers():
    source = (PACKAGE / "settings.py").read_text()
    assert "os.environ" not in source and "getenv" not in source
    assert "import os" not in source


def test_readme_table_names_every_variable_read_and_no_other():
    read, documented = variables_read(), variables_documented()
    assert len(read) > 50
    assert read - documented == set(), "read but missing from the README's table"
    assert documented - read == set(), "in the README's table but never read"


@pytest.fixture
def start(tmp_path):
    """Start the `tidings` command as an operator would, with one bad variable."""

    def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tidings", *args],
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(PACKAGE.parent),
                "DATA_DIR": str(tmp_path / "data"),
                **env,
            },
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )

    return run


@pytest.mark.parametrize(
    ("args", "variable", "value", "message"),
    [
        (["check"], "EMAIL_USE_TLS", "ture", "not a yes/no value: use true or false (or yes/no"),
        (["check"], "MAIL_MAX_MB", "35MB", "is not a whole number: give a whole number"),
        (["serve"], "PORT", "70000", "is out of range: give a whole number from 1 to 65535"),
        (["check"], "IMAP_PORT", "70000", "is out of range: give a whole number from 1 to 65535"),
        (["check"], "LOG_LEVEL", "loud", "is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        (["worker"], "TRANSCRIPTION_DEVICE", "gpu", "is not one of auto, cpu, cuda"),
        (["check"], "HUEY_IMMEDIATE", "maybe", "is not a yes/no value"),
    ],
)
def test_bad_value_stops_the_command_with_one_clear_sentence(start, args, variable, value, message):
    result = start(args, **{variable: value})
    assert result.returncode == 1
    assert result.stderr.startswith(f"Tidings cannot start: {variable}={value!r} is ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_env_file_is_read_and_checked_too(start, tmp_path):
    (tmp_path / "tidings.env").write_text("WORKER_THREADS=none\n")
    result = start(["check"], TIDINGS_ENV_FILE=str(tmp_path / "tidings.env"))
    assert result.returncode == 1
    assert result.stderr.startswith("Tidings cannot start: WORKER_THREADS='none' is not a")
