"""Configuration from the environment: deploy checks and the generated secret key."""

import secrets
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def tidings(fresh_database_env, tmp_path):
    """Run the `tidings` command on an empty database of its own, as an operator would."""
    base = {k: v for k, v in fresh_database_env.items() if k not in {"SECRET_KEY", "SITE_URL"}}

    def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tidings", *args],
            env={**base, **env},
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )

    return run


def test_check_deploy_passes_when_configured_for_production(tidings):
    result = tidings(
        ["check", "--deploy", "--fail-level", "WARNING"],
        SITE_URL="https://tidings.example.com",
        SECRET_KEY=secrets.token_urlsafe(60),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_plain_http(tidings):
    result = tidings(["check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode != 0
    assert "SECURE" in result.stderr + result.stdout


def test_secret_key_is_generated_once_and_kept(tidings, tmp_path):
    tidings(["check"])
    key_file = tmp_path / "data" / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    tidings(["check"])
    assert key_file.read_text() == first


def test_createadmin_makes_the_owner_and_workspace_once(tidings):
    password = "a long enough passphrase 42"
    result = tidings(
        ["createadmin", "--email", "Ada@Example.com", "--name", "Ada", "--workspace", "Lab"],
        TIDINGS_ADMIN_PASSWORD=password,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "owner of “Lab”" in result.stdout

    again = tidings(
        ["createadmin", "--email", "ada@example.com", "--name", "Ada"],
        TIDINGS_ADMIN_PASSWORD=password,
    )  # fmt: skip
    assert again.returncode != 0
    assert "already exists" in again.stderr

    weak = tidings(
        ["createadmin", "--email", "bo@example.com", "--name", "Bo"],
        TIDINGS_ADMIN_PASSWORD="123",
    )  # fmt: skip
    assert weak.returncode != 0
    assert "too short" in weak.stderr


def test_other_management_commands_pass_through(tidings):
    result = tidings(["showmigrations", "threads"])
    assert result.returncode == 0
    assert "0001_initial" in result.stdout


def test_models_and_migrations_agree(tidings):
    """Every model change has its migration (a choices change included)."""
    result = tidings(["makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr
