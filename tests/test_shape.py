"""The code's shape (issue 17): every outcome table covers every outcome, the classifier
every error, no import runs in a circle, and no module or function has outgrown a
reader."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from faxprint import errors
from faxprint.cli import exits
from faxprint.cups import backend
from faxprint.errors import FaxPrintError
from faxprint.hotfolder import job
from faxprint.journal import State
from faxprint.outcome import JobKey, Kind, Outcome, Status, status_of
from faxprint.verdicts import STATE_AFTER
from tests.conftest import REPO

PACKAGE = REPO / "faxprint"
#: Groupings of errors that are never raised themselves, only their subclasses.
ABSTRACT = (FaxPrintError, errors.PermanentError)


@pytest.mark.parametrize(
    ("table", "name"),
    [
        (exits.EXIT_STATUS, "the command line's exit statuses"),
        (exits.WORDS, "the command line's words"),
        (backend.EXIT_STATUS, "the backend's CUPS exit statuses"),
        (job.FILED, "the hot folder's folders"),
        (STATE_AFTER, "the journal's state after an outcome"),
    ],
)
def test_every_entry_points_table_covers_every_outcome(
    table: dict[Status, object], name: str
) -> None:
    assert set(table) == set(Status), name


def _every_error_class() -> list[type[FaxPrintError]]:
    """FaxPrintError and its subclasses in every faxprint module (all imported first)."""
    import faxprint

    for module in pkgutil.walk_packages(faxprint.__path__, "faxprint."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    found, todo = [], [FaxPrintError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo += kind.__subclasses__()
    return found


def test_the_classifier_covers_every_error_faxprint_raises() -> None:
    classes = [kind for kind in _every_error_class() if kind not in ABSTRACT]
    assert {errors.SettleError, errors.JournalError, errors.CancelledError} <= set(classes)
    for kind in classes:
        assert isinstance(status_of(kind("x")), Status), kind
    for kind in ABSTRACT:
        with pytest.raises(TypeError, match="unclassified"):
            status_of(kind("x"))


def test_no_code_raises_an_unclassified_grouping() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                called = node.exc.func
                name = called.id if isinstance(called, ast.Name) else ""
                assert name not in {kind.__name__ for kind in ABSTRACT}, f"{path}:{node.lineno}"


def test_an_error_before_submit_is_an_outcome_of_the_same_table() -> None:
    refused = Outcome.refused("send:x", errors.JournalError("journal busy", retry_after=3.0))
    assert (refused.status, refused.message, refused.retry_after) == (
        Status.DEFERRED, "journal busy", 3.0,
    )  # fmt: skip
    assert exits.EXIT_STATUS[refused.status] == 75  # try again later, not "interrupted"
    assert exits.EXIT_STATUS[Outcome.refused("k", errors.ConfigError("x")).status] == 78
    assert backend.EXIT_STATUS[Outcome.refused("k", errors.ConfigError("x")).status] == backend.STOP
    # the states after an outcome are the journal's
    assert set(STATE_AFTER.values()) <= set(State)


@pytest.mark.parametrize(
    ("key", "kind", "ident"),
    [
        (JobKey.cups("Fax", "17", "urn-uuid"), Kind.CUPS, "urn-uuid"),
        (JobKey.send("0f1e2d3c-aaaa"), Kind.SEND, "0f1e2d3c-aaaa"),
        (JobKey.hotfolder("20261206-1200-invoice"), Kind.HOTFOLDER, "20261206-1200-invoice"),
    ],
)
def test_job_keys_read_back_as_written(key: JobKey, kind: Kind, ident: str) -> None:
    assert JobKey.parse(str(key)) == key
    assert (key.kind, key.ident) == (kind, ident)


def test_keys_of_no_known_form_are_none() -> None:
    assert JobKey.parse("cups:Fax:17") is None  # no identity: could be another job
    assert JobKey.parse("fax:17") is None
    assert JobKey.parse("send:") is None
    assert JobKey.cups("Fax", "17", "u").printer == "Fax"


# -- the shape ------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every faxprint module ``path`` imports, at the top or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))  # fmt: skip
            # "from faxprint.cli import exits" imports the module faxprint.cli.exits
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        for target in targets:
            known = target
            while known and known not in modules:
                known = known.rpartition(".")[0]
            if known and known != name:
                found.add(known)
    return found


def _graph() -> dict[str, set[str]]:
    paths = list(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, modules) for p in paths}
    for name, targets in graph.items():  # a package re-exporting its own modules is fine
        if name in {_module_name(p) for p in paths if p.name == "__init__.py"}:
            graph[name] = {t for t in targets if not t.startswith(f"{name}.")}
        # importing a package's submodule runs its __init__; that is no arrow of its own
    return graph


def test_no_import_runs_in_a_circle_even_inside_functions() -> None:
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_no_module_over_400_lines_and_no_function_over_50() -> None:
    long_modules, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > 400:
            long_modules.append(f"{path.relative_to(REPO)}: {len(text.splitlines())}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 50:
                    long_functions.append(f"{path.relative_to(REPO)}: {node.name} {length}")
    assert (long_modules, long_functions) == ([], [])


def test_the_architecture_drawing_names_every_module() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    start = doc.index("```")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", doc[start : doc.index("```", start + 3)]))
    unnamed = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py")
               if p.stem != "__init__" and p.stem not in words]  # fmt: skip
    assert unnamed == []
