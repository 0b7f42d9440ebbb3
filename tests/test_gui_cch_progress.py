"""Road-network preprocessing (the contraction hierarchy's node order) inside desk jobs: the job's
progress shows 道路网络预处理… with its fraction, the job's Cancel stops it (the ordering child
process is terminated), and a dispatch run cancelled there says so in its matrix stage.

The demo county (5.9k nodes) stands in for a large network: its node order is computed in a
child process as for a province (``_ORDER_CHILD_MIN_CORE`` lowered), in a fresh cache folder.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PyQt6.QtWidgets")
pytest.importorskip("routingkit_cch", reason="routingkit-cch wheel not installed here")

from PyQt6.QtCore import Qt  # noqa: E402

from gis.matrix import TravelTimeEngine  # noqa: E402
from gis.matrix import cch as cch_mod  # noqa: E402
from gis.matrix.engine import PREP_TEXT  # noqa: E402
from gui.workers import JobRunner, JobWidget  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No node order on disk or in memory; ordering in a child process as on a province."""
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cch_mod, "_INDEXES", type(cch_mod._INDEXES)())
    monkeypatch.setattr(cch_mod, "_ORDER_CHILD_MIN_CORE", 0)


def _matrix_job(network: Any, ready: threading.Event) -> Any:
    """A job that asks for a seconds matrix without passing stop/progress on (as coverage,
    site choice and warnings do)."""

    def run(_data: Any, *, stop: Any, progress: Any) -> Any:
        assert ready.wait(10)
        nodes = np.arange(0, 4000, 50)
        return TravelTimeEngine(network).matrix(nodes, nodes + 1, metres=False)

    return run


def _runner(qtbot: Any) -> tuple[JobRunner, JobWidget]:
    runner = JobRunner()
    widget = JobWidget()
    qtbot.addWidget(widget)
    runner.attach(widget)
    return runner, widget


def test_preprocessing_shows_in_the_job_progress(qtbot: Any, demo_network: Any, cold: None) -> None:
    runner, widget = _runner(qtbot)
    ready = threading.Event()
    seen: list[tuple[float, str]] = []
    done: list[Any] = []
    job = runner.start(
        "覆盖分析", _matrix_job(demo_network, ready), on_done=lambda r, c: done.append(r)
    )
    job.sig_progress.connect(lambda f, m: seen.append((f, m)), Qt.ConnectionType.DirectConnection)
    ready.set()
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    prep = [(f, m) for f, m in seen if m.startswith(PREP_TEXT)]
    assert any("节点排序" in m for _f, m in prep) and prep[-1][1] == f"{PREP_TEXT}完成"
    fractions = [f for f, _m in prep]
    assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] == 1.0
    assert widget.label.text().startswith(PREP_TEXT)  # what the status bar showed last
    m = done[0]
    assert m.backend == "cch"
    nodes = np.arange(0, 4000, 50)
    ref = TravelTimeEngine(demo_network, backend="csgraph").matrix(nodes, nodes + 1)
    assert np.array_equal(m.seconds, ref.seconds)
    # the next job finds the hierarchy built: nothing to report
    seen.clear()
    ready2 = threading.Event()
    job2 = runner.start(
        "覆盖分析", _matrix_job(demo_network, ready2), on_done=lambda r, c: done.append(r)
    )
    job2.sig_progress.connect(lambda f, m: seen.append((f, m)), Qt.ConnectionType.DirectConnection)
    ready2.set()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=30_000)
    assert not [m for _f, m in seen if m.startswith(PREP_TEXT)]


def test_cancel_stops_the_preprocessing(qtbot: Any, demo_network: Any, cold: None) -> None:
    runner, widget = _runner(qtbot)
    ready = threading.Event()
    failed: list[str] = []
    done: list[Any] = []
    job = runner.start(
        "覆盖分析",
        _matrix_job(demo_network, ready),
        on_done=lambda r, c: done.append((r, c)),
        on_error=lambda msg, _tb: failed.append(msg),
    )

    def on_progress(_f: float, message: str) -> None:  # in the job's thread, as it is said
        if message.startswith(f"{PREP_TEXT}节点排序"):
            runner.cancel_all()  # what the status bar's Cancel button does

    job.sig_progress.connect(on_progress, Qt.ConnectionType.DirectConnection)
    ready.set()
    qtbot.waitUntil(lambda: bool(failed or done), timeout=30_000)
    assert failed == ["已取消"] and not done
    assert not [p for p in multiprocessing.active_children() if p.name == "cch-order"]
    assert demo_network.base_hash not in cch_mod._INDEXES  # nothing half-built kept
    assert not cch_mod.order_cached(demo_network)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5_000)
    assert widget.isHidden()


def test_dispatch_cancelled_during_preprocessing(
    demo_scenario: Any, demo_network: Any, cold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch whose matrices go through the hierarchy preprocesses in its matrix stage,
    and a Cancel there ends the run with that stage cancelled (no stage runs after it)."""
    from dispatch.pipeline import DispatchOptions, plan_dispatch
    from dispatch.results import Status
    from gis.matrix import engine as engine_mod

    monkeypatch.setattr(engine_mod, "CSGRAPH_NODE_S", 1.0)  # as on a province
    stopped = threading.Event()
    seen: list[str] = []

    def progress(_f: float, message: str) -> None:
        seen.append(message)
        if f"{PREP_TEXT}节点排序" in message:  # "行程矩阵：道路网络预处理…节点排序…"
            stopped.set()

    plan = plan_dispatch(
        demo_scenario,
        demo_network,
        DispatchOptions(seconds=2.0),
        stop=stopped.is_set,
        progress=progress,
    )
    assert plan.stages[0].status == Status.CANCELLED
    assert plan.stages[0].message == "道路网络预处理已取消"
    assert all(s.status == Status.CANCELLED for s in plan.stages)
    assert plan.overall == Status.CANCELLED
    assert not [p for p in multiprocessing.active_children() if p.name == "cch-order"]
