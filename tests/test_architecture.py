"""Architecture rules read from the source: no import cycles between the project's own modules,
and no module over 800 lines without a stated reason.

The import graph is built with :mod:`ast` by :mod:`tests.import_graph` (nothing is imported);
its builder is checked first on small synthetic trees in ``tmp_path``.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tests.import_graph import (
    FUNCTION,
    MODULE,
    TYPE_CHECKING,
    ImportSite,
    build_import_graph,
    cycles,
    describe_cycles,
    strongly_connected,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gis", "dispatch", "gui")
IMPORTERS = ("app.py", "tools", "benchmarks")
MAX_LINES = 800


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def _chains(root: Path, packages=("pkg",), importers=()) -> list[list[list[str]]]:
    return cycles(build_import_graph(root, packages, importers))


# ---- the graph builder on synthetic trees ------------------------------------------------------


def test_two_cycle_through_from_package_import_submodule(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "from pkg import a  # a submodule, not a name of pkg/__init__\n",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert set(g.modules) == {"pkg", "pkg.a", "pkg.b"} and g.packages == {"pkg"}
    assert g.imports_of("pkg.b") == {"pkg.a"}  # resolved to the submodule, not to pkg
    assert g.edges["pkg.a"]["pkg.b"] == [ImportSite("pkg/a.py", 1, MODULE)]
    assert cycles(g) == [[["pkg.a", "pkg.b", "pkg.a"]]]
    report = describe_cycles(g)
    assert "import cycle among 2 modules: pkg.a, pkg.b" in report
    assert "pkg.a → pkg.b → pkg.a" in report
    assert "pkg.b → pkg.a: pkg/b.py:1" in report


def test_three_cycle_with_relative_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import B\n",
            "pkg/b.py": "from .c import C\nB = 1\n",
            "pkg/c.py": "import os\n\nfrom . import a\nC = 2\n",
            "pkg/d.py": "from .a import *\n",  # outside the cycle
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert g.imports_of("pkg.c") == {"pkg.a"}  # os is not a project module
    assert g.edges["pkg.c"]["pkg.a"] == [ImportSite("pkg/c.py", 3, MODULE)]
    assert g.imports_of("pkg.d") == {"pkg.a"}
    assert cycles(g) == [[["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]]
    assert "pkg.a → pkg.b → pkg.c → pkg.a" in describe_cycles(g)


def test_cycle_only_under_type_checking_is_a_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                from typing import TYPE_CHECKING
                import typing

                if TYPE_CHECKING:
                    from pkg.b import B
                else:
                    B = None
                if typing.TYPE_CHECKING:
                    import pkg.c
            """,
            "pkg/b.py": "from pkg.a import B as _B\n",
            "pkg/c.py": "",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert g.edges["pkg.a"] == {
        "pkg.b": [ImportSite("pkg/a.py", 5, TYPE_CHECKING)],
        "pkg.c": [ImportSite("pkg/a.py", 9, TYPE_CHECKING)],
    }
    assert cycles(g) == [[["pkg.a", "pkg.b", "pkg.a"]]]
    assert "pkg.a → pkg.b: pkg/a.py:5 (if TYPE_CHECKING)" in describe_cycles(g)


