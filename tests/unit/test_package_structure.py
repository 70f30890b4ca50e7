"""The package's tree is its architecture: small modules, no import cycles, no private names imported across
modules, a planning layer that stays light, and no runtime settings changed at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "surrogate_study"
MAX_LINES = 700
LAYERS = ("plan", "kernels", "fused", "model", "data", "training", "analysis", "figures", "provenance", "storage")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, name: str) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file, anywhere in it (function-level imports included), resolved
    to absolute module names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def internal_graph() -> dict[str, set[str]]:
    mods = modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        for module, names in imported(path, name):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods] or [module]
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def test_every_module_is_short():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines"


def test_modules_live_in_their_layer():
    top = sorted(name for name, path in modules().items() if name.count(".") == 1 and path.name != "__init__.py")
    assert top == ["surrogate_study.__main__", "surrogate_study.cli"], "only the entry points sit at the package top"
    assert sorted({name.split(".")[1] for name in modules() if name.count(".") >= 2}) == sorted(LAYERS)


def test_no_import_cycles():
    graph = internal_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt.endswith("__init__") or nxt == "surrogate_study":
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state and node != "surrogate_study":
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("root", ["src", "tests", "workflow", "benchmarks"])
def test_no_private_name_is_imported_from_another_module(root):
    base = PACKAGE.parents[1] / root
    offenders = []
    for path in sorted(base.rglob("*.py")):
        name = module_name(path) if root == "src" else path.stem
        for module, names in imported(path, name):
            if module.startswith("surrogate_study"):
                offenders += [f"{path.relative_to(base.parent)}: {module}.{n}" for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert offenders == []


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_planning_layer_and_package_face_stay_light():
    """What the Snakefile imports (the plan layer, the package's face) loads no torch, numba, pandas or h5py."""
    heavy = run_python(
        "import sys, surrogate_study, surrogate_study.plan.config, surrogate_study.plan.study, "
        "surrogate_study.plan.cost, surrogate_study.plan.real_tasks, surrogate_study.plan.shapes;"
        "surrogate_study.resolve_config; surrogate_study.surrogate_names();"
        "print(sorted(m for m in ('torch', 'numba', 'pandas', 'h5py') if m in sys.modules))")
    assert heavy == "[]"


def test_importing_the_kernels_changes_no_runtime_setting():
    """numba's threading layer and the BLAS thread limit are set by configure_runtime(), not by an import."""
    before_after = run_python(
        "import numba, threadpoolctl\n"
        "def state():\n"
        "    blas = [i['num_threads'] for i in threadpoolctl.threadpool_info() if i['prefix'] == 'libscipy_openblas']\n"
        "    return (numba.config.THREADING_LAYER, blas)\n"
        "import scipy.linalg.cython_blas\n"
        "before = state()\n"
        "import surrogate_study.kernels.layer_backward, surrogate_study.fused.stack, surrogate_study.model.network\n"
        "after_import = state()\n"
        "from surrogate_study.kernels.runtime import configure_runtime\n"
        "configure_runtime()\n"
        "print(before == after_import, state()[1] == [1] * len(state()[1]), numba.config.THREADING_LAYER)")
    unchanged, blas_limited, layer = before_after.split()
    assert unchanged == "True", "an import changed the threading layer or the BLAS threads"
    assert (blas_limited, layer) == ("True", "workqueue"), "configure_runtime() sets both"


def test_the_package_face_names_the_api_and_loads_it_on_first_use():
    """``surrogate_study.<name>`` for every public name: the object its layer module defines; nothing else."""
    import importlib

    import surrogate_study

    for name, module in surrogate_study._API.items():  # noqa: SLF001 - the face's own table
        assert getattr(surrogate_study, name) is getattr(importlib.import_module(module), name)
        assert name in dir(surrogate_study) and name in surrogate_study.__all__
    with pytest.raises(AttributeError, match="no attribute 'fused_lif'"):
        surrogate_study.fused_lif  # noqa: B018 - an old flat module name is not part of the face
