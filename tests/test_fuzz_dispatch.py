"""Fuzzing dispatch: a hostile edit of the demo county that still reads must plan honestly.

Each case applies one mutation from :mod:`tests.test_fuzz_workspace` to a copy of the demo
workspace. When the workspace still reads, ``app.py dispatch WS --out DIR --seconds 1`` runs
in-process and must

- exit 0 or 2 (2: one line on stderr), never raise;
- leave the workspace file byte for byte as it was (no ``--save``);
- write a ``plan.json`` whose figures agree with its inputs: every open incident's needs are the
  workspace's; per material, needs = delivered + allocated-but-undelivered + listed shortfalls;
  per incident, affected people = people moved + people listed as not moved; a plan with
  anything unserved is never OPTIMAL, and the CLI says "全部需求均已安排" only when nothing is.

CI runs a bounded sample (cases that do not read are skipped quickly; 6 dispatches, ~1 min).
``RELIEFDESK_FUZZ_DISPATCH_CASES=200`` runs more; ``RELIEFDESK_FUZZ_SEED`` picks the sequence.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from gis.errors import ReliefDeskError
from tests.conftest import DEMO_WORKSPACE
from tests.gpkg_tamper import connect, sha256
from tests.test_fuzz_workspace import SEED, Schema, mutation

DISPATCHES = int(os.environ.get("RELIEFDESK_FUZZ_DISPATCH_CASES", "6"))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def check_plan_against_inputs(plan: dict, scenario, stdout: str, where: str) -> None:
    """The plan's own figures agree with the scenario it was made from."""
    unserved = plan["unserved"]
    by_id = {o["incident_id"]: o for o in plan["incidents"]}
    for inc in scenario.open_incidents():
        needs = {k: float(v) for k, v in inc.needs.items() if float(v) > 0}
        out = by_id.get(inc.id)
        if needs:
            assert out is not None, f"{where}: open incident {inc.id} missing from the plan"
        if out is None:
            continue
        got = {k: float(v) for k, v in out["needs"].items() if float(v) > 0}
        assert got == pytest.approx(needs), f"{where}: {inc.id} needs {got} ≠ workspace {needs}"
        for code, need in needs.items():
            short = sum(
                float(u["quantity"])
                for u in unserved
                if u["site_id"] == inc.id and u["what"] == code
            )
            delivered = float(out["delivered"].get(code, 0.0))
            undelivered = float(out.get("undelivered", {}).get(code, 0.0))
            assert _close(delivered + undelivered + short, need), (
                f"{where}: {inc.id} {code}: delivered {delivered} + undelivered {undelivered}"
                f" + shortfall {short} ≠ need {need}"
            )
    if plan["inputs"]["options"].get("evacuate", True):
        for inc in scenario.open_incidents():
            if inc.affected_people <= 0:
                continue
            moved = sum(m["people"] for m in plan["evacuation"] if m["group_id"] == inc.id)
            left = sum(
                float(u["quantity"])
                for u in unserved
                if u["site_id"] == inc.id and u["what"] == "people"
            )
            assert _close(moved + left, inc.affected_people), (
                f"{where}: {inc.id}: moved {moved} + not moved {left}"
                f" ≠ affected {inc.affected_people}"
            )
    if unserved:
        assert plan["overall"] != "OPTIMAL", f"{where}: OPTIMAL with {len(unserved)} unserved"
        assert "全部需求均已" not in stdout, f"{where}: 'all arranged' with unserved needs"


@pytest.mark.slow
@pytest.mark.timeout(max(600, 60 * DISPATCHES))
def test_fuzz_dispatch_plans_honestly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import app
    from gis.workspace import read_workspace

    rng = random.Random(SEED * 7919)
    layout = Schema(DEMO_WORKSPACE)
    dispatched = tried = 0
    failures: list[str] = []
    while dispatched < DISPATCHES and tried < 40 * DISPATCHES:
        description, apply = mutation(rng, layout)
        where = f"seed {SEED} case {tried}: {description}"
        tried += 1
        path = tmp_path / "ws.gpkg"
        shutil.copyfile(DEMO_WORKSPACE, path)
        con = connect(path)
        try:
            apply(con)
            con.commit()
        except sqlite3.Error:
            continue
        finally:
            con.close()
        try:
            scenario = read_workspace(path, include_roads=False).scenario
        except ReliefDeskError:
            continue  # refusals are test_fuzz_workspace's subject
        if not scenario.open_incidents():
            continue
        dispatched += 1
        before = sha256(path)
        out = tmp_path / f"plan{dispatched}"
        capsys.readouterr()
        try:
            code = app.main(["dispatch", str(path), "--out", str(out), "--seconds", "1"])
        except BaseException as exc:  # noqa: BLE001 - the point of the test
            failures.append(f"{where}: {type(exc).__name__} escaped: {exc}"[:600])
            continue
        captured = capsys.readouterr()
        if sha256(path) != before:
            failures.append(f"{where}: dispatch without --save changed the workspace")
        if code == 2:
            lines = [ln for ln in captured.err.splitlines() if ln.startswith("error")]
            if len(lines) != 1:
                failures.append(f"{where}: exit 2 without one error line: {captured.err[:300]}")
            continue
        if code != 0:
            failures.append(f"{where}: exit code {code}")
            continue
        plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
        try:
            check_plan_against_inputs(plan, scenario, captured.out, where)
        except AssertionError as exc:
            failures.append(" ".join(str(exc).split())[:600])
    print(f"dispatch fuzz seed {SEED}: {tried} mutations, {dispatched} dispatched")
    assert dispatched, "no mutated workspace could be dispatched"
    assert not failures, "\n".join(failures)


def test_the_demo_plan_agrees_with_its_inputs(demo_plan, demo_scenario) -> None:
    """The same checks on the unmodified demo (a check that cannot fail would pass here too:
    the hand-made disagreement below must be caught)."""
    from dispatch.summary import summary_text

    plan = json.loads(demo_plan.to_json())
    check_plan_against_inputs(plan, demo_scenario, summary_text(demo_plan), "demo")
    inc = plan["incidents"][0]
    code = next(iter(inc["needs"]))
    inc["delivered"][code] = float(inc["delivered"].get(code, 0.0)) + 1.0
    with pytest.raises(AssertionError, match="≠ need"):
        check_plan_against_inputs(plan, demo_scenario, "", "tampered")
