"""The layers hold: canonical <- connectors <- activities <- workflows, finsync's configuration at
the bottom, the gateway and the command line at the top, the sandboxes apart (README, Architecture).

Every import counts wherever it stands: at the top of a module, inside a function, under
``TYPE_CHECKING`` or inside ``workflow.unsafe.imports_passed_through()``. On top of that, what a
workflow module really loads (run in a fresh interpreter) holds no store and no SQL toolkit: the
worker's sandbox loads each workflow's closure, and workflow code must stay free of I/O. And no
two layers import each other, however indirectly.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_PROJECT_CODE = {"tests", "build", "venv"}   # and every hidden folder (.venv, .finsync)

# finsync/ holds both the bottom and the top, so its modules are placed one by one. The bottom:
# settings, correlation ids, and the guard refusing built-in credentials (settings checks).
FINSYNC_CONFIG = frozenset({"finsync", "finsync.config", "finsync.correlation", "finsync.guards"})
FINSYNC_STORE = frozenset({"finsync.store"})
FINSYNC_RUNTIME = frozenset({"finsync.telemetry", "finsync.interceptors", "finsync.codec",
                             "finsync.temporal"})   # reaching Temporal
# Every other finsync module is the command line.

# What each layer may import (itself included). Layers not named here (the command line, the
# worker, bench, docker) sit at the top: only the cycle check binds them.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "config": frozenset({"config"}),
    "canonical": frozenset({"canonical"}),
    "connectors": frozenset({"canonical", "connectors", "config"}),
    "store": frozenset({"canonical", "config", "store"}),
    "runtime": frozenset({"config", "runtime"}),
    "activities": frozenset({"canonical", "connectors", "config", "store", "activities"}),
    # Workflows see canonical objects only ("workflows see nothing else", canonical/__init__.py),
    # and the activity classes they call by method.
    "workflows": frozenset({"canonical", "config", "activities", "workflows"}),
    "gateway": frozenset({"canonical", "connectors", "config", "store", "runtime", "activities", "workflows", "gateway"}),
    "sandboxes": frozenset({"sandboxes"}),
}
LAYER_NAMES = {"config": "finsync's config (finsync.config, correlation, guards)", "store": "finsync.store",
               "runtime": "finsync's Temporal runtime (finsync.telemetry, interceptors, codec, temporal)",
               "command line": "finsync's command line"}

# What a workflow module must not load, however indirectly: the store and the SQL toolkit it uses.
NOT_IN_A_WORKFLOW = ("finsync.store", "sqlmodel", "sqlalchemy")


@dataclass(frozen=True)
class Import:
    importer: str    # the importing module
    path: str        # its file, from the repository root
    line: int
    target: str      # the module imported (``from a import b``: ``a.b`` where that is a module)

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def layer(module: str) -> str:
    top = module.partition(".")[0]
    if top != "finsync":
        return top
    if module in FINSYNC_CONFIG:
        return "config"
    if module in FINSYNC_STORE or module.startswith("finsync.store."):
        return "store"
    if module in FINSYNC_RUNTIME:
        return "runtime"
    return "command line"


def describe(layer_name: str) -> str:
    return LAYER_NAMES.get(layer_name, layer_name)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def project_files() -> dict[str, Path]:
    """Every module of finsync's own code, by name."""
    tops = [entry for entry in sorted(ROOT.iterdir())
            if entry.name not in NOT_PROJECT_CODE and not entry.name.startswith(".")]
    paths = [path for top in tops for path in ([top] if top.is_file() else sorted(top.rglob("*.py")))
             if path.suffix == ".py"]
    return {module_name(path): path for path in paths}


@functools.cache
def own_packages() -> frozenset[str]:
    return frozenset(module.partition(".")[0] for module in project_files())


def imports_in(source: str, module: str, *, is_package: bool, known: Iterable[str]) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, wherever it stands. Relative imports are
    resolved; ``from a import b`` is ``a.b`` when that is one of the ``known`` modules."""
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[tuple[int, str]] = set()   # one per module a statement imports, however many names
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found |= {(node.lineno, f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin)
                      for alias in node.names}
    return sorted(found)


@functools.cache
def project_imports() -> tuple[Import, ...]:
    """Every import of one project module by another."""
    files = project_files()
    found = []
    for module, path in files.items():
        for line, target in imports_in(path.read_text(), module, is_package=path.name == "__init__.py", known=files):
            if target.partition(".")[0] in own_packages():
                found.append(Import(module, str(path.relative_to(ROOT)), line, target))
    return tuple(found)


def broken_layers(imports: Iterable[Import], importer_layer: str) -> list[str]:
    """The imports by ``importer_layer`` of a layer it may not import, each named."""
    allowed = MAY_IMPORT[importer_layer]
    return [f"{imp} ({describe(layer(imp.target))}): {describe(importer_layer)} may import only "
            f"{', '.join(sorted(describe(name) for name in allowed))}"
            for imp in imports if layer(imp.importer) == importer_layer and layer(imp.target) not in allowed]


def layer_cycles(imports: Iterable[Import]) -> list[str]:
    """Each cycle between layers, with an import that makes each of its steps."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        source, target = layer(imp.importer), layer(imp.target)
        if source != target:
            edges.setdefault(source, {}).setdefault(target, imp)

    def path(start: str, goal: str, seen: set[str]) -> list[str] | None:
        if start == goal:
            return [goal]
        for step in sorted(edges.get(start, {})):
            if step not in seen:
                seen.add(step)
                rest = path(step, goal, seen)
                if rest:
                    return [start, *rest]
        return None

    cycles: dict[frozenset[str], str] = {}
    for source in sorted(edges):
        for target in sorted(edges[source]):
            back = path(target, source, {target})
            if back is None:
                continue
            loop = [source, *back]
            steps = [f"{a} -> {b} ({edges[a][b]})" for a, b in zip(loop, loop[1:], strict=False)]
            cycles.setdefault(frozenset(loop), "; ".join(steps))
    return sorted(cycles.values())


