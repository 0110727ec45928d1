"""Static files as production collects and serves them: the recorder's JavaScript modules
import one another by relative paths, and under hashed names those imports must lead to the
hashed copies of the same build."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from django.core.management import call_command

from tidings import settings as configured

IMPORT = re.compile(r"""\bfrom\s*["'](?P<url>\.[^"']+)["']""")
RECORDER = Path(configured.PACKAGE_DIR) / "static" / "js" / "recorder"


def test_module_imports_lead_to_hashed_copies_of_the_same_build(settings, tmp_path) -> None:
    # What `tidings serve` collects with (the tests' own settings use plain names).
    production = {"BACKEND": "tidings.static_files.StaticFiles"}
    assert configured.DEBUG or configured.STORAGES["staticfiles"] == production
    settings.STORAGES = {**settings.STORAGES, "staticfiles": production}
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)

    hashed = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    entry = hashed["js/recorder/main.js"]
    assert entry != "js/recorder/main.js"
    seen: set[str] = set()
    waiting = [entry]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        for url in IMPORT.findall((tmp_path / name).read_text()):
            target = os.path.normpath(os.path.join(os.path.dirname(name), url))
            assert target in hashed.values(), f"{name} imports {url}, not a hashed copy"
            assert (tmp_path / target).is_file()
            waiting.append(target)
    # Every module of the recorder is reached from the entry, each under its hashed name
    # (but the clock: a worker started by its address, importing nothing).
    modules = {
        hashed[f"js/recorder/{p.name}"] for p in RECORDER.glob("*.js") if p.name != "clock.js"
    }
    assert seen == modules
