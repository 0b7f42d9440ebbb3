"""Demand points and candidate sites edited in the desk like the other point layers: new at a
map click, form, drag, delete, each one undo step, saved in the workspace; the map payloads
and the tables show them; the stockpile form keeps its 库容 and the dates it has no field for."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from gis.model import CandidateKind, CandidateSite, DemandPoint  # noqa: E402
from gis.workspace import read_workspace, write_workspace  # noqa: E402
from gui import map_page, map_updates  # noqa: E402
from gui.controllers.editing import EditController  # noqa: E402
from gui.editors import DIALOGS, StockpileDialog  # noqa: E402
from gui.session import Session  # noqa: E402
from gui.table_models import COLUMNS, TITLES, EntityTableModel  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def desk(qapp, demo_workspace_path: Path):
    session = Session()
    session.load(read_workspace(demo_workspace_path, include_roads=False), demo_workspace_path)
    editing = EditController(session)
    errors: list[tuple] = []
    editing.sig_error.connect(lambda *a: errors.append(a))
    yield session, editing, errors
    session.undo_stack.clear()
    for obj in (session, editing):
        obj.deleteLater()
    qapp.processEvents()


def test_demand_point_add_edit_move_delete_undo(desk, tmp_path: Path) -> None:
    session, editing, errors = desk
    before = session.scenario.demand_points
    dp = editing.new_entity("demand_points", 105.84, 28.80)
    assert isinstance(dp, DemandPoint) and dp.id.startswith("DP-")
    assert dp.id not in {d.id for d in before}
    # the form: people and kind typed in, built into the entity
    dlg = DIALOGS["demand_points"](session.scenario, dp)
    dlg.name.setText("新建安置村")
    dlg.population.setValue(1234)
    dlg.kind.setCurrentIndex(dlg.kind.findData("学校"))
    assert dlg.try_accept()
    editing.add("demand_points", dlg.entity)
    got = session.scenario.find(dp.id)
    assert (got.name, got.population, got.kind.value) == ("新建安置村", 1234, "学校")
    assert editing.kind_of(dp.id) == "demand_points"
    # edit an existing village's population
    village = before[0]
    editing.save_edit("demand_points", replace(village, population=village.population + 500))
    assert session.scenario.find(village.id).population == village.population + 500
    assert editing.move(dp.id, 105.86, 28.81)
    assert session.scenario.find(dp.id).location.xy == (105.86, 28.81)
    # a bad form value stays in the form with a message
    bad = DIALOGS["demand_points"](session.scenario, got)
    bad.name.setText("")
    assert not bad.try_accept() and "name" in bad.error.text()
    # saved and read back
    path = tmp_path / "ws.gpkg"
    write_workspace(path, session.scenario)
    assert read_workspace(path).scenario.find(dp.id) == session.scenario.find(dp.id)
    assert editing.delete(dp.id) and editing.kind_of(dp.id) is None
    for _ in range(4):  # delete, move, edit, add
        session.undo_stack.undo()
    assert session.scenario.demand_points == before
    assert not errors


def test_candidate_site_layer_in_the_desk(desk) -> None:
    session, editing, errors = desk
    demo_sites = session.scenario.candidate_sites
    cs = editing.new_entity("candidate_sites", 105.80, 28.79)
    assert isinstance(cs, CandidateSite) and cs.id.startswith("CS-")
    dlg = DIALOGS["candidate_sites"](session.scenario, cs)
    dlg.name.setText("=SUM(A1)")  # names are text, whatever they look like
    dlg.kind.setCurrentIndex(dlg.kind.findData("shelter"))
    dlg.capacity.setValue(800)
    dlg.cost.setValue(120.0)
    assert dlg.try_accept()
    editing.add("candidate_sites", dlg.entity)
    got = session.scenario.find(cs.id)
    assert (got.kind, got.capacity, got.fixed_cost) == (CandidateKind.SHELTER, 800, 120.0)
    # map payloads: an editable marker with the name escaped, updated one entity at a time
    payload = map_page.layer_payloads(session.scenario, layers=["candidate_sites"])
    assert len(payload["candidate_sites"]) == len(demo_sites) + 1
    p = next(x for x in payload["candidate_sites"] if x["id"] == cs.id)
    assert p["id"] == cs.id and p["movable"] and "=SUM(A1)" in p["tip"]
    assert len(
        map_page.layer_payloads(session.scenario, layers=["demand_points"])["demand_points"]
    ) == len(session.scenario.demand_points)
    assert "candidate_sites" in map_page.LAYER_IDS and "demand_points" in map_page.LAYER_IDS
    old = session.scenario.candidate_sites
    editing.move(cs.id, 105.81, 28.80)
    changed, removed = map_updates.layer_update(session.scenario, "candidate_sites", old)
    assert [c["id"] for c in changed] == [cs.id] and removed == []
    # the table shows it with its kind in words
    model = EntityTableModel("candidate_sites", session.scenario)
    assert model.rowCount() == len(demo_sites) + 1 and TITLES["candidate_sites"] == "候选站点"
    headers = [c.header for c in COLUMNS["candidate_sites"]]
    row = [s.id for s in session.scenario.candidate_sites].index(cs.id)
    assert model.data(model.index(row, headers.index("可建为"))) in ("避难场所", "Shelters")
    session.undo_stack.undo()
    session.undo_stack.undo()
    assert session.scenario.candidate_sites == demo_sites
    assert not errors


def test_stockpile_form_keeps_capacity_and_dates(desk) -> None:
    session, editing, errors = desk
    sp = session.scenario.stockpiles[0]
    code = next(iter(sp.inventory))
    sp = replace(sp, capacity_m3=None, expiry_dates={code: date(2030, 1, 1)})
    dlg = StockpileDialog(session.scenario, sp)
    assert dlg.capacity.value() == 0 and dlg.capacity.specialValueText()  # 未填 shown
    dlg.capacity.setValue(640.5)
    assert dlg.try_accept()
    assert dlg.entity.capacity_m3 == 640.5 and dlg.entity.expiry_dates == {code: date(2030, 1, 1)}
    # the stockpiles table shows it (empty where not stated)
    other = replace(session.scenario.stockpiles[1], capacity_m3=None)
    model = EntityTableModel("stockpiles", session.scenario.upsert(dlg.entity).upsert(other))
    col = [c.header for c in COLUMNS["stockpiles"]].index("库容(m³)")
    shown = [model.data(model.index(r, col)) for r in range(model.rowCount())]
    assert shown.count("640.5") == 1 and shown.count("") == 1  # the demo states the others
    dlg = StockpileDialog(session.scenario, dlg.entity)
    dlg.capacity.setValue(0)  # cleared: not stated again
    assert dlg.try_accept() and dlg.entity.capacity_m3 is None
    assert not errors
