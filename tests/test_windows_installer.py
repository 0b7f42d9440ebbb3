"""The Windows build files agree with the app, by parsing them (nothing is built here: no Windows).

``installer/windows/ReliefDesk.iss`` (Inno Setup) and ``installer/windows/ReliefDesk.spec``
(PyInstaller) against ``installer/bundle_spec.py`` (shared with the Linux spec),
``gis/version.py`` and the repository's files: the version has one source, the names of the app,
its executables and the bundle folder match, the ``.gpkg`` association opens the GUI exe, and
every path the scripts name exists.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest
from PIL import Image

from gis import paths
from gis.version import __version__
from tests.conftest import ROOT

WIN = ROOT / "installer" / "windows"
ISS = WIN / "ReliefDesk.iss"
WIN_SPEC = WIN / "ReliefDesk.spec"
LINUX_SPEC = ROOT / "installer" / "reliefdesk.spec"


def _bundle_spec():
    spec = importlib.util.spec_from_file_location(
        "bundle_spec", ROOT / "installer" / "bundle_spec.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


common = _bundle_spec()


@pytest.fixture(scope="module")
def iss() -> str:
    raw = ISS.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), (
        "Inno Setup reads non-ASCII text as UTF-8 only with a BOM"
    )
    return raw.decode("utf-8-sig")


def _defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define\s+(\w+)\s+"([^"]*)"\s*$', text, flags=re.M))


def _section(text: str, name: str) -> list[str]:
    """Non-comment lines of one ``[Section]`` of the script."""
    body = re.split(rf"^\[{name}\]\s*$", text, flags=re.M)
    assert len(body) == 2, f"[{name}] missing or repeated"
    lines = body[1].split("\n[", 1)[0].splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith((";", "#"))]


def _directives(text: str) -> dict[str, str]:
    return dict(ln.split("=", 1) for ln in _section(text, "Setup"))


def _entries(text: str, section: str) -> list[dict[str, str]]:
    """``Name: "x"; Flags: y`` lines as dicts (values unquoted)."""
    out = []
    for line in _section(text, section):
        parts = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line)
        out.append({k: _unquote(v.strip()) for k, v in parts})
    return out


def _unquote(value: str) -> str:
    """Inno Setup's quoting: a quoted value writes each " inside it twice."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def _expand(value: str, defines: dict[str, str]) -> str:
    return re.sub(r"\{#(\w+)\}", lambda m: defines[m.group(1)], value)


def test_names_agree_with_the_shared_spec_module(iss: str) -> None:
    d = _defines(iss)
    assert d["AppName"] == common.APP_NAME == "ReliefDesk"
    assert d["AppExeName"] == f"{common.APP_NAME}.exe"
    assert d["CliExeName"] == f"{common.CLI_NAME}.exe"
    assert d["WorkspaceExt"] == common.WORKSPACE_SUFFIX == ".gpkg"
    assert d["WorkspaceTypeName"] == "ReliefDesk 工作空间"
    # the bundle folder Inno Setup packs is the one PyInstaller writes with BUILD.md's --distpath
    bundle = PureWindowsPath(d["BundleDir"])
    assert (WIN / Path(*bundle.parts)).resolve() == ROOT / "dist" / common.APP_NAME
    assert "--distpath dist" in (WIN / "BUILD.md").read_text(encoding="utf-8")


def test_version_has_one_source(iss: str) -> None:
    """No version literal in the script; BUILD.md's command reads gis/version.py."""
    assert __version__ not in iss
    assert re.search(r"^#ifndef AppVersion\s*\n\s*#error", iss, flags=re.M)
    setup = _directives(iss)
    assert setup["AppVersion"] == "{#AppVersion}"
    assert "{#AppVersion}" in setup["OutputBaseFilename"]
    guide = (WIN / "BUILD.md").read_text(encoding="utf-8")
    assert "iscc /DAppVersion=$v installer\\windows\\ReliefDesk.iss" in guide
    one_liner = re.search(r'^\$v = python -c "([^"]+)"$', guide, flags=re.M)
    assert one_liner, "BUILD.md must show how the version is read"
    out = subprocess.run(
        [sys.executable, "-c", one_liner.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stdout.strip()) == (0, __version__), out.stderr


def test_setup_paths_exist_and_install_goes_to_program_files(iss: str) -> None:
    setup = _directives(iss)
    for key in ("LicenseFile", "SetupIconFile"):
        rel = Path(*PureWindowsPath(setup[key]).parts)
        assert (WIN / rel).resolve().is_file(), (key, setup[key])
    assert (WIN / Path(*PureWindowsPath(setup["OutputDir"]).parts)).resolve() == ROOT / "dist"
    assert setup["DefaultDirName"] == "{autopf}\\{#AppName}"  # Program Files, or per user
    assert setup["PrivilegesRequiredOverridesAllowed"] == "dialog"
    assert setup["ChangesAssociations"] == "yes"
    assert "x64" in setup["ArchitecturesInstallIn64BitMode"]
    with Image.open(WIN / Path(*PureWindowsPath(setup["SetupIconFile"]).parts)) as ico:
        assert ico.format == "ICO" and {(16, 16), (256, 256)} <= set(ico.info["sizes"])


def test_files_shortcuts_and_gpkg_association_open_the_gui_exe(iss: str) -> None:
    d = _defines(iss)
    files = _entries(iss, "Files")
    assert [(f["Source"], f["DestDir"]) for f in files] == [("{#BundleDir}\\*", "{app}")]
    assert "recursesubdirs" in files[0]["Flags"]
    icons = _entries(iss, "Icons")
    targets = {_expand(i["Name"], d): (_expand(i["Filename"], d), i.get("Tasks")) for i in icons}
    assert targets["{autoprograms}\\ReliefDesk"] == ("{app}\\ReliefDesk.exe", None)
    assert targets["{autodesktop}\\ReliefDesk"] == ("{app}\\ReliefDesk.exe", "desktopicon")
    tasks = {t["Name"]: t for t in _entries(iss, "Tasks")}
    assert "unchecked" in tasks["desktopicon"].get("Flags", "")  # optional, off by default
    assert "associate" in tasks
    reg = {
        (_expand(r["Subkey"], d), _expand(r["ValueName"], d)): _expand(r["ValueData"], d)
        for r in _entries(iss, "Registry")
    }
    cls = "Software\\Classes\\"
    assert reg[(cls + ".gpkg\\OpenWithProgids", "ReliefDesk.Workspace")] == ""
    assert reg[(cls + ".gpkg", "")] == "ReliefDesk.Workspace"
    assert reg[(cls + "ReliefDesk.Workspace", "")] == "ReliefDesk 工作空间"
    assert reg[(cls + "ReliefDesk.Workspace\\shell\\open\\command", "")] == (
        '"{app}\\ReliefDesk.exe" "%1"'
    )
    languages = {lang["Name"]: lang["MessagesFile"] for lang in _entries(iss, "Languages")}
    assert languages["english"] == "compiler:Default.isl"


def _calls(spec: Path) -> dict[str, list[ast.Call]]:
    tree = ast.parse(spec.read_text(encoding="utf-8"), filename=str(spec))
    calls: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls.setdefault(node.func.id, []).append(node)
    return calls


def _kw(call: ast.Call, name: str) -> str:
    value = next(k.value for k in call.keywords if k.arg == name)
    return ast.unparse(value)


@pytest.mark.parametrize("spec", [WIN_SPEC, LINUX_SPEC], ids=["windows", "linux"])
def test_both_specs_take_their_inputs_from_the_shared_module(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    assert "import bundle_spec as common" in text
    calls = _calls(spec)
    (analysis,) = calls["Analysis"]
    assert ast.unparse(analysis.keywords[0].value) == "common.analysis_inputs(ROOT)"
    (collect,) = calls["COLLECT"]
    assert _kw(collect, "name") == "common.APP_NAME"
    # ROOT in the spec is the repository root
    root_expr = re.search(r"^ROOT = (.+)$", text, flags=re.M).group(1)
    spec_path = eval(root_expr, {"Path": Path, "SPECPATH": str(spec.parent)})
    assert spec_path == ROOT


def test_windows_spec_has_a_windowed_app_and_a_console_twin() -> None:
    exes = {_kw(c, "name"): c for c in _calls(WIN_SPEC)["EXE"]}
    assert set(exes) == {"common.APP_NAME", "common.CLI_NAME"}
    assert _kw(exes["common.APP_NAME"], "console") == "False"
    assert _kw(exes["common.CLI_NAME"], "console") == "True"
    assert "common.ICON_ICO" in WIN_SPEC.read_text(encoding="utf-8")


def test_shared_spec_bundles_existing_files_where_the_app_looks() -> None:
    for src, _dest in common.DATA_TREES:
        assert (ROOT / src).exists(), src
    dests = dict(common.DATA_TREES)
    # gis.paths looks for data/ and resources/ directly under the bundle's data folder
    assert paths.data_dir().relative_to(paths.app_root()) == Path(dests["data"])
    assert paths.resources_dir().relative_to(paths.app_root()) == Path(dests["resources"])
    for icon in (common.ICON_PNG, common.ICON_ICO):
        assert (ROOT / icon).is_file(), icon
    for pkg in common.NATIVE:
        assert importlib.util.find_spec(pkg) is not None, pkg
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "installer/reliefdesk.spec" in makefile
    assert f"dist/{common.APP_NAME}" in makefile
