#!/usr/bin/env python3
"""The system packages the tests need, in one list: checked before any test runs, installed
with apt-get when run as root on Debian or Ubuntu, otherwise named with the one command that
installs them.

`scripts/test.py` calls it first; `python3 scripts/system_needs.py` does the same alone.
Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Need:
    package: str  # the Debian package
    why: str
    commands: tuple[str, ...] = ()  # any one of them on PATH satisfies the need
    files: tuple[str, ...] = ()  # or any one of these files
    ubuntu_package: str = ""  # where Ubuntu names it otherwise

    def met(self) -> bool:
        return any(shutil.which(command) for command in self.commands) or any(
            Path(file).exists() for file in self.files
        )

    def package_for(self, distribution: str) -> str:
        if distribution == "ubuntu" and self.ubuntu_package:
            return self.ubuntu_package
        return self.package


NEEDS = (
    Need(
        "chromium",
        "the browser journeys drive Chromium through Playwright",
        commands=("chromium", "chromium-browser"),
        ubuntu_package="chromium-browser",
    ),
    Need("xvfb", "screen recording journeys need a virtual display", commands=("Xvfb",)),
    Need(
        "espeak-ng",
        "the transcription tests transcribe real speech that espeak-ng says",
        commands=("espeak-ng",),
    ),
    Need(
        "fonts-noto-color-emoji",
        "screenshots and reactions show emoji",
        files=(
            "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
            "/usr/share/fonts/noto/NotoColorEmoji.ttf",
        ),
    ),
)


def venv_need() -> Need | None:
    """Debian splits `venv`'s pip bootstrap into its own package (python3.X-venv)."""
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        version = sysconfig.get_python_version()
        return Need(f"python{version}-venv", "the tests run in a virtual environment")
    return None


def distribution() -> str:
    try:
        fields = dict(
            line.split("=", 1)
            for line in Path("/etc/os-release").read_text().splitlines()
            if "=" in line
        )
    except OSError:
        return ""
    return fields.get("ID", "").strip('"')


def missing() -> list[Need]:
    needs = [need for need in NEEDS if not need.met()]
    venv = venv_need()
    return [venv, *needs] if venv else needs


def install(packages: list[str]) -> bool:
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"Installing system packages: {' '.join(packages)}", flush=True)
    return (
        subprocess.call(["apt-get", "update", "-qq"], env=environment) == 0
        and subprocess.call(["apt-get", "install", "-y", "-qq", *packages], env=environment) == 0
    )


def ensure() -> bool:
    """True when every need is met (after installing them, as root with apt-get); otherwise
    prints what is missing, why, and the command that installs it."""
    lacking = missing()
    if not lacking:
        return True
    name = distribution()
    packages = [need.package_for(name) for need in lacking]
    apt = shutil.which("apt-get") is not None
    if apt and os.geteuid() == 0:
        if install(packages) and not missing():
            return True
        lacking = missing()
        packages = [need.package_for(name) for need in lacking]
    print("\nThe tests need system packages that this machine does not have:", file=sys.stderr)
    for need, package in zip(lacking, packages, strict=True):
        print(f"  - {package}: {need.why}", file=sys.stderr)
    if apt:
        print(
            f"\nInstall them with:\n\n  sudo apt-get install -y {' '.join(packages)}\n\n"
            "then run the test command again.",
            file=sys.stderr,
        )
    else:
        print(
            "\nInstall them with your system's package manager (the names above are "
            "Debian's), then run the test command again.",
            file=sys.stderr,
        )
    return False


if __name__ == "__main__":
    sys.exit(0 if ensure() else 1)
