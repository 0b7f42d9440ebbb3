"""installer/install.sh into a temporary prefix (no root, no Debian packages, no venv build):
files, launcher, menu entry following the prefix, icon, uninstall; and the Makefile targets."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gis.version import SOFTWARE
from tests.conftest import ROOT

INSTALL = ROOT / "installer" / "install.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_DATA_HOME", "DESTDIR")}
    env.update(HOME=str(tmp_path / "home"), QT_QPA_PLATFORM="offscreen", **extra)
    return env


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string(path.read_text(encoding="utf-8"))
    return cp["Desktop Entry"]


def test_install_into_a_prefix_then_uninstall(tmp_path: Path) -> None:
    prefix = tmp_path / "opt dir" / "reliefdesk"  # a space in the path
    env = _env(tmp_path)
    args = ["bash", str(INSTALL), "--no-debs", "--user", "--python", sys.executable, str(prefix)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("app.py", "gis", "dispatch", "gui", "data", "resources", "LICENSE", "uninstall.sh"):
        assert (prefix / name).exists(), name
    menu = tmp_path / "home" / ".local" / "share" / "applications" / "reliefdesk.desktop"
    entry = _desktop_entry(menu)
    assert entry["Exec"] == f'"{prefix}/reliefdesk" %f'
    assert Path(entry["Icon"]) == prefix / "resources" / "icons" / "reliefdesk.png"
    assert Path(entry["Icon"]).is_file()
    run = subprocess.run(
        [str(prefix / "reliefdesk"), "--version"], capture_output=True, text=True, env=env,
        timeout=60,
    )
    assert (run.returncode, run.stdout) == (0, f"{SOFTWARE}\n"), run.stderr
    proc = subprocess.run(
        ["bash", str(INSTALL), "--uninstall", "--user", str(prefix)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert not prefix.exists() and not menu.exists()
    assert (tmp_path / "opt dir").is_dir()  # only the install folder itself is removed


def test_destdir_stages_files_but_names_the_prefix(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    env = _env(tmp_path, DESTDIR=str(stage))
    assert env["DESTDIR"] == str(stage)  # never the real /opt
    proc = subprocess.run(
        ["bash", str(INSTALL), "--no-debs", "--python", "/usr/bin/python3", "/opt/reliefdesk"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    entry = _desktop_entry(stage / "usr" / "share" / "applications" / "reliefdesk.desktop")
    assert entry["Exec"] == '"/opt/reliefdesk/reliefdesk" %f'
    assert (stage / entry["Icon"].lstrip("/")).is_file()
    launcher = (stage / "opt" / "reliefdesk" / "reliefdesk").read_text(encoding="utf-8")
    assert '"/opt/reliefdesk/app.py"' in launcher and str(stage) not in launcher
    assert str(stage) not in (stage / "opt" / "reliefdesk" / "uninstall.sh").read_text()


def test_icon_template_and_make_targets_exist() -> None:
    assert (ROOT / "resources" / "icons" / "reliefdesk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    entry = _desktop_entry(ROOT / "installer" / "reliefdesk.desktop.in")
    assert entry["Icon"] == "@PREFIX@/resources/icons/reliefdesk.png"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("wheelhouse:", "install:", "uninstall:"):
        assert f"\n{target}" in makefile, target
    if shutil.which("make"):
        dry = subprocess.run(
            ["make", "-n", "-C", str(ROOT), "wheelhouse"], capture_output=True, text=True
        )
        assert dry.returncode == 0, dry.stderr
        assert "pip download --require-hashes --only-binary=:all: -r requirements.lock" in dry.stdout


def test_frozen_build_targets_stay_out_of_make_test() -> None:
    """`make bundle` / `bundle-test` / `deb` exist (PyInstaller: minutes, ~1 GB) but `make test`
    never depends on them; their scripts at least parse."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("bundle:", "bundle-test: bundle", "deb: bundle"):
        assert f"\n{target}" in makefile, target
    test_rule = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "bundle" not in test_rule and "deb" not in test_rule
    assert (ROOT / "installer" / "reliefdesk.spec").is_file()
    assert "\npyinstaller==" in (ROOT / "requirements-build.lock").read_text(encoding="utf-8")
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert "pyinstaller" not in (ROOT / lock).read_text(encoding="utf-8").lower(), lock
    for script in ("bundle_smoke.sh", "make_deb.sh", "install.sh"):
        proc = subprocess.run(["bash", "-n", str(ROOT / "installer" / script)], capture_output=True)
        assert proc.returncode == 0, (script, proc.stderr)
