"""Shared fixtures. Qt is set up headless; ../shared data is optional (tests skip without it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEMO_WORKSPACE = ROOT / "data" / "hejiang_demo.gpkg"

sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox")
# Cache processed road networks inside the test session, not in the user's home.
os.environ.setdefault("RELIEFDESK_CACHE_DIR", str(ROOT / ".cache" / "test"))

# Property tests: random examples on a developer's machine; a fixed, reproducible sequence in CI
# (a failure there can be replayed exactly), never a per-example deadline (2 busy cores).
from hypothesis import settings as _hyp_settings  # noqa: E402

_hyp_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
_hyp_settings.register_profile("dev", deadline=None)
_hyp_settings.load_profile("ci" if os.environ.get("CI") else "dev")

# QtWebEngine must be imported before any QApplication exists (Qt missing: GUI tests skip).
with contextlib.suppress(Exception):
    import PyQt6.QtWebEngineWidgets  # noqa: F401


def shared_path(*parts: str) -> Path:
    """Path inside ../shared, or skip the calling test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent (../shared is provided in CI, not bundled with the app)")
    return p


@pytest.fixture(scope="session")
def andorra_pbf() -> Path:
    return shared_path("data", "osm", "andorra.osm.pbf")


@pytest.fixture(scope="session")
def andorra_xml() -> Path:
    return shared_path("data", "osm", "andorra.osm.gz")


@pytest.fixture(scope="session")
def monaco_xml() -> Path:
    return shared_path("data", "osm", "monaco.osm.gz")


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    return shared_path("bench")


@pytest.fixture(scope="session")
def demo_workspace_path() -> Path:
    if not DEMO_WORKSPACE.exists():
        pytest.fail(f"bundled demo workspace missing: {DEMO_WORKSPACE} (run tools/build_demo.py)")
    return DEMO_WORKSPACE


# ---- the bundled demo county -------------------------------------------------------------------
# Scenario, road network, travel-time engine and plan are immutable (frozen dataclasses, arrays
# nobody writes to): one of each per session. A Workspace holds pandas frames, so each test
# module reads its own; a test that writes to the file gets its own copy (``demo_copy``).


@pytest.fixture(scope="session")
def demo_scenario(demo_workspace_path: Path) -> Any:
    """The demo county's Scenario (read with ``gis.workspace.read_workspace``, roads apart)."""
    from gis.workspace import read_workspace

    return read_workspace(demo_workspace_path, include_roads=False).scenario


@pytest.fixture(scope="session")
def demo_network(demo_workspace_path: Path, demo_scenario: Any) -> Any:
    """The demo county's RoadNetwork, through the processed-network cache."""
    from gis.loading import load_road_network

    network = load_road_network(demo_workspace_path, demo_scenario)
    if network is None:
        pytest.fail("the demo workspace has no road network")
    return network


@pytest.fixture(scope="session")
def demo_engine(demo_scenario: Any, demo_network: Any) -> Any:
    """TravelTimeEngine on the demo roads with the scenario's closures."""
    from gis.matrix import TravelTimeEngine

    return TravelTimeEngine(demo_network, demo_scenario.closures)


@pytest.fixture(scope="session")
def demo_plan(demo_scenario: Any, demo_network: Any) -> Any:
    """The demo county's dispatch plan (2 s per solver stage), computed once per session."""
    from dispatch.pipeline import DispatchOptions, plan_dispatch

    return plan_dispatch(demo_scenario, demo_network, DispatchOptions(seconds=2.0))


@pytest.fixture(scope="module")
def demo_ws(demo_workspace_path: Path) -> Any:
    """The whole demo Workspace, road layers included (one per test module: it holds frames)."""
    from gis.workspace import read_workspace

    return read_workspace(demo_workspace_path, include_roads=True)


@pytest.fixture
def demo_copy(tmp_path: Path, demo_workspace_path: Path) -> Path:
    """``tmp_path / "demo.gpkg"``: a copy of the demo workspace the test may change."""
    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws)
    return ws


@pytest.fixture
def app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's settings and crash-recovery folders inside ``tmp_path``, never the user's."""
    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
    return tmp_path


def travel_matrix(engine: Any, rows: Any, cols: Any) -> Any:
    """Travel times from the locations of ``rows`` to those of ``cols`` (snapped, on the roads)."""
    return engine.matrix_lonlat(
        [x.location.lon for x in rows],
        [x.location.lat for x in rows],
        [x.location.lon for x in cols],
        [x.location.lat for x in cols],
    )
