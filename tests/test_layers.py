"""The floor plan holds: each app imports only the apps below it, at any level (function-level
and TYPE_CHECKING imports included), so the folders say which app builds on which.

    foundation (bounds, security, leases, uploads, events, apikit, environment)
      < accounts < workspaces < threads < people < recordings < transcripts < search < inbox < mail
      < wiring (handlers, pages, api root, urls, views, cli)

The access rules sit in the app whose objects they guard (`workspaces/access.py`,
`threads/access.py`, `recordings/access.py`), so they obey the same rule.

An app's own tests sit in the app and obey the same rule. A function-level import is allowed
only with a comment on its line or the line above saying why."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tidings"

FOUNDATION = ("bounds", "security", "leases", "uploads", "events", "apikit", "environment")
APPS = (
    "accounts",
    "workspaces",
    "threads",
    "people",
    "recordings",
    "transcripts",
    "search",
    "inbox",
    "mail",
)
WIRING = (
    "handlers",
    "pages",
    "api",
    "urls",
    "views",
    "cli",
    "settings",
    "static_files",
    "apps",
    "asgi",
    "wsgi",
    "__main__",
)


def rank(part: str) -> int:
    if part in FOUNDATION:
        return 0
    if part in APPS:
        return 1 + APPS.index(part)
    if part in WIRING:
        return 1 + len(APPS)
    raise AssertionError(f"tidings.{part} has no place in the layers: add it to this test")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "tidings.threads.views"
    target: str  # the first part under tidings, e.g. "inbox"
    name: str  # the module imported, e.g. "tidings.inbox.jobs"
    line: int
    in_function: bool
    explained: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    module = module_name(path)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for name in imported(child, module):
                    line = lines[child.lineno - 1]
                    above = lines[child.lineno - 2] if child.lineno > 1 else ""
                    explained = "#" in line or above.strip().startswith("#")
                    target = layer_of(name)
                    found.append(Import(module, target, name, child.lineno, in_function, explained))
            visit(child, inner)

    visit(tree, False)
    return found


def imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level:
        base = module.split(".")[: -node.level + (1 if module_is_package(module) else 0) or None]
        names = [".".join([*base, node.module or ""])]
    elif node.module == "tidings":
        names = [f"{node.module}.{alias.name}" for alias in node.names]
    else:
        names = [node.module or ""]
    return [name.rstrip(".") for name in names if name.startswith("tidings.")]


def module_is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def all_imports() -> list[Import]:
    return [
        found
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
        for found in imports_of(path)
    ]


def layer_of(module: str) -> str:
    """The part of tidings a module belongs to: its app, or a foundation or wiring module."""
    return module.split(".")[1]


def test_no_app_imports_an_app_above_it():
    upward = sorted(
        f"{found.module}:{found.line} -> {found.target}"
        for found in all_imports()
        if rank(found.target) > rank(layer_of(found.module))
    )
    assert not upward, "imports that point upwards:\n" + "\n".join(upward)


def test_function_level_imports_say_why():
    silent = sorted(
        f"{found.module}:{found.line} imports {found.name}"
        for found in all_imports()
        if found.in_function and not found.explained
    )
    assert not silent, "function-level imports without a comment saying why:\n" + "\n".join(silent)


def test_every_module_has_a_layer():
    for path in PACKAGE.iterdir():
        if path.name.startswith((".", "_")) and path.name != "__main__.py":
            continue
        if path.is_dir() and not (path / "__init__.py").exists():
            continue  # templates, static files
        if path.suffix == ".py" or path.is_dir():
            rank(path.stem if path.suffix == ".py" else path.name)
