"""The architecture rules of docs' engineering guide, checked: who may import whom, no cycles,
no Qt where there is no display, TensorFlow only inside functions, no private names across
modules, no mixins, packages that name their API, and core typed strictly.

The import contracts live in pyproject.toml ([tool.importlinter]); grimp (under import-linter)
counts imports inside functions too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnviz"
QT_MODULES = ("PySide6", "shiboken6", "matplotlib.backends.backend_qt")
KERAS_MODULES = ("tensorflow", "keras", "tf_keras")

# Checked now; the ui is being refactored and joins these rules when that lands.
STRICT_AREAS = [PACKAGE / "core", PACKAGE / "cli", PACKAGE / "workspace.py"]
UI_AREA = [PACKAGE / "ui"]

CONTRACTS_ENFORCED = (
    "core-no-qt", "workspace-no-qt", "cli-no-qt", "core-layers",
    "ui-features-below-the-window", "ui-common-below-features",
)


def python_files(areas: list[Path]) -> list[Path]:
    files: list[Path] = []
    for area in areas:
        files.extend([area] if area.is_file() else sorted(area.rglob("*.py")))
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_exists(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def relative_target(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def lint_imports(*contracts: str) -> int:
    from importlinter.cli import lint_imports as run

    return run(config_filename=str(ROOT / "pyproject.toml"), limit_to_contracts=contracts,
               no_cache=True, no_logo=True)


# ---------------------------------------------------------------- import contracts


def test_import_contracts_hold():
    """core and the workspace import no Qt, ui or cli; the CLI imports Qt only to open the app
    and to draw explain's pictures; core's feature packages are layered inspect|explain >
    training > data > model > atomic_save|formatting > errors; the ui's parts sit below the
    main window."""
    assert lint_imports(*CONTRACTS_ENFORCED) == 0  # the report above says which import


def test_ui_feature_packages_are_independent():
    """ui.build, ui.train, ui.explain, ui.inspect and ui.experiments import only ui.common,
    core and the workspace, never each other."""
    assert lint_imports("ui-features-independent") == 0


def test_no_import_cycles_counting_imports_inside_functions():
    import grimp

    graph = grimp.build_graph("cnnviz", cache_dir=None)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's strongly connected components, iteratively
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.find_modules_directly_imported_by(target)))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert cycles == []


# ---------------------------------------------------------------- Qt and TensorFlow


def imported_modules(tree: ast.AST, path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = relative_target(path, node)
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def test_core_and_workspace_import_no_qt_backend_at_all():
    """import-linter covers PySide6 and the ui; this also catches matplotlib's Qt backends."""
    offenders = [f"{path.relative_to(ROOT)}:{line}: {name}"
                 for path in python_files([PACKAGE / "core", PACKAGE / "workspace.py"])
                 for line, name in imported_modules(ast.parse(path.read_text("utf-8")), path)
                 if name.startswith(QT_MODULES)]
    assert offenders == []


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: everything outside function bodies and
    `if TYPE_CHECKING:` blocks (class bodies run at import, so they count)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        visit([c for c in children if isinstance(c, ast.stmt)]
                              + [s for h in children if isinstance(h, (ast.ExceptHandler,
                                                                       ast.match_case))
                                 for s in h.body])

    visit(tree.body)
    return found