def test_cycle_through_function_level_imports(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                def run():
                    from pkg.b import helper

                    return helper()


                class K:
                    async def go(self):
                        import importlib

                        return importlib.import_module("pkg.c")
            """,
            "pkg/b.py": """
                import pkg.a


                def helper():
                    return pkg.a
            """,
            "pkg/c.py": "x = lambda: __import__('pkg.a')\n",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert g.edges["pkg.a"]["pkg.b"] == [ImportSite("pkg/a.py", 2, FUNCTION)]
    assert g.edges["pkg.a"]["pkg.c"] == [ImportSite("pkg/a.py", 11, FUNCTION)]
    assert g.edges["pkg.c"]["pkg.a"] == [ImportSite("pkg/c.py", 1, FUNCTION)]
    assert cycles(g) == [[["pkg.a", "pkg.b", "pkg.a"], ["pkg.a", "pkg.c", "pkg.a"]]]
    assert "pkg/a.py:2 (function level)" in describe_cycles(g)


def test_relative_imports_resolve_against_the_importer(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from . import sub\nfrom .sub import leaf\n",
            "pkg/util.py": "X = 1\n",
            "pkg/sub/__init__.py": "from .. import util\nfrom . import leaf as _leaf\n",
            "pkg/sub/leaf.py": "from ..util import X\nfrom .. import util\nfrom . import other\n",
            "pkg/sub/other.py": "from ..util import X\n",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert g.packages == {"pkg", "pkg.sub"}
    assert g.imports_of("pkg") == {"pkg.sub", "pkg.sub.leaf"}
    assert g.imports_of("pkg.sub") == {"pkg.util", "pkg.sub.leaf"}
    assert g.imports_of("pkg.sub.leaf") == {"pkg.util", "pkg.sub.other"}
    assert g.imports_of("pkg.sub.other") == {"pkg.util"}
    assert cycles(g) == []


def test_relative_import_beyond_the_top_level_package_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from ..other import x\n"})
    with pytest.raises(ImportError, match="beyond the top-level package"):
        build_import_graph(root, ["pkg"])


def test_parent_package_importing_a_child_is_no_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            # __init__ re-exports its submodules; they import each other and deeper packages,
            # never the package itself: importing pkg.child runs pkg/__init__, but that is not
            # an edge child → pkg.
            "pkg/__init__.py": "from pkg.child import f\nfrom . import sibling\nimport pkg.deep.leaf\n",
            "pkg/child.py": "import pkg.sibling\nfrom pkg.deep.leaf import g\n\ndef f(): ...\n",
            "pkg/sibling.py": "from pkg.deep import leaf\n",
            "pkg/deep/__init__.py": "from .leaf import g\n",
            "pkg/deep/leaf.py": "def g(): ...\n",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert g.imports_of("pkg") == {"pkg.child", "pkg.sibling", "pkg.deep.leaf"}
    assert g.imports_of("pkg.sibling") == {"pkg.deep.leaf"}
    assert cycles(g) == []
    assert describe_cycles(g) == ""


@pytest.mark.parametrize(
    "child",
    [
        "from pkg import VERSION\n",  # a name defined in pkg/__init__
        "import pkg\n",
        "from . import VERSION\n",
        "from . import *\n",
    ],
)
def test_submodule_importing_its_own_package_init_is_a_cycle(tmp_path: Path, child: str) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "VERSION = 1\nfrom .child import f\n",
            "pkg/child.py": child + "\ndef f(): ...\n",
        },
    )
    assert _chains(root) == [[["pkg", "pkg.child", "pkg"]]]


def test_importers_are_sources_only_and_external_or_self_imports_are_ignored(
    tmp_path: Path,
) -> None:
    root = _tree(
        tmp_path,
        {
            "app.py": "import pkg.a\n\ndef main():\n    from tools import helper\n",
            "tools/helper.py": "from pkg.a import run\nimport app\n",
            "pkg/__init__.py": "from . import __init__ as _self\n",
            "pkg/a.py": "import numpy\nimport pkg.a\nimport app\nfrom tools import helper\n"
            "def run(): ...\n",
        },
    )
    g = build_import_graph(root, ["pkg"], ["app.py", "tools"])
    assert set(g.modules) == {"pkg", "pkg.a"}  # importers are not targets
    assert g.imports_of("app") == {"pkg.a"}
    assert g.imports_of("tools.helper") == {"pkg.a"}
    assert g.imports_of("pkg.a") == set()  # numpy, itself, app and tools do not count
    assert cycles(g) == []


def test_a_component_of_two_two_cycles_shows_both(tmp_path: Path) -> None:
    # the shape of dispatch.routing ⇄ routing_ortools / routing_pyvrp
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/hub.py": "def f():\n    from pkg import x, y\n",
            "pkg/x.py": "from pkg.hub import f\n",
            "pkg/y.py": "from pkg import hub\n",
        },
    )
    g = build_import_graph(root, ["pkg"])
    assert cycles(g) == [[["pkg.hub", "pkg.x", "pkg.hub"], ["pkg.hub", "pkg.y", "pkg.hub"]]]
    report = describe_cycles(g)
    assert report.splitlines()[0] == "import cycle among 3 modules: pkg.hub, pkg.x, pkg.y"


def test_a_file_that_does_not_parse_fails_the_build(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/bad.py": "def (:\n"})
    with pytest.raises(SyntaxError):
        build_import_graph(root, ["pkg"])


def test_strongly_connected_components() -> None:
    edges = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": ["a"]}
    assert strongly_connected(edges) == [["a", "b", "c"], ["d", "e"], ["f"]]
    # long chains do not hit the recursion limit
    chain = {str(i): [str(i + 1)] for i in range(5000)}
    chain["5000"] = ["0"]
    (comp,) = strongly_connected(chain)
    assert len(comp) == 5001


# ---- the project ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_graph():
    return build_import_graph(ROOT, PACKAGES, IMPORTERS)


def test_project_graph_is_read_completely(project_graph) -> None:
    g = project_graph
    for name in ("gis.model", "gis.workspace", "dispatch.problems", "dispatch.export.common"):
        assert name in g.modules
    assert "gui.main_window" in g.modules and "gui.docks.dispatch_panel" in g.modules
    assert "app" in g.edges and "app" not in g.modules
    assert any(m.startswith("tools.") for m in g.edges)
    assert any(m.startswith("benchmarks.") for m in g.edges)
    assert "dispatch.problems" in g.imports_of("dispatch.pipeline")


def test_project_has_no_import_cycles(project_graph) -> None:
    report = describe_cycles(project_graph)
    if report:
        pytest.fail("import cycles between the project's modules:\n" + report, pytrace=False)


def test_plan_records_and_results_are_leaves(project_graph) -> None:
    """The record types every layer reads import nothing of the project but results/gis.model
    (and gis.version, itself import-free: the plan's ``inputs.software``)."""
    allowed = {"dispatch.results", "gis.model", "gis.errors", "gis.version"}
    assert project_graph.imports_of("gis.version") == set()
    assert project_graph.imports_of("dispatch.records") <= allowed
    assert project_graph.imports_of("dispatch.results") <= {"gis.errors"}
    assert project_graph.imports_of("gis.units") == set()


def test_every_module_says_what_it_is_for(project_graph) -> None:
    missing = [
        name
        for name, path in sorted(project_graph.modules.items())
        if path.read_text(encoding="utf-8").strip()
        and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == [], f"modules without a docstring: {missing}"


# ---- module size ---------------------------------------------------------------------------------


def _size_reason(source: str) -> str | None:
    doc = ast.get_docstring(ast.parse(source)) or ""
    for line in doc.splitlines():
        line = line.strip()
        if line.startswith("Size:") and line[len("Size:") :].strip():
            return line
    return None


def test_size_reason_is_read_from_the_module_docstring() -> None:
    assert _size_reason(
        '"""Title.\n\nSize: one state machine; splitting it hides the flow.\n"""'
    ) == ("Size: one state machine; splitting it hides the flow.")
    assert _size_reason('"""Title.\n\n    Size: indented in the source.\n"""') is not None
    assert _size_reason('"""Title.\n\nSize:\n"""') is None  # no reason given
    assert _size_reason('"""Title. Size: not at the start of a line."""') is None
    assert _size_reason('# Size: a comment is not the docstring\n"""Title."""') is None
    assert _size_reason("x = 1\n") is None


def test_modules_are_at_most_800_lines_unless_the_docstring_says_why() -> None:
    too_long = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            n = len(text.splitlines())
            if n > MAX_LINES and _size_reason(text) is None:
                too_long.append(f"{path.relative_to(ROOT).as_posix()}: {n} lines")
    if too_long:
        pytest.fail(
            f"modules over {MAX_LINES} lines without a 'Size: <reason>' line in their docstring:\n"
            + "\n".join(too_long),
            pytrace=False,
        )
