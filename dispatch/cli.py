"""``python app.py dispatch WS.gpkg --out DIR``: solve, export, print the summary;
``python app.py plan-status WS.gpkg PLAN_NUMBER --to STATUS --who NAME``: move a stored plan
along its status workflow.

Progress goes to stderr only when it is a terminal (pipes and logs get just the summary); the
summary and the list of written files go to stdout.

Re-plans: ``--previous PLAN.json`` (a plan.json written by an earlier run, or exported) warm-starts
the run from that plan and lists which orders changed; ``--close LON,LAT[,RADIUS_M]`` adds point
closures for this run only (on top of the workspace's closures layer, which is not changed; the
printed summary counts them).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shapely.geometry import Point

from dispatch.export.bundle import BundleError, export_all
from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan_store import save_plan_to_workspace
from dispatch.replan import changes_text
from dispatch.summary import summary_text
from gis.errors import ReliefDeskError, ValidationError, WorkspaceError
from gis.model import RoadClosure, Scenario
from gis.phrases import progress_text, say


def run_dispatch_cli(
    workspace: Path,
    out: Path,
    *,
    seconds: float,
    engine: str | None,
    overrides: Mapping[str, Any] | None = None,
    save: bool = False,
    previous: Path | None = None,
    close: Sequence[str] = (),
    language: str = "zh_CN",
) -> int:
    """``python app.py dispatch WS.gpkg --out DIR``: solve, write the six files, print a summary.
    ``language`` (``--lang en``): the summary, orders.pdf, orders.xlsx, plan.html and plan.csv in
    English (:mod:`gis.phrases`; names from data as they are).

    Exit code 0 even when the plan is partial; 2 when an export failed (the other files are
    written; one line on stderr names it). With ``save`` the plan is stored first (under the
    next free number if a concurrent save took its number) and exported under the number it
    was stored with. An unreadable workspace raises
    :class:`gis.errors.WorkspaceError` (app.py prints it on one line).
    """
    from gis.loading import load_road_network, open_workspace

    workspace = Path(workspace)
    try:
        ws = open_workspace(workspace)
        network = load_road_network(workspace, ws.scenario)
    except ReliefDeskError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WorkspaceError(f"cannot read workspace: {exc}", path=str(workspace)) from None
    scenario: Scenario = ws.scenario
    closures = parse_closures(close)
    if closures:
        scenario = dataclasses.replace(scenario, closures=(*scenario.closures, *closures))
    prev_plan = None
    if previous is not None:
        from dispatch.plan import Plan

        try:
            prev_plan = Plan.from_json(Path(previous).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"previous plan {previous}: cannot read ({exc})") from None
        except ValidationError as exc:
            raise ValidationError(f"previous plan {previous}: {exc}") from None
    existing = tuple((ws.documents or {}).get("plans", {}).keys())
    options = DispatchOptions(
        seconds=float(seconds), engine=engine, existing_numbers=existing, **dict(overrides or {})
    )
    last = [-1.0]
    english = {m.name_zh: m.name_en for m in scenario.materials if m.name_en}
    err = _stderr()
    show = bool(getattr(err, "isatty", lambda: False)())  # keep pipes/logs to the summary

    def progress(fraction: float, message: str) -> None:
        if show and (fraction - last[0] >= 0.1 or fraction >= 1.0):
            last[0] = fraction
            text = progress_text(message, language, english)
            print(f"[{fraction:4.0%}] {text}", flush=True, file=err)

    t0 = time.perf_counter()
    plan = plan_dispatch(scenario, network, options, progress=progress, previous=prev_plan)
    for note in plan.inputs.notes:
        if "是否应为" in note:  # a value that makes the problem explode: say so at once
            print(f"warning: {_oneline(note)}", file=err)
    saved = None
    if save:  # before the export, so the files carry the number the plan is stored under
        saved = save_plan_to_workspace(workspace, plan)
        plan = saved
    failed = ""
    try:
        files = export_all(plan, Path(out), parallel=True, language=language)
    except BundleError as exc:
        files, failed = exc.written, _oneline(str(exc))
    print(summary_text(plan, language=language) + changes_text(plan))
    lang = language
    if closures:
        print(say("本次临时封闭道路 {n} 处（--close，未写入工作区）", lang, n=len(closures)))
    if plan.inputs.first_plan_s is not None:
        print(say("首个完整方案 {s} 秒", lang, s=f"{plan.inputs.first_plan_s:.2f}"))
    print(
        say("用时 {s} 秒；输出：", lang, s=f"{time.perf_counter() - t0:.1f}")
        + (say("，", lang).join(_oneline(str(p)) for p in files.values()) or say("无", lang))
    )
    if saved is not None:
        print(say("方案 {no} 已保存到工作区 {ws}", lang, no=plan.number, ws=_oneline(str(workspace))))
    if failed:
        print(f"error: {failed}", file=err)
        return 2
    return 0


def run_plan_status_cli(
    workspace: Path,
    number: str,
    *,
    to: str,
    who: str,
    note: str = "",
    allow_partial: bool = False,
) -> int:
    """``python app.py plan-status WS PLAN_NUMBER --to S --who NAME [--note T] [--allow-partial]``.

    Stores the plan moved to ``to`` (under the workspace lock, atomic) and prints one line on
    stdout. A step the workflow refuses raises :class:`dispatch.plan.PlanStatusError`, an
    unknown plan :class:`gis.errors.WorkspaceError` (app.py prints one line, exit 2); nothing is
    written then.
    """
    from dispatch.plan_store import change_plan_status
    from dispatch.warnings.lifecycle import is_preposition_number

    if is_preposition_number(number):  # a warning's 预置方案: the same workflow
        from dispatch.warnings.cli import run_preposition_status_cli

        return run_preposition_status_cli(Path(workspace), number, to=to, who=who, note=note)
    plan = change_plan_status(
        Path(workspace), number, to, who, note=note, allow_partial=allow_partial
    )
    step = plan.approvals[-1]
    before = plan.approvals[-2].to_status.value if len(plan.approvals) > 1 else "草稿"
    extra = f"；{step.note}" if step.note else ""
    print(
        _oneline(
            f"方案 {plan.number}：{before} → {plan.status_label}（{step.action}：{step.who}，"
            f"{step.when:%Y-%m-%d %H:%M:%S}{extra}）"
        )
    )
    return 0


def parse_closures(specs: Sequence[str]) -> tuple[RoadClosure, ...]:
    """``--close`` values (``LON,LAT[,RADIUS_M]``, WGS-84) as point closures ``CLI-CLOSE-1``, …;
    a malformed value raises ValidationError naming it."""
    out = []
    for n, spec in enumerate(specs, start=1):
        parts = [p.strip() for p in str(spec).split(",")]
        try:
            if len(parts) not in (2, 3):
                raise ValueError("expected LON,LAT or LON,LAT,RADIUS_M")
            lon, lat = float(parts[0]), float(parts[1])
            radius = float(parts[2]) if len(parts) == 3 else 50.0
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError("longitude/latitude out of range")
            if not radius > 0:
                raise ValueError("radius must be > 0")
            out.append(
                RoadClosure(f"CLI-CLOSE-{n}", Point(lon, lat), "命令行临时封闭（--close）", radius)
            )
        except (ValueError, ReliefDeskError) as exc:
            raise ValidationError(f"--close {_oneline(str(spec))!r}: {exc}") from None
    return tuple(out)


def _oneline(text: str) -> str:
    """No control characters (ESC sequences in names from data) reach the terminal."""
    from dispatch.export.common import clean_text

    return clean_text(text)


def _stderr() -> Any:
    import sys

    return sys.stderr


__all__ = ["parse_closures", "run_dispatch_cli", "run_plan_status_cli"]
