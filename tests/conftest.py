"""Shared fixtures. Qt is set up headless; ../shared data is optional (tests skip without it)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

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
