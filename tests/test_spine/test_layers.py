"""Domains form layers (STYLE.md rule 3): no module of placeevents imports one of a higher layer.

Read with `ast`, so nothing is imported: imports inside functions count, imports under
`if TYPE_CHECKING:` do not (they are for type checkers only).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "placeevents"

# Bottom to top. A module may import its own domain and any lower layer: never a higher layer,
# nor another domain of its own layer (domains side by side stay independent).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("infrastructure",),
    ("audit",),
    ("settings",),
    ("mail",),
    ("auth",),
    ("enquiries",),
    ("events",),
    ("calendar",),
    ("newsletter",),
    ("invitations",),
    ("notes", "exports"),
    ("news",),
    ("top",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
# Modules directly under placeevents/ that every domain may use.
INFRASTRUCTURE = {
    "addresses",
    "caching",
    "clock",
    "db",
    "extensions",
    "markdown",
    "slugs",
    "version_watch",
}
INFRASTRUCTURE |= {"forms", "ids", "public_forms", "text", "tokens", "urls"}
# Modules directly under placeevents/ that put the domains together.
TOP_LEVEL = {"__init__", "demo", "erasure", "jobs", "limits", "manage", "models", "web", "worker"}
# A domain's pages, forms, commands and scheduled jobs sit on top and may call any domain.
TOP_IN_DOMAIN = {"views", "forms", "cli", "jobs"}


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str | None:
    """The domain (or "infrastructure", "top") a module of placeevents belongs to."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # the package itself: create_app
    if len(parts) == 2 and parts[1] in INFRASTRUCTURE:
        return "infrastructure"
    if len(parts) == 2 and parts[1] in TOP_LEVEL:
        return "top"
    if len(parts) == 3 and parts[2] in TOP_IN_DOMAIN:
        return "top"
    return parts[1] if parts[1] in RANK else None


def _is_module(module: str, package: Path) -> bool:
    path = package.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(module: str, source: str, package: Path) -> list[tuple[str, int]]:
    """The placeevents modules a module's source imports, with line numbers."""
    tree = ast.parse(source)
    for_type_checkers = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    is_package = package.parent.joinpath(*module.split("."), "__init__.py").is_file()
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in for_type_checkers:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from placeevents.x import y` imports the module y when there is one.
                name = f"{base}.{alias.name}"
                found.append((name if _is_module(name, package) else base, node.lineno))
    ours = {(name, line) for name, line in found if name.split(".")[0] == package.name}
    return sorted(ours, key=lambda pair: (pair[1], pair[0]))


def violations_in(module: str, source: str, package: Path = PACKAGE) -> list[str]:
    """Each import line of this module that reaches above its layer or into a peer domain."""
    unit = unit_of(module)
    where = f"{module.replace('.', '/')}.py"
    if unit is None:
        return [f"{where}: not in any layer; add its domain or module to LAYERS"]
    problems: list[str] = []
    for imported, line in imported_modules(module, source, package):
        other = unit_of(imported)
        if other is None or other == unit:
            continue
        if RANK[other] > RANK[unit]:
            problems.append(f"{where}:{line} imports {imported} ({other} is above {unit})")
        elif RANK[other] == RANK[unit]:
            problems.append(f"{where}:{line} imports {imported} ({other} sits beside {unit})")
    return problems


def layer_violations(package: Path = PACKAGE) -> list[str]:
    """Every import of the package that breaks the layers, as `file:line imports module (why)`."""
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        problems += violations_in(module, path.read_text(encoding="utf-8"), package)
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    problems = layer_violations()
    assert not problems, "Imports against the layers:\n" + "\n".join(problems)


def test_every_domain_has_a_layer() -> None:
    domains = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert domains <= set(RANK), f"domains without a layer: {sorted(domains - set(RANK))}"


def test_the_check_sees_every_form_of_import() -> None:
    source = """
from typing import TYPE_CHECKING

import placeevents.events.models
from placeevents.audit.models import AuditEntry
from placeevents.clock import utcnow
from placeevents import tokens
from placeevents.audit import forms

if TYPE_CHECKING:
    from placeevents.notes.models import Note


def readable():
    from placeevents.newsletter.models import Subscriber
    from placeevents.auth import models
    from . import models as own
    from ..enquiries import services
"""
    assert violations_in("placeevents.audit.services", source) == [
        "placeevents/audit/services.py:4 imports placeevents.events.models (events is above audit)",
        "placeevents/audit/services.py:8 imports placeevents.audit.forms (top is above audit)",
        "placeevents/audit/services.py:15 imports placeevents.newsletter.models"
        " (newsletter is above audit)",
        "placeevents/audit/services.py:16 imports placeevents.auth.models (auth is above audit)",
        "placeevents/audit/services.py:18 imports placeevents.enquiries.services"
        " (enquiries is above audit)",
    ]
    # Pages and commands sit on top: they may import any domain.
    assert violations_in("placeevents.audit.views", source) == []
    assert violations_in("placeevents.surprise", "") == [
        "placeevents/surprise.py: not in any layer; add its domain or module to LAYERS"
    ]
