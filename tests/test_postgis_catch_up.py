"""A desk back after a connection loss catches up record by record; warnings, monitoring and
pre-positioning documents are sent and applied live (issue 16).

Two connections to the shared test database: desk B (viewer) loses its connection (its sessions
are terminated and it cannot reconnect), desk A edits, inserts and deletes meanwhile; when B is
back its feed reads only the rows whose version differs from B's copy and applies those records
— no full re-read — and B's own unsent edit stays. A whole push during the gap cannot be bridged
record by record: the catch-up asks for the full re-read and says why.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from dispatch.warnings.lifecycle import PrepositionRecord, read_prepositions, with_preposition
from gis.event_log import with_log_entry
from gis.hazard_warnings import HazardWarning, read_warnings, with_warning
from gis.monitoring import Monitor, read_monitors, with_monitor
from gis.workspace import read_workspace
from gis.workspace.postgis import PermissionRefused, PostgisStorage, SharedWorkspace
from gis.workspace.postgis_ddl import writable_documents
from gis.workspace.postgis_live import (
    LiveBatch,
    LiveFeed,
    apply_updates,
    record_of,
    record_rows,
)
from gis.workspace.postgis_sync import diff_documents, diff_rows, read_versions, send_rows
from tests.conftest import DEMO_WORKSPACE
from tests.postgis_db import SharedDb, test_db  # noqa: F401 - the fixture

psycopg = pytest.importorskip("psycopg")

WAIT_S = 30.0
DEAD_URL = "postgresql://rd_viewer@127.0.0.1:1/nowhere"  # nothing listens on port 1


@pytest.fixture()
def db(test_db: SharedDb) -> SharedDb:  # noqa: F811
    ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
    PostgisStorage(test_db.admin).write(ws.scenario, documents=ws.documents)
    return test_db


class Desk:
    """A desk without a window: its copy, the versions of its rows, its live feed; when its
    connection comes back after a loss it asks the feed to catch up (as the desk's controller)."""

    def __init__(self, url: str) -> None:
        ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
        self.scenario, self.documents = ws.scenario, {k: dict(v) for k, v in ws.documents.items()}
        with SharedWorkspace(url) as w:
            self.versions = read_versions(w)
        self.batches: list[LiveBatch] = []
        self.states: list[bool] = []
        self.cond = threading.Condition()
        self.feed = LiveFeed(url, self._on_batch, on_connection=self._on_connection)
        self.feed.listener.retry_s = 0.2

    def _on_connection(self, ok: bool, _msg: str) -> None:
        with self.cond:
            back = ok and False in self.states
            self.states.append(ok)
            self.cond.notify_all()
            if back:
                self.feed.catch_up(self.versions)

    def _on_batch(self, batch: LiveBatch) -> None:
        with self.cond:
            self.batches.append(batch)
            if not batch.reload:
                for up in batch.updates:
                    old = record_of(self.scenario, self.documents, up.target)
                    for row in record_rows(up.target, old):
                        self.versions.pop(row, None)
                    self.versions.update(up.rows)
                self.scenario, self.documents, _done = apply_updates(
                    self.scenario, self.documents, batch.updates
                )
            self.cond.notify_all()

    def wait(self, until) -> None:  # noqa: ANN001
        with self.cond:
            assert self.cond.wait_for(lambda: until(self), timeout=WAIT_S), (
                self.states,
                self.batches,
            )

    def lose_connection(self, url: str) -> None:
        """The server drops this desk's sessions and it cannot reconnect until :meth:`back`."""
        self.feed.listener.url = DEAD_URL
        with psycopg.connect(url, autocommit=True) as raw:
            raw.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'rd_viewer' AND datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        self.wait(lambda d: False in d.states)

    def back(self, url: str) -> None:
        self.feed.listener.url = url


def _catch_ups(desk: Desk) -> list[LiveBatch]:
    return [b for b in desk.batches if b.catch_up]


def test_a_desk_back_from_a_connection_loss_catches_up_record_by_record(db: SharedDb) -> None:
    desk = Desk(db.viewer)
    s = desk.scenario
    mine = replace(s.incidents[0], affected_people=s.incidents[0].affected_people + 5)
    desk.scenario = replace(s, incidents=(mine, *s.incidents[1:]))  # B's edit, not sent
    edited, gone, sp = s.incidents[1], s.incidents[2], s.stockpiles[1]
    mat = next(iter(sp.inventory))
    with desk.feed:
        desk.lose_connection(db.viewer)
        with SharedWorkspace(db.operator) as a, SharedWorkspace(db.planner) as p:
            changed = replace(edited, affected_people=edited.affected_people + 31)
            new_inc = replace(s.incidents[1], id="INC-GAP-1", name="断线期间新增")
            a_new = replace(s, incidents=(s.incidents[0], changed, *s.incidents[2:], new_inc))
            res = send_rows(a, diff_rows(s, a_new), read_versions(a))
            assert res.saved and not res.conflicts and not res.refused
            a_del = replace(a_new, incidents=tuple(i for i in a_new.incidents if i.id != gone.id))
            res = send_rows(a, diff_rows(a_new, a_del), read_versions(a))  # deletes: no record
            assert not res.conflicts and not res.refused and not res.unsent
            rec = p.get("inventory", (sp.id, mat))
            p.update("inventory", (sp.id, mat), {"quantity": 7.0}, rec.version)
        assert not desk.batches  # nothing heard while away
        desk.back(db.viewer)
        desk.wait(lambda d: _catch_ups(d))
    (batch,) = _catch_ups(desk)
    assert not any(b.reload for b in desk.batches)  # the full re-read was not taken
    assert {u.target for u in batch.updates} == {
        ("incidents", (edited.id,)),
        ("incidents", ("INC-GAP-1",)),
        ("incidents", (gone.id,)),
        ("stockpiles", (sp.id,)),
    }
    got = {i.id: i for i in desk.scenario.incidents}
    assert got[edited.id] == changed and got["INC-GAP-1"] == new_inc and gone.id not in got
    assert desk.scenario.stockpiles[1].inventory[mat] == 7.0
    assert got[mine.id] == mine  # B's own unsent edit is kept
    assert desk.scenario.shelters is s.shelters  # untouched records keep their identity
    assert desk.scenario.stockpiles[0] is s.stockpiles[0]
    with SharedWorkspace(db.viewer) as w:
        assert desk.versions == read_versions(w)  # B's copy is the database's again


def test_a_push_during_the_gap_falls_back_to_the_full_re_read_and_says_why(
    db: SharedDb,
) -> None:
    desk = Desk(db.viewer)
    with desk.feed:
        desk.lose_connection(db.viewer)
        ws = read_workspace(DEMO_WORKSPACE, include_roads=False)
        PostgisStorage(db.admin).write(ws.scenario, documents=ws.documents)
        desk.back(db.viewer)
        desk.wait(lambda d: _catch_ups(d))
    (batch,) = _catch_ups(desk)
    assert batch.reload and not batch.updates
    assert "推送" in batch.reason


def test_warnings_monitoring_and_prepositions_are_sent_and_applied_live(db: SharedDb) -> None:
    desk = Desk(db.viewer)
    s = desk.scenario
    hazard = s.hazards[0].id
    t0 = datetime(2024, 7, 1, 8, 0)
    warning = HazardWarning("YJ-GAP-1", "orange", t0, t0 + timedelta(hours=12), (hazard,))
    monitor = Monitor(hazard, "rainfall", {"yellow": 50.0, "orange": 80.0}).with_reading(t0, 92.0)
    record = PrepositionRecord("YJ-GAP-1-YZ", warning.id, t0, "hash")
    docs = with_preposition(with_monitor(with_warning(desk.documents, warning), monitor), record)
    docs = with_log_entry(docs, {"kind": "warning", "warning": warning.id}, now=t0)
    old = desk.documents
    rows = diff_documents(old, docs, writable_documents("rd_operator"))
    kinds = {r.key[0] for r in rows}
    assert {"warnings", "monitoring", "prepositions", "event_log"} <= kinds
    assert diff_documents(old, docs, writable_documents("rd_planner")) == []
    with desk.feed, SharedWorkspace(db.operator) as op, SharedWorkspace(db.planner) as pl:
        res = send_rows(op, rows, read_versions(op))  # one duty-desk edit, one transaction
        assert len(res.saved) == len(rows) and not res.refused and not res.conflicts
        desk.wait(lambda d: "YJ-GAP-1-YZ" in d.documents.get("prepositions", {}))
        assert read_warnings(desk.documents)[-1] == warning
        assert monitor in read_monitors(desk.documents)
        assert read_prepositions(desk.documents)[-1] == record
        with pytest.raises(PermissionRefused):  # the operator's kinds, not the planner's
            pl.insert(
                "documents",
                {"kind": "warnings", "doc_id": "YJ-PL", "json": json.dumps({"id": "YJ-PL"})},
            )
    assert not any(b.reload for b in desk.batches)
