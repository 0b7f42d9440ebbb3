"""``python app.py relax WS.gpkg --plan PLAN.json --out DIR [--seconds S]``: what to relax.

Reads the workspace and a plan made from it (``plan.json`` of ``app.py dispatch``), runs
:func:`dispatch.relax.suggest_relaxations` within ``S`` seconds, writes ``DIR/relax.json``
(atomically: a temporary file renamed into place) and prints the same as text on stdout.
A plan made from another workspace (or from this one before it was edited) is bad input:
:class:`RelaxInputError`, which ``app.py`` prints as one line with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dispatch.export.common import clean_text
from dispatch.plan import Plan
from gis.errors import ReliefDeskError, ValidationError, WorkspaceError
from gis.workspace.atomic import write_json_atomically


class RelaxInputError(ValidationError):
    """The plan file cannot be read or does not belong to the workspace."""


def read_plan(path: Path) -> Plan:
    """The plan in ``path`` (``plan.json``), or :class:`RelaxInputError` naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RelaxInputError(f"plan {path}: cannot read ({exc})") from None
    try:
        return Plan.from_json(text)
    except (ReliefDeskError, ValueError, TypeError, KeyError) as exc:
        raise RelaxInputError(f"plan {path}: not a ReliefDesk plan ({exc})") from None


def run_relax_cli(workspace: Path, plan_path: Path, out: Path, *, seconds: float) -> int:
    """Suggest changes for the plan's late and unmet needs; 0 when written (see module doc)."""
    from dispatch.relax import suggest_relaxations
    from gis.loading import load_road_network, open_workspace

    plan = read_plan(plan_path)
    workspace = Path(workspace)
    try:
        ws = open_workspace(workspace)
        network = load_road_network(workspace, ws.scenario)
    except ReliefDeskError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WorkspaceError(f"cannot read workspace: {exc}", path=str(workspace)) from None
    if not plan.matches(ws.scenario):
        raise RelaxInputError(
            f"plan {plan.number} ({plan_path}) was not made from workspace {workspace} "
            "as it is now (scenario hash differs): re-run app.py dispatch first"
        )
    err = sys.stderr
    show = bool(getattr(err, "isatty", lambda: False)())

    def progress(fraction: float, message: str) -> None:
        if show:
            print(f"[{fraction:4.0%}] {clean_text(message)}", flush=True, file=err)

    report = suggest_relaxations(
        ws.scenario, network, plan, budget_s=float(seconds), progress=progress
    )
    target = Path(out) / "relax.json"
    write_json_atomically(target, report.to_dict(), indent=1)
    print(clean_text_lines(report.text()))
    print(f"输出：{clean_text(str(target))}")
    return 0


def clean_text_lines(text: str) -> str:
    """Each line without control characters (names from data never reach the terminal raw)."""
    return "\n".join(clean_text(line) for line in text.split("\n"))


__all__ = ["RelaxInputError", "read_plan", "run_relax_cli"]
