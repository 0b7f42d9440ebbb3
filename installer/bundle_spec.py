"""What goes into ReliefDesk's frozen bundle: shared by both PyInstaller specs.

``installer/reliefdesk.spec`` (Linux, ``make bundle``) and ``installer/windows/ReliefDesk.spec``
(Windows, see ``installer/windows/BUILD.md``) import this module, so the two builds bundle the
same code, data and native libraries and differ only in their executables and icons.
``tests/test_windows_installer.py`` reads the names below to check the Inno Setup script.

PyInstaller's own hooks bring PyQt6 + QtWebEngine (QtWebEngineProcess, resources, locales);
``data/`` and ``resources/`` go to the bundle's data folder, where ``gis.paths.app_root()``
finds them (``sys._MEIPASS``). No font is bundled: ``gis.paths.find_cjk_font`` uses the system's
(WenQuanYi Micro Hei on Linux, Microsoft YaHei / SimSun on Windows) or ``resources/fonts/``.
Importing this module needs no PyInstaller; :func:`analysis_inputs` does.
"""

from __future__ import annotations

from pathlib import Path

#: Name of the bundle folder and of the main (GUI) executable: ``ReliefDesk`` / ``ReliefDesk.exe``.
APP_NAME = "ReliefDesk"
#: Windows only: a console twin of the GUI exe for ``--version`` and ``dispatch`` in a terminal
#: (the GUI exe is built windowed, so it has no console to print to).
CLI_NAME = "reliefdesk-cli"
#: File type the app opens (a ReliefDesk workspace is a GeoPackage).
WORKSPACE_SUFFIX = ".gpkg"

ROOT = Path(__file__).resolve().parents[1]

#: (source relative to the repository, folder inside the bundle)
DATA_TREES = (
    ("data", "data"),
    ("resources", "resources"),
    ("LICENSE", "."),
    ("CHANGELOG.md", "."),
)
#: Compiled packages whose extension modules or data PyInstaller's import analysis misses.
NATIVE = ("pyvrp", "pyogrio", "pyproj", "shapely", "ortools", "osmium")
EXCLUDES = ("tkinter", "IPython", "pytest", "hypothesis", "PyQt5", "PySide6", "PySide2")
ICON_PNG = "resources/icons/reliefdesk.png"
ICON_ICO = "resources/icons/reliefdesk.ico"


def analysis_inputs(root: Path = ROOT) -> dict[str, list]:
    """Keyword arguments for PyInstaller's ``Analysis`` (call it from a spec file)."""
    # the .qm translations are build products: compile them now (lrelease; without it the
    # bundled .ts is read directly, see gui/i18n.py)
    import subprocess
    import sys

    from PyInstaller.utils.hooks import (
        collect_data_files,
        collect_dynamic_libs,
        collect_submodules,
    )

    subprocess.run([sys.executable, str(root / "tools" / "translations.py"), "release"], check=True)
    hiddenimports = ["routingkit_cch", "platformdirs"]
    # psycopg loads its C implementation by name at run time (gis/workspace/postgis.py)
    hiddenimports += collect_submodules("psycopg") + collect_submodules("psycopg_binary")
    for pkg in ("gis", "dispatch", "gui", *NATIVE):
        hiddenimports += collect_submodules(pkg)
    datas = [(str(root / src), dest) for src, dest in DATA_TREES]
    datas += collect_data_files("folium") + collect_data_files("branca")
    binaries = []
    for pkg in NATIVE:
        datas += collect_data_files(pkg)
        binaries += collect_dynamic_libs(pkg)
    return {
        "scripts": [str(root / "app.py")],
        "pathex": [str(root)],
        "binaries": binaries,
        "datas": datas,
        "hiddenimports": hiddenimports,
        "excludes": list(EXCLUDES),
    }
