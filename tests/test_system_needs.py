"""The test command's check of system packages: it names what is missing and the command
that installs it, and installs only as root with apt-get."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import system_needs  # noqa: E402

ABSENT = system_needs.Need("tidings-absent-tool", "a test needs it", commands=("no-such-cmd",))


@pytest.fixture
def one_missing(monkeypatch):
    monkeypatch.setattr(system_needs, "NEEDS", (ABSENT,))
    monkeypatch.setattr(system_needs, "venv_need", lambda: None)
    monkeypatch.setattr(
        system_needs.shutil, "which", lambda name: f"/usr/bin/{name}" if name == "apt-get" else None
    )


def test_everything_present_says_nothing(monkeypatch, capsys):
    monkeypatch.setattr(system_needs, "NEEDS", ())
    monkeypatch.setattr(system_needs, "venv_need", lambda: None)
    assert system_needs.ensure()
    assert capsys.readouterr().err == ""


def test_without_root_it_names_the_package_why_and_the_command(one_missing, monkeypatch, capsys):
    monkeypatch.setattr(system_needs.os, "geteuid", lambda: 1000)
    installs = []
    monkeypatch.setattr(system_needs, "install", installs.append)
    assert not system_needs.ensure()
    error = capsys.readouterr().err
    assert "tidings-absent-tool: a test needs it" in error
    assert "sudo apt-get install -y tidings-absent-tool" in error
    assert installs == []


def test_as_root_it_installs_and_says_so_when_that_did_not_help(one_missing, monkeypatch, capsys):
    monkeypatch.setattr(system_needs.os, "geteuid", lambda: 0)
    installs = []
    monkeypatch.setattr(system_needs, "install", lambda packages: installs.append(packages) or True)
    assert not system_needs.ensure()
    assert installs == [["tidings-absent-tool"]]
    assert "tidings-absent-tool" in capsys.readouterr().err


def test_ubuntu_names_chromium_its_own_way():
    chromium = next(need for need in system_needs.NEEDS if need.package == "chromium")
    assert chromium.package_for("ubuntu") == "chromium-browser"
    assert chromium.package_for("debian") == "chromium"


def test_this_machine_has_what_the_tests_need():
    """The suite's real-media tests run here, not skipped (the test command installs them)."""
    assert system_needs.missing() == []