def test_no_module_imports_tensorflow_or_keras_at_module_level():
    offenders = []
    for path in python_files([PACKAGE]):
        for node in module_level_imports(ast.parse(path.read_text("utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [relative_target(path, node)])
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {name}" for name in names
                          if name.split(".")[0] in KERAS_MODULES]
    assert offenders == []


def test_the_module_level_import_finder_sees_through_blocks_but_not_functions():
    tree = ast.parse(
        "import os\n"
        "try:\n    import keras\nexcept ImportError:\n    import tensorflow\n"
        "class C:\n    import numpy\n"
        "if TYPE_CHECKING:\n    import PIL\n"
        "def f():\n    import json\n")
    names = [alias.name for node in module_level_imports(tree) for alias in node.names]
    assert names == ["os", "keras", "tensorflow", "numpy"]


@pytest.mark.parametrize("command", [
    ["summary", "sample_models/mnist_cnn.json"],
    ["summary", "sample_models/lenet5.keras"],
    ["export-code", "sample_models/mnist_cnn.json"],
    ["attribution", "sample_models/lenet5.keras", "--data", "mnist-sample", "--method",
     "gradcam", "--json"],
    ["explain", "sample_models/lenet5.keras", "--data", "mnist-sample", "--layer", "conv2d",
     "--position", "2,3", "--json"],
])
def test_cli_commands_without_a_window_never_load_qt(command):
    code = ("import sys; from cnnviz.cli import main; "
            f"rc = main({command!r}); "
            "print('exit', rc, 'PySide6' in sys.modules, "
            "any(m.startswith('cnnviz.ui') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=240)
    assert result.stdout.splitlines()[-1] == "exit 0 False False", result.stderr[-2000:]


# ---------------------------------------------------------------- private names and mixins


def cnnviz_module_aliases(tree: ast.AST, path: Path) -> dict[str, str]:
    """Local names bound to cnnviz modules: `from cnnviz import cli`, `import cnnviz.x as y`."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cnnviz") and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = relative_target(path, node)
            if target.startswith("cnnviz"):
                for alias in node.names:
                    if module_exists(f"{target}.{alias.name}"):
                        aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
    return aliases


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_reaches_in(path: Path, source: str) -> list[str]:
    """`from cnnviz.x import _name`, and `module._name` on an imported cnnviz module."""
    tree = ast.parse(source)
    aliases = cnnviz_module_aliases(tree, path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and relative_target(path, node).startswith("cnnviz"):
            found += [f"{node.lineno}: imports {alias.name}" for alias in node.names
                      if is_private(alias.name)]
        elif (isinstance(node, ast.Attribute) and is_private(node.attr)
              and isinstance(node.value, ast.Name) and node.value.id in aliases):
            found.append(f"{node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def mixins_in(source: str) -> list[str]:
    return [f"{node.lineno}: class {node.name}" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ClassDef) and node.name.endswith("Mixin")]


def private_reaches(paths: list[Path]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{found}" for path in paths
            for found in private_reaches_in(path, path.read_text("utf-8"))]


def mixin_classes(paths: list[Path]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{found}" for path in paths
            for found in mixins_in(path.read_text("utf-8"))]


def test_no_private_names_across_modules_and_no_mixins():
    files = python_files(STRICT_AREAS)
    assert private_reaches(files) == []
    assert mixin_classes(files) == []


def test_tests_reach_no_private_names_of_core_and_cli():
    assert private_reaches(python_files([ROOT / "tests" / "core", ROOT / "tests" / "cli"])) == []


def test_the_private_name_and_mixin_checks_catch_what_they_should():
    source = ("from cnnviz.core.model.shapes import _helper, analyze\n"
              "from cnnviz import cli\n"
              "from . import common\n"
              "cli._prepare()\n"
              "common._shared()\n"
              "self._own = __version__\n"
              "class ViewMixin: pass\n")
    where = PACKAGE / "cli" / "sample.py"  # only names the package relative imports start from
    assert private_reaches_in(where, source) == [
        "1: imports _helper", "4: uses cli._prepare", "5: uses common._shared"]
    assert mixins_in(source) == ["7: class ViewMixin"]


def test_ui_has_no_private_names_across_modules_and_no_mixins():
    files = python_files(UI_AREA)
    assert private_reaches(files) == []
    assert mixin_classes(files) == []


# ---------------------------------------------------------------- re-exports and packages


def defined_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def module_path(name: str) -> Path:
    path = ROOT.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_names_come_from_the_module_that_defines_them():
    """No re-export facades: whoever imports a name from core, the CLI or the workspace imports
    it from where it is defined, and no __all__ there lists a name defined elsewhere."""
    owned = ("cnnviz.core", "cnnviz.cli", "cnnviz.workspace")
    importers = python_files([PACKAGE, ROOT / "tests", ROOT / "benchmarks", ROOT / "sample_models"])
    reached = []
    for path in importers:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = relative_target(path, node)
            if not target.startswith(owned):
                continue
            defined = defined_names(module_path(target))
            reached += [f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} via {target}"
                        for alias in node.names
                        if alias.name not in defined and not module_exists(f"{target}.{alias.name}")]
    assert reached == []
    listed = []
    for path in python_files(STRICT_AREAS):
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                     for t in node.targets)):
                names = ast.literal_eval(node.value)
                defined = defined_names(path)
                listed += [f"{path.relative_to(ROOT)}: {name}" for name in names
                           if name not in defined and not module_exists(f"{module_name(path)}.{name}")]
    assert listed == []


PACKAGES = ["cnnviz/core", "cnnviz/core/model", "cnnviz/core/data", "cnnviz/core/training",
            "cnnviz/core/explain", "cnnviz/core/inspect", "cnnviz/core/experiments", "cnnviz/core/transfer",
            "cnnviz/cli"]


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_init_names_its_modules_and_imports_nothing(package):
    init = ROOT / package / "__init__.py"
    tree = ast.parse(init.read_text("utf-8"))
    assert ast.get_docstring(tree), f"{package}/__init__.py says what the package is for"
    assert module_level_imports(tree) == []  # importing the package stays cheap
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__")
    modules = {path.stem for path in (ROOT / package).glob("*.py")
               if not path.name.startswith("_")}
    modules |= {path.parent.name for path in (ROOT / package).glob("*/__init__.py")}
    assert set(listed) - defined_names(init) == modules


# ---------------------------------------------------------------- types


def test_core_passes_mypy_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "cnnviz/core"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
