"""No test replaces a module global of `src/` (issue #11): code under test takes what a test
would swap through a seam of its own (a constructor or function parameter, an option field,
a container provider). Read statically: every `tests/**/*.py` is parsed, and each
`X.setattr(...)`/`X.delattr(...)` (pytest's `monkeypatch`, under any name), builtin
`setattr`/`delattr`, `patch(...)` and `patch.object(...)` whose target is a module of the
source packages is reported as `file:line`. A target is such a module when it is a name
bound by `import pkg.mod [as m]` or `from pkg import mod`, an attribute path from one, or a
string `"pkg.mod.NAME"`. Instances, third-party modules and the environment are no concern
of this rule."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
TESTS = ROOT / "tests"
SOURCE_PACKAGES = frozenset(p.parent.name for p in SRC.glob("*/__init__.py"))


def _is_source_module(dotted: str) -> bool:
    """Whether `dotted` names a module or package of `src/`."""
    parts = dotted.split(".")
    if parts[0] not in SOURCE_PACKAGES:
        return False
    path = SRC.joinpath(*parts)
    return path.with_suffix(".py").is_file() or path.is_dir()


def _bound_modules(tree: ast.Module) -> dict[str, str]:
    """Each name the file's imports bind (in any scope), to the dotted path it stands for."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def _dotted(expr: ast.expr, bound: dict[str, str]) -> str | None:
    """The dotted path `expr` (a name or an attribute path) stands for, if imported."""
    if isinstance(expr, ast.Name):
        return bound.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _dotted(expr.value, bound)
        return None if base is None else f"{base}.{expr.attr}"
    return None


def _kind(func: ast.expr) -> str | None:
    """What a call to `func` does, if it may patch: "setattr" (monkeypatch's `setattr` and
    `delattr`, under any name, or the builtins), "patch" or "patch.object" (unittest.mock)."""
    called = ast.unparse(func)
    if called == "patch.object" or called.endswith(".patch.object"):
        return "patch.object"
    last = called.rpartition(".")[2]
    if last in ("setattr", "delattr"):
        return "setattr"
    return "patch" if last == "patch" else None


def _patched_module(call: ast.Call, bound: dict[str, str]) -> str | None:
    """The source module `call` replaces a global of, or None."""
    kind = _kind(call.func)
    if kind is None or not call.args:
        return None
    target = call.args[0]
    if isinstance(target, ast.Constant) and isinstance(target.value, str):
        # patch("pkg.module.NAME") and monkeypatch.setattr("pkg.module.NAME", value)
        if kind == "patch" or (kind == "setattr" and len(call.args) == 2):
            module = target.value.rpartition(".")[0]
            return module if module.split(".")[0] in SOURCE_PACKAGES else None
        return None
    dotted = _dotted(target, bound)
    return dotted if dotted is not None and _is_source_module(dotted) else None


def module_patches(source: str, filename: str) -> list[str]:
    """`filename:line: module` for every patch of a source module's global in `source`."""
    tree = ast.parse(source, filename)
    bound = _bound_modules(tree)
    found = [
        (node.lineno, module)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (module := _patched_module(node, bound))
    ]
    return [f"{filename}:{line}: patches a global of {module}" for line, module in sorted(found)]


def test_no_test_patches_a_module_global_of_the_source() -> None:
    found = [
        line
        for path in sorted(TESTS.rglob("*.py"))
        for line in module_patches(path.read_text(), str(path.relative_to(ROOT)))
    ]

    assert found == [], "give the code a seam instead:\n" + "\n".join(found)


def test_the_source_packages_are_the_four_layers() -> None:
    assert {"domain", "application", "infrastructure", "interfaces"} <= SOURCE_PACKAGES


OLD_PATTERNS = """
import pytest
import uvicorn
import interfaces.http.app
from unittest import mock
from unittest.mock import patch
from infrastructure.sqlalchemy import embedded, statement_stats
from infrastructure.extraction import ocr as engine
from interfaces.cli import serving
from interfaces.cli.serving import Effects

def test_old(monkeypatch, mp):
    monkeypatch.setattr("application.document_import.BATCH_FILE_MAX", 20)
    monkeypatch.setattr(statement_stats, "MAX_NAMES", 2)
    mp.setattr(engine, "tesseract_problem", lambda languages: "missing")
    monkeypatch.setattr(interfaces.http.app, "create_app", lambda *a, **k: object())
    monkeypatch.delattr(serving, "_exit_normally_on_sigterm")
    setattr(embedded, "start_embedded", None)
    with mock.patch("domain.clock.now"), patch.object(serving, "log"):
        pass
"""

ALLOWED_PATTERNS = """
import pytesseract
import uvicorn
from infrastructure.extraction import SafeTextExtractor
from interfaces.cli.serving import Effects

def test_allowed(monkeypatch, app, blobs):
    monkeypatch.setattr(app.document_uploads(), "store_batch", None)
    monkeypatch.setattr(blobs, "put", None)
    monkeypatch.setattr(uvicorn, "run", None)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent")
    monkeypatch.setattr("os.sep", "/")
    monkeypatch.setenv("ARCHIVIST_STORAGE", "memory")
    setattr(app, "name", "x")
"""


def test_the_old_patches_are_found_and_the_allowed_ones_are_not() -> None:
    found = module_patches(OLD_PATTERNS, "t.py")

    assert found == [
        "t.py:13: patches a global of application.document_import",
        "t.py:14: patches a global of infrastructure.sqlalchemy.statement_stats",
        "t.py:15: patches a global of infrastructure.extraction.ocr",
        "t.py:16: patches a global of interfaces.http.app",
        "t.py:17: patches a global of interfaces.cli.serving",
        "t.py:18: patches a global of infrastructure.sqlalchemy.embedded",
        "t.py:19: patches a global of domain.clock",
        "t.py:19: patches a global of interfaces.cli.serving",
    ]
    assert module_patches(ALLOWED_PATTERNS, "t.py") == []


def test_every_serial_test_lives_in_tests_integration() -> None:
    """`make test` collects its serial part from tests/integration only (collecting every
    suite to keep 15 tests costs seconds): a serial test elsewhere would never run."""
    elsewhere = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("*.py")
        if "mark.serial" in path.read_text(encoding="utf-8")
        and TESTS / "integration" not in path.parents
        and path != Path(__file__)
    ]

    assert elsewhere == []
