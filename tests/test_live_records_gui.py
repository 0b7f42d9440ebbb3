"""A record changed elsewhere (another desk on a shared database) reaches the session and its
views record by record: the undo history stays, the table updates that row without a reset."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from gis.workspace import read_workspace  # noqa: E402
from gis.workspace.postgis_live import LiveUpdate, apply_updates  # noqa: E402
from gui.session import Session  # noqa: E402
from gui.table_models import EntityTableModel  # noqa: E402
from tests.conftest import DEMO_WORKSPACE  # noqa: E402

pytestmark = pytest.mark.gui


def test_a_remote_record_keeps_undo_and_updates_one_table_row(qapp, tmp_path) -> None:  # noqa: ARG001
    from gui.session import RecoveryStore

    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    session = Session(recovery=RecoveryStore(tmp_path))
    session.load(ws, None)
    model = EntityTableModel("stockpiles", session.scenario)
    session.sig_scenario_changed.connect(lambda new, _old: model.set_scenario(new))
    # this desk's own edit: on the undo stack
    sp0 = session.scenario.stockpiles[0]
    session.upsert(replace(sp0, contact="本席位"), "编辑")
    assert session.undo_stack.count() == 1
    # another desk's record: applied to the session and to every undo snapshot
    sp3 = session.scenario.stockpiles[3]
    theirs = replace(sp3, name="另一席位改名")
    up = LiveUpdate(("stockpiles", (sp3.id,)), theirs, {("stockpiles", (sp3.id,)): 2})
    resets, changed = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    session.apply_remote(lambda s, d: apply_updates(s, d, [up])[:2])
    assert session.scenario.stockpiles[3] is theirs
    assert session.undo_stack.count() == 1 and session.dirty  # this desk's edit still unsent
    assert not resets and changed == [(3, 3)]
    assert model.data(model.index(3, 1)) == "另一席位改名"
    # undoing this desk's edit keeps the other desk's record; redo as well
    session.undo_stack.undo()
    assert session.scenario.stockpiles[0].contact == sp0.contact
    assert session.scenario.stockpiles[3].name == "另一席位改名"
    session.undo_stack.redo()
    assert session.scenario.stockpiles[0].contact == "本席位"
    assert session.scenario.stockpiles[3].name == "另一席位改名"
    # a record removed elsewhere: the table has one row less (a reset: rows moved)
    gone = LiveUpdate(("stockpiles", (sp3.id,)), None, {})
    session.apply_remote(lambda s, d: apply_updates(s, d, [gone])[:2])
    assert model.rowCount() == len(ws.scenario.stockpiles) - 1 and resets
    session.undo_stack.undo()
    assert all(s.id != sp3.id for s in session.scenario.stockpiles)
