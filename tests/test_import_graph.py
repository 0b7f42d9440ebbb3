"""The import graph of the desk: no module cycles in gui/ and gis/ (type-checking imports aside).

dispatch/ is left out: its routing engines import each other lazily (a known cycle, worked on
separately).
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp")
nx = pytest.importorskip("networkx")


def test_no_import_cycles_in_gui_and_gis() -> None:
    graph = grimp.build_graph("gis", "dispatch", "gui", exclude_type_checking_imports=True)
    g = nx.DiGraph()
    for module in graph.modules:
        if module.split(".")[0] not in ("gis", "gui"):
            continue
        for target in graph.find_modules_directly_imported_by(module):
            if target.split(".")[0] in ("gis", "gui"):
                g.add_edge(module, target)
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == []
