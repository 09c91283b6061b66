"""The architecture as tests: pure ``models/`` at the bottom, no import cycles, small
modules, and nothing wired at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("models", "streams")
MAX_MODULE_LINES = 400
# Kafka and Faust live in streams/ only.
WIRING_LIBRARIES = ("faust", "mode", "aiokafka", "confluent_kafka", "streams")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (lazy imports in functions count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def project_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {m for m in imports_of(path) if m in known} - {name} for name, path in known.items()
    }


def test_models_import_nothing_from_the_wiring_layer() -> None:
    upward = {
        name: sorted(m for m in imports_of(path) if m.split(".")[0] in WIRING_LIBRARIES)
        for name, path in modules().items()
        if name.startswith("models")
    }
    assert {name: found for name, found in upward.items() if found} == {}


def test_the_import_graph_has_no_cycle() -> None:
    graph = project_graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_package_cycle_between_streams_domains() -> None:
    """Package level: e.g. control must not import accounts while accounts imports control."""

    def package(name: str) -> str:
        return ".".join(name.split(".")[:2])

    edges = {
        (package(a), package(b))
        for a, targets in project_graph().items()
        for b in targets
        if package(a) != package(b)
    }
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []


def test_no_source_module_is_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


IMPORT_EVERYTHING = """
import faust, os, socket, sys

def refuse(what):
    def boom(*args, **kwargs):
        raise SystemExit(f"touched at import time: {what}")
    return boom

import streams.settings
streams.settings.load_settings = refuse("load_settings")
faust.App.__init__ = refuse("faust.App()")
socket.socket.connect = refuse("a network connection")
os.environ = {}
for name in sys.argv[1:]:
    __import__(name)
print("imported", len(sys.argv) - 1)
"""


def test_importing_any_module_reads_no_environment_and_builds_no_app() -> None:
    names = sorted(modules())
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, *names],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    assert proc.stdout.strip() == f"imported {len(names)}"