def workflow_modules() -> list[str]:
    """The modules under workflows/ that define a workflow (a class under ``@workflow.defn``)."""
    def is_defn(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return (isinstance(target, ast.Attribute) and target.attr == "defn"
                and ast.unparse(target.value) in ("workflow", "temporalio.workflow"))
    return sorted(module for module, path in project_files().items() if layer(module) == "workflows" and any(
        isinstance(node, ast.ClassDef) and any(is_defn(d) for d in node.decorator_list)
        for node in ast.walk(ast.parse(path.read_text()))))


# Run in a fresh interpreter: import one module, remembering which module first imported each
# other one, and print, for each forbidden name it loaded, the chain of imports that brought it.
TRACE_IMPORTS = r"""
import importlib, importlib.abc, json, sys

module, forbidden = sys.argv[1], tuple(json.loads(sys.argv[2]))
first_importer = {}

class FirstImporter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back
        first_importer.setdefault(name, frame.f_globals.get("__name__") if frame else None)
        return None

sys.meta_path.insert(0, FirstImporter())
importlib.import_module(module)
found = {}
for name in forbidden:
    loaded = next((m for m in sys.modules if m == name or m.startswith(name + ".")), None)
    if loaded is not None:
        chain = [loaded]
        while chain[-1] != module and first_importer.get(chain[-1]) not in (None, *chain):
            chain.append(first_importer[chain[-1]])
        found[name] = chain[::-1]
print(json.dumps(found))
"""


def loaded_by(module: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """For each of ``forbidden`` that importing ``module`` loads: the chain of imports to it."""
    done = subprocess.run([sys.executable, "-c", TRACE_IMPORTS, module, json.dumps(forbidden)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    found: dict[str, list[str]] = json.loads(done.stdout)
    return found


def shown(chain: list[str]) -> str:
    """The chain through finsync's own modules, to the first module outside them."""
    cut = next((i for i, name in enumerate(chain) if name.partition(".")[0] not in own_packages()), len(chain) - 1)
    return " -> ".join(chain[:cut + 1])


# The checks themselves: they find what they are for.

def test_every_kind_of_import_is_seen_and_resolved() -> None:
    source = '''
import canonical.money
from typing import TYPE_CHECKING
from temporalio import workflow
from finsync import correlation, config as settings_module
from . import sibling
from ..common import retry
if TYPE_CHECKING:
    from finsync.store import IntegrationStore
with workflow.unsafe.imports_passed_through():
    from activities.bank import BankActivities
def later():
    import workflows.expense.start
'''
    known = {"finsync.correlation", "finsync.config", "workflows.expense.sibling", "workflows.common.retry"}
    assert [target for _, target in imports_in(source, "workflows.expense.workflow", is_package=False, known=known)] == [
        "canonical.money", "typing", "temporalio", "finsync.config", "finsync.correlation", "workflows.expense.sibling",
        "workflows.common.retry", "finsync.store", "activities.bank", "workflows.expense.start"]


def test_an_import_across_a_layer_is_named_with_its_file_and_line() -> None:
    upward = Import("activities.sweep", "activities/sweep.py", 25, "workflows.expense.start")
    fine = Import("activities.sweep", "activities/sweep.py", 24, "finsync.correlation")
    assert broken_layers([upward, fine], "activities") == [
        "activities/sweep.py:25 imports workflows.expense.start (workflows): activities may import only activities, "
        "canonical, connectors, finsync's config (finsync.config, correlation, guards), finsync.store"]


def test_a_cycle_between_layers_is_named_with_an_import_for_each_step() -> None:
    down = Import("workflows.sweep.workflow", "workflows/sweep/workflow.py", 21, "activities.sweep")
    up = Import("activities.sweep", "activities/sweep.py", 26, "workflows.expense.start")
    assert layer_cycles([down, up]) == [
        "activities -> workflows (activities/sweep.py:26 imports workflows.expense.start); "
        "workflows -> activities (workflows/sweep/workflow.py:21 imports activities.sweep)"]


def test_a_module_s_store_is_found_with_the_imports_that_brought_it() -> None:
    found = loaded_by("finsync.feed", NOT_IN_A_WORKFLOW)
    assert set(found) == set(NOT_IN_A_WORKFLOW)
    assert shown(found["finsync.store"]).startswith("finsync.feed -> finsync.store")
    assert all(chain[0] == "finsync.feed" and chain[-1].startswith(name) for name, chain in found.items())


def test_every_workflow_the_worker_registers_is_checked() -> None:
    import worker

    assert {type_.__module__ for type_ in worker.WORKFLOWS} <= set(workflow_modules())


# The rules.

@pytest.mark.parametrize("importer_layer", sorted(MAY_IMPORT))
def test_each_layer_imports_only_the_layers_below_it(importer_layer: str) -> None:
    broken = broken_layers(project_imports(), importer_layer)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("module", workflow_modules())
def test_a_workflow_loads_no_store(module: str) -> None:
    """Activity modules a workflow calls by method name the store under TYPE_CHECKING only."""
    found = loaded_by(module, NOT_IN_A_WORKFLOW)
    assert not found, "\n".join(f"{module} loads {name}: {shown(chain)}" for name, chain in found.items())


def test_no_two_layers_import_each_other() -> None:
    cycles = layer_cycles(project_imports())
    assert not cycles, "\n".join(cycles)
