"""A large workspace for scale tests and benchmarks: the demo county with ~10,000 facilities.

:func:`make_scale_workspace` copies ``data/hejiang_demo.gpkg`` (county, roads, materials,
townships, teams, incidents) and adds shelters, stockpiles and point hazards on the county's
road nodes (a few metres of jitter so no two coincide exactly), drawn with a fixed seed: the
same call always writes the same file. Shared by ``benchmarks/bench_gui_scale.py`` and
``tests/test_gui_scale.py``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "hejiang_demo.gpkg"

#: how the added facilities split (shares of ``n``)
SPLIT = {"shelters": 0.5, "stockpiles": 0.25, "hazards": 0.25}


def make_scale_workspace(
    path: Path, *, n: int = 10_000, seed: int = 20261203, source: Path = DEMO
) -> Path:
    """Write ``source`` plus ``n`` generated facilities to ``path`` (deterministic); return it."""
    from shapely.geometry import Point

    from gis.model import Location
    from gis.workspace import read_workspace, write_workspace

    ws = read_workspace(source, include_roads=True)
    s = ws.scenario
    rng = random.Random(seed)
    nodes = ws.road_nodes
    xs = nodes.geometry.x.to_numpy()
    ys = nodes.geometry.y.to_numpy()

    def spot() -> tuple[float, float]:
        i = rng.randrange(len(xs))
        return (
            round(float(xs[i]) + rng.uniform(-3e-4, 3e-4), 6),
            round(float(ys[i]) + rng.uniform(-3e-4, 3e-4), 6),
        )

    n_sh = int(n * SPLIT["shelters"])
    n_sp = int(n * SPLIT["stockpiles"])
    n_hz = n - n_sh - n_sp

    def copies(
        templates: tuple[Any, ...], prefix: str, count: int, extra: Callable[[Any], dict[str, Any]]
    ) -> tuple[Any, ...]:
        """``templates`` plus ``count`` copies with new ids, names and ``extra()`` fields."""
        out = list(templates)
        for k in range(count):
            t = templates[k % len(templates)]
            name = f"{t.name}（扩展 {k + 1}）"
            out.append(dataclasses.replace(t, id=f"{prefix}-{k + 1:05d}", name=name, **extra(t)))
        return tuple(out)

    def shelter(t: Any) -> dict[str, Any]:
        cap = rng.randrange(50, 3000, 10)
        return {"location": Location(*spot()), "capacity": cap, "occupancy": min(t.occupancy, cap)}

    shelters = copies(s.shelters, "SHX", n_sh, shelter)
    # no fleet: keeps the file small (each then has a planner warning "no vehicles")
    stockpiles = copies(
        s.stockpiles, "SPX", n_sp, lambda t: {"location": Location(*spot()), "vehicles": ()}
    )
    hazards = copies(
        s.hazards,
        "HZX",
        n_hz,
        lambda t: {"risk_level": rng.randint(1, 4), "geometry": Point(*spot())},
    )
    big = dataclasses.replace(
        s,
        name=f"{s.name} · {n:,} 处设施（规模测试）",
        shelters=shelters,
        stockpiles=stockpiles,
        hazards=hazards,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_workspace(
        path,
        big,
        road_nodes=ws.road_nodes,
        road_edges=ws.road_edges,
        documents={k: dict(v) for k, v in ws.documents.items()},
    )
    return path


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/hejiang_10k.gpkg")
    print(make_scale_workspace(out))
