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


def _fake_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_DOCUMENTS_DIR", "RELIEFDESK_ROOT"):
        monkeypatch.delenv(var, raising=False)
    return home


def test_recovery_copies_go_to_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = _fake_home(monkeypatch, tmp_path)
    monkeypatch.delenv("RELIEFDESK_RECOVERY_DIR", raising=False)
    if sys.platform.startswith("linux"):
        assert paths.recovery_dir() == home / ".local" / "share" / "ReliefDesk" / "recovery"
    assert paths.recovery_dir().parts[-2:] == ("ReliefDesk", "recovery")
    from gui.session import RecoveryStore

    assert RecoveryStore().directory == paths.recovery_dir()  # the autosave uses it
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "r"))
    assert RecoveryStore().directory == paths.recovery_dir() == tmp_path / "r"


def test_dialogs_start_in_documents_when_the_app_folder_is_not_writable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = _fake_home(monkeypatch, tmp_path)
    workspace = tmp_path / "county" / "w.gpkg"
    workspace.parent.mkdir()
    assert paths.default_dir() == ROOT  # from source: the checkout, as before
    assert paths.default_dir(fallback=ROOT / "data") == ROOT / "data"
    assert paths.default_dir(workspace) == workspace.parent  # the open workspace wins
    assert paths.default_dir(fallback=tmp_path / "gone") == home / "Documents"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(ROOT), raising=False)  # writable, still frozen
    assert paths.default_dir() == home / "Documents"
    assert paths.default_dir(fallback=ROOT / "data") == home / "Documents"
    assert paths.default_dir(workspace) == workspace.parent
    (home / "Documents").rmdir()
    assert paths.default_dir() == home  # no documents folder: the home folder


def test_every_file_dialog_in_gui_starts_from_default_dir() -> None:
    """Each QFileDialog.get*() call in gui/ passes a start folder built by gis.paths.default_dir
    (directly, or through a local variable assigned from it) or the open workspace's path."""
    import ast

    calls = 0
    for source in sorted((ROOT / "gui").rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            assigned = {
                t.id: ast.unparse(n.value)
                for n in ast.walk(func)
                if isinstance(n, ast.Assign)
                for t in n.targets
                if isinstance(t, ast.Name)
            }
            for node in ast.walk(func):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and ast.unparse(node.func.value) == "QFileDialog"
                    and node.func.attr.startswith("get")
                ):
                    continue
                calls += 1
                start = ast.unparse(node.args[2])
                start = assigned.get(start, start)
                assert "default_dir(" in start, (source.name, node.lineno, start)
    assert calls >= 6
