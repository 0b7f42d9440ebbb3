"""gis.paths: data/resources from source and from a frozen bundle, platform folders, CJK font."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gis import paths
from tests.conftest import ROOT


def test_source_tree_holds_data_and_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELIEFDESK_ROOT", raising=False)
    assert paths.app_root() == ROOT
    assert (paths.data_dir() / "hejiang_demo.gpkg").is_file()
    assert (paths.resources_dir() / "vendor" / "leaflet" / "leaflet.js").is_file()


def test_frozen_bundle_uses_meipass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RELIEFDESK_ROOT", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert paths.is_frozen()
    assert paths.resources_dir() == tmp_path / "_internal" / "resources"
    assert paths.data_dir() == tmp_path / "_internal" / "data"


def test_user_folders_are_platform_standard_and_overridable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("RELIEFDESK_CACHE_DIR", "RELIEFDESK_LOG_DIR", "RELIEFDESK_SETTINGS_DIR"):
        monkeypatch.delenv(var, raising=False)
    if sys.platform.startswith("linux"):
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        assert paths.cache_dir() == Path.home() / ".cache" / "reliefdesk"  # as before
    for d in (paths.cache_dir(), paths.log_dir(), paths.settings_dir()):
        assert d.is_absolute() and "reliefdesk" in str(d).lower()
    monkeypatch.setenv("RELIEFDESK_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("RELIEFDESK_LOG_DIR", str(tmp_path / "l"))
    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "s"))
    assert paths.cache_dir() == tmp_path / "c"
    assert paths.log_dir() == tmp_path / "l"
    assert paths.settings_dir() == tmp_path / "s"
    from gis.roads import cache_dir

    assert cache_dir() == tmp_path / "c"  # the road/CCH caches follow it


def test_cjk_font_is_searched_in_known_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RELIEFDESK_CJK_FONT", raising=False)
    windows = tmp_path / "Windows" / "Fonts"
    windows.mkdir(parents=True)
    (windows / "simsun.ttc").write_bytes(b"x")
    monkeypatch.setattr(paths, "font_search_dirs", lambda: [tmp_path / "none", windows])
    assert paths.find_cjk_font() == windows / "simsun.ttc"
    (windows / "msyh.ttc").write_bytes(b"x")  # YaHei is preferred over SimSun
    assert paths.find_cjk_font() == windows / "msyh.ttc"
    nested = tmp_path / "share" / "truetype" / "wqy"
    nested.mkdir(parents=True)
    (nested / "wqy-microhei.ttc").write_bytes(b"x")  # found two levels down, preferred
    monkeypatch.setattr(paths, "font_search_dirs", lambda: [windows, tmp_path / "share"])
    assert paths.find_cjk_font() == nested / "wqy-microhei.ttc"
    monkeypatch.setenv("RELIEFDESK_CJK_FONT", str(windows / "simsun.ttc"))
    assert paths.find_cjk_font() == windows / "simsun.ttc"


def test_no_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RELIEFDESK_CJK_FONT", raising=False)
    monkeypatch.setattr(paths, "font_search_dirs", lambda: [tmp_path])
    with pytest.raises(FileNotFoundError, match="fonts-wqy-microhei.*RELIEFDESK_CJK_FONT"):
        paths.find_cjk_font()
    with pytest.raises(FileNotFoundError, match="nope.ttf not found"):
        paths.find_cjk_font(tmp_path / "nope.ttf")


@pytest.mark.skipif(sys.platform != "linux", reason="Debian font path")
def test_debian_font_is_found_without_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    debian = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if not debian.is_file():
        pytest.skip("fonts-wqy-microhei not installed")
    monkeypatch.delenv("RELIEFDESK_CJK_FONT", raising=False)
    assert paths.find_cjk_font() == debian
