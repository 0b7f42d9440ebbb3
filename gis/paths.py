"""Where ReliefDesk's files are: its own (``data/``, ``resources/``) and the user's.

* :func:`app_root` is the folder holding ``data/`` and ``resources/``: the source checkout (or
  the install prefix ``install.sh`` copies it to), or, in a PyInstaller bundle, the bundle's data
  folder (``sys._MEIPASS``: ``ReliefDesk/_internal`` for a one-folder build).
  ``$RELIEFDESK_ROOT`` overrides it.
* Caches, logs and settings go where the platform keeps them (platformdirs): on Linux
  ``~/.cache/reliefdesk``, ``~/.local/state/reliefdesk/log``, ``~/.config/ReliefDesk``; on
  Windows under ``%LOCALAPPDATA%`` / ``%APPDATA%``. ``$RELIEFDESK_CACHE_DIR``,
  ``$RELIEFDESK_LOG_DIR`` and ``$RELIEFDESK_SETTINGS_DIR`` override them (tests, kiosks).
* Recovery copies of unsaved work (autosave) go to the user data folder: :func:`recovery_dir`
  (``~/.local/share/ReliefDesk/recovery``, ``%APPDATA%\\ReliefDesk\\recovery``;
  ``$RELIEFDESK_RECOVERY_DIR`` overrides it).
* :func:`default_dir` is where file dialogs start: the open workspace's folder, else the
  user's documents folder when the app folder is read-only (frozen bundle, ``/opt``,
  Program Files).
* :func:`find_cjk_font` finds the TrueType CJK font the PDF orders embed, on Linux or Windows.

Qt-free and cheap to import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

__all__ = [
    "CJK_FONT_FILES",
    "app_root",
    "cache_dir",
    "data_dir",
    "default_dir",
    "documents_dir",
    "find_cjk_font",
    "font_search_dirs",
    "is_frozen",
    "log_dir",
    "recovery_dir",
    "resources_dir",
    "settings_dir",
]

_SOURCE_ROOT = Path(__file__).resolve().parents[1]


def is_frozen() -> bool:
    """True in a PyInstaller (or similar) bundle."""
    return bool(getattr(sys, "frozen", False))


def app_root() -> Path:
    """The folder holding ``data/`` and ``resources/`` (source tree or frozen bundle)."""
    env = os.environ.get("RELIEFDESK_ROOT")
    if env:
        return Path(env)
    if is_frozen():
        meipass = getattr(sys, "_MEIPASS", None)
        return Path(meipass) if meipass else Path(sys.executable).resolve().parent
    return _SOURCE_ROOT


def data_dir() -> Path:
    return app_root() / "data"


def resources_dir() -> Path:
    return app_root() / "resources"


def cache_dir() -> Path:
    """``$RELIEFDESK_CACHE_DIR`` or the platform's user cache folder (``~/.cache/reliefdesk``)."""
    env = os.environ.get("RELIEFDESK_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("reliefdesk", appauthor=False))


def log_dir() -> Path:
    """``$RELIEFDESK_LOG_DIR`` or the platform's user log folder."""
    env = os.environ.get("RELIEFDESK_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir("reliefdesk", appauthor=False))


def settings_dir() -> Path:
    """``$RELIEFDESK_SETTINGS_DIR`` or the platform's roaming config folder
    (``~/.config/ReliefDesk``, ``%APPDATA%\\ReliefDesk``: where Qt kept the INI before)."""
    env = os.environ.get("RELIEFDESK_SETTINGS_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("ReliefDesk", appauthor=False, roaming=True))


def recovery_dir() -> Path:
    """``$RELIEFDESK_RECOVERY_DIR`` or ``recovery/`` in the platform's roaming user data folder
    (``~/.local/share/ReliefDesk/recovery``, ``%APPDATA%\\ReliefDesk\\recovery``)."""
    env = os.environ.get("RELIEFDESK_RECOVERY_DIR")
    if env:
        return Path(env)
    base = platformdirs.user_data_dir("ReliefDesk", appauthor=False, roaming=True)
    return Path(base) / "recovery"


def documents_dir() -> Path:
    """The user's documents folder (``~/Documents`` or its XDG/localised name; ``Documents``
    on Windows), or the home folder when there is none."""
    docs = Path(platformdirs.user_documents_dir())
    return docs if docs.is_dir() else Path.home()


def default_dir(near: Path | str | None = None, *, fallback: Path | str | None = None) -> Path:
    """The folder a file dialog starts in.

    ``near`` (the open workspace, a file or a folder) wins: its folder. Otherwise ``fallback``
    (default :func:`app_root`) when it can be written to and the app runs from source; in a
    frozen bundle, or when that folder is read-only (``/opt/reliefdesk``, Program Files), the
    user's :func:`documents_dir` instead, so nothing is offered where it cannot be saved."""
    if near is not None:
        near = Path(near)
        return near if near.is_dir() else near.parent
    folder = Path(fallback) if fallback is not None else app_root()
    if is_frozen() or not os.access(folder, os.W_OK):
        return documents_dir()
    return folder


# ------------------------------------------------------------------------------------------------
# CJK font for the PDF orders (TrueType outlines: reportlab cannot embed CFF/OpenType Noto CJK)
# ------------------------------------------------------------------------------------------------

#: File names tried in this order: WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``, Fedora
#: ``wqy-microhei-fonts``), then Windows' Microsoft YaHei, SimSun, SimHei, then WenQuanYi Zen Hei.
CJK_FONT_FILES = (
    "wqy-microhei.ttc",
    "msyh.ttc",
    "msyh.ttf",
    "simsun.ttc",
    "simhei.ttf",
    "wqy-zenhei.ttc",
)


def font_search_dirs() -> list[Path]:
    """Folders searched for :data:`CJK_FONT_FILES`, bundled fonts first."""
    dirs = [resources_dir() / "fonts"]
    if sys.platform == "win32":
        windir = os.environ.get("WINDIR") or os.environ.get("SYSTEMROOT") or r"C:\Windows"
        dirs.append(Path(windir) / "Fonts")
        local = os.environ.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    elif sys.platform == "darwin":
        dirs += [Path.home() / "Library" / "Fonts", Path("/Library/Fonts")]
    else:
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        dirs += [
            Path("/usr/share/fonts/truetype/wqy"),  # Debian/Ubuntu
            Path("/usr/share/fonts/wqy-microhei"),  # Fedora
            Path("/usr/share/fonts/wenquanyi/wqy-microhei"),  # Arch
            Path("/usr/share/fonts"),
            Path("/usr/local/share/fonts"),
            Path(data_home) / "fonts",
            Path.home() / ".fonts",
        ]
    return dirs


def find_cjk_font(explicit: Path | str | None = None) -> Path:
    """The TrueType CJK font to embed: ``explicit``, else ``$RELIEFDESK_CJK_FONT``, else the
    first of :data:`CJK_FONT_FILES` in :func:`font_search_dirs` (directly, then one or two
    folder levels down). Raises :class:`FileNotFoundError` saying what to install."""
    chosen = explicit or os.environ.get("RELIEFDESK_CJK_FONT")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise FileNotFoundError(f"CJK font {path} not found")
        return path
    dirs = [d for d in font_search_dirs() if d.is_dir()]
    for name in CJK_FONT_FILES:
        for d in dirs:
            for pattern in (name, f"*/{name}", f"*/*/{name}"):
                hit = next((p for p in d.glob(pattern) if p.is_file()), None)
                if hit is not None:
                    return hit
    raise FileNotFoundError(
        "no CJK TrueType font found for the PDF orders (looked for "
        + ", ".join(CJK_FONT_FILES)
        + "): install fonts-wqy-microhei (Debian/Ubuntu) or wqy-microhei-fonts (Fedora), "
        "or set RELIEFDESK_CJK_FONT to a TrueType .ttf/.ttc font"
    )
