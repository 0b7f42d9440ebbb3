"""Qt's translation pipeline for ReliefDesk: extract with ``lupdate``, compile with ``lrelease``.

    python tools/translations.py update    # refresh resources/i18n/*.ts from the sources
    python tools/translations.py check     # exit 1 if a UI string lacks a translation
    python tools/translations.py release   # compile the .ts files to .qm (build step)

Extraction runs Qt's own ``lupdate`` (Debian: qt6-l10n-tools) over gui/ and app.py. The UI
marks its strings with the module function ``gui.i18n.tr("中文")``; lupdate reads a bare
``tr("…")`` as a message of the empty context, which is the context ``gui.i18n`` translates in.
``_action("…")`` (the window's action factory) is declared to lupdate as another spelling of
``tr``. Strings translated as data (enum values, headers) come from
:func:`gui.i18n_catalog.data_strings` as one generated file of literal ``tr()`` calls.
The ``.ts`` keeps no source locations (``-locations none``): the file changes only where a
message does, so branches adding strings merge cleanly.

``release`` compiles ``.qm`` files with ``lrelease``; ``.qm`` files are build products
(.gitignored). Without ``lrelease`` (a Windows checkout with only the PyPI wheels) it says so and
the app loads the ``.ts`` directly (``gui.i18n.TsTranslator``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
I18N_DIR = ROOT / "resources" / "i18n"
SOURCES = ("gui", "app.py")
#: Languages with a translation file (Chinese is the source language).
TARGETS = ("en",)


def find_qt_tool(name: str) -> str | None:
    """Path of Qt's ``lupdate``/``lrelease`` (``$LUPDATE``/``$LRELEASE``, PATH, Debian's Qt 6)."""
    env = os.environ.get(name.upper())
    if env:
        return env
    for candidate in (
        name,
        f"{name}-qt6",
        f"/usr/lib/qt6/bin/{name}",
        f"/usr/lib/qt6/libexec/{name}",
    ):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def ts_path(language: str) -> Path:
    """The translation file of ``language``."""
    return I18N_DIR / f"reliefdesk_{language}.ts"


def _data_file(directory: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.i18n_catalog import data_strings

    path = directory / "i18n_data_strings.py"
    lines = [f"tr({json.dumps(s, ensure_ascii=False)})" for s in data_strings()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_lupdate(ts: Path, *, language: str, drop_vanished: bool) -> str:
    """Update ``ts`` in place from the sources; return lupdate's report."""
    lupdate = find_qt_tool("lupdate")
    if lupdate is None:
        raise SystemExit("lupdate not found: install qt6-l10n-tools (Debian) or set $LUPDATE")
    with tempfile.TemporaryDirectory(prefix="reliefdesk-i18n-") as tmp:
        data = _data_file(Path(tmp))
        cmd = [
            lupdate,
            "-extensions",
            "py",
            "-locations",
            "none",
            "-tr-function-alias",
            "tr+=_action,tr+=tr_noop",
        ]
        cmd += ["-source-language", "zh_CN", "-target-language", language]
        if drop_vanished:
            cmd.append("-no-obsolete")
        cmd += [str(ROOT / s) for s in SOURCES] + [str(data), "-ts", str(ts)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    # lupdate reads Python "#:" comments as translator notes; ours document attributes instead.
    text = ts.read_text(encoding="utf-8")
    text = re.sub(r"\n\s*<extracomment>.*?</extracomment>", "", text, flags=re.S)
    ts.write_text(text, encoding="utf-8")
    return out.stdout + out.stderr


def problems(ts: Path) -> dict[str, list[str]]:
    """Messages of an updated ``ts`` that would show untranslated: new/unfinished, vanished."""
    out: dict[str, list[str]] = {"untranslated": [], "vanished": []}
    for msg in ET.parse(ts).getroot().iter("message"):
        src = msg.findtext("source") or ""
        t = msg.find("translation")
        kind = "" if t is None else (t.get("type") or "")
        if kind in ("vanished", "obsolete"):
            out["vanished"].append(src)
        elif t is None or kind == "unfinished" or not (t.text or "").strip():
            out["untranslated"].append(src)
    return out


def check(language: str) -> dict[str, list[str]]:
    """Extract into a copy of the ``language`` file and list what lacks a translation."""
    with tempfile.TemporaryDirectory(prefix="reliefdesk-i18n-check-") as tmp:
        copy = Path(tmp) / ts_path(language).name
        shutil.copyfile(ts_path(language), copy)
        run_lupdate(copy, language=language, drop_vanished=False)
        return problems(copy)


def release(language: str) -> str:
    """Compile the ``language`` file to ``.qm`` next to it; return what was done."""
    lrelease = find_qt_tool("lrelease")
    src = ts_path(language)
    if lrelease is None:
        return f"lrelease not found: {src.name} will be loaded directly (gui.i18n.TsTranslator)"
    qm = src.with_suffix(".qm")
    subprocess.run([lrelease, "-silent", str(src), "-qm", str(qm)], check=True)
    return f"{qm.relative_to(ROOT)} compiled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "check", "release"))
    args = parser.parse_args(argv)
    rc = 0
    for language in TARGETS:
        if args.command == "update":
            print(run_lupdate(ts_path(language), language=language, drop_vanished=True).strip())
            left = problems(ts_path(language))["untranslated"]
            if left:
                print(f"{len(left)} message(s) to translate in {ts_path(language).name}")
        elif args.command == "check":
            found = check(language)
            for kind, items in found.items():
                for s in items:
                    print(f"{ts_path(language).name}: {kind}: {s}")
            rc |= any(found.values())
        else:
            print(release(language))
    return rc


if __name__ == "__main__":
    sys.exit(main())
