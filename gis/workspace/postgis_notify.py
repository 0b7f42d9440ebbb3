"""Change notifications from the shared workspace: a Qt-free listener thread.

Every committed row change sends ``NOTIFY reliefdesk`` with a JSON payload (table, id, version,
op, who, at — see :mod:`gis.workspace.postgis_ddl`); a push sends one ``RELOAD``. PostgreSQL
delivers a notification only when its transaction commits, so a desk never hears of an edit that
was rolled back. :class:`ChangeListener` holds its own connection in a daemon thread, hands each
notification to a callback as a :class:`Change` (with the delivery latency measured against the
database clock — same machine or NTP-synchronised clocks) and reports connection loss and
recovery to a second callback; it reconnects by itself. The GUI adapts it to Qt signals.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gis.workspace.postgis_ddl import CHANNEL


@dataclass(frozen=True)
class Change:
    """One committed change: ``op`` is INSERT, UPDATE, DELETE or RELOAD (a whole push)."""

    table: str
    id: str
    version: int
    op: str
    who: str
    at: float  # database clock, epoch seconds, when the row changed
    received: float  # this machine's clock when delivered

    @property
    def latency_s(self) -> float:
        return self.received - self.at


def parse_change(payload: str, received: float) -> Change | None:
    """A notification payload as a :class:`Change` (``None`` when it is not one of ours)."""
    try:
        d = json.loads(payload)
        return Change(
            table=str(d["table"]),
            id=str(d.get("id", "")),
            version=int(d.get("version") or 0),
            op=str(d["op"]),
            who=str(d.get("who", "")),
            at=float(d.get("at") or received),
            received=received,
        )
    except (ValueError, KeyError, TypeError):
        return None


class ChangeListener:
    """Listen for changes in a thread; ``on_change(Change)`` and ``on_connection(bool, str)``
    are called from that thread (marshal to the GUI thread yourself)."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[Change], None],
        on_connection: Callable[[bool, str], None] | None = None,
        *,
        retry_s: float = 1.0,
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.on_connection = on_connection or (lambda ok, msg: None)
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reliefdesk-listen", daemon=True)

    def start(self, *, wait_s: float = 10.0) -> ChangeListener:
        """Start listening; returns once ``LISTEN`` is in place (or after ``wait_s``)."""
        self._thread.start()
        self._ready.wait(wait_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> ChangeListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _run(self) -> None:
        import psycopg

        connected = False
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except psycopg.Error as exc:
                if connected or not self._ready.is_set():
                    self.on_connection(False, str(exc).strip().splitlines()[0] if str(exc) else "")
                connected = False
                self._ready.set()
                self._stop.wait(self.retry_s)
                continue
            connected = True
            self._ready.set()
            self.on_connection(True, "")
            try:
                with conn:
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=0.5):
                            change = parse_change(n.payload, time.time())
                            if change is not None:
                                self.on_change(change)
                        conn.execute("SELECT 1")  # notices a dead server between notifications
            except psycopg.Error as exc:
                connected = False
                self.on_connection(False, str(exc).strip().splitlines()[0] if str(exc) else "")
                self._stop.wait(self.retry_s)
