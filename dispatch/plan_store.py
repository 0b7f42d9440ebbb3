"""Plan persistence: file a computed plan into its workspace (GeoPackage documents).

Used by ``app.py dispatch --save``; the GUI stores plans through its session instead.
"""

from __future__ import annotations

from pathlib import Path

from dispatch.plan import Plan, scenario_hash, with_plan
from gis.errors import WorkspaceError


def save_plan_to_workspace(workspace: Path, plan: Plan) -> None:
    """Store ``plan`` in the workspace's documents (atomic save; roads and entities kept as read).

    Refuses when the workspace changed since the plan was computed (its scenario hash differs),
    so a plan is never filed against data it was not made from.
    """
    from gis.workspace import read_workspace, write_workspace

    full = read_workspace(Path(workspace), include_roads=True)
    if scenario_hash(full.scenario) != plan.inputs.scenario_hash:
        raise WorkspaceError(
            "the workspace changed while the plan was computed; plan not saved", path=str(workspace)
        )
    write_workspace(
        Path(workspace),
        full.scenario,
        road_nodes=full.road_nodes,
        road_edges=full.road_edges,
        documents=with_plan(full.documents, plan),
    )


__all__ = ["save_plan_to_workspace"]
