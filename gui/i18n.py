"""User-interface language: Chinese (zh_CN) by default, English switchable.

Source strings in the code are the Chinese texts, wrapped in :func:`tr` (context ``ReliefDesk``).
The English translations live in a standard Qt Linguist file, ``resources/i18n/reliefdesk_en.ts``
(editable in Qt Linguist; ``pylupdate6`` can refresh it). Qt's ``lrelease`` is not available on
this platform's PyPI wheels, so instead of compiling a ``.qm`` the app loads the ``.ts`` directly
with :class:`TsTranslator`, a :class:`QTranslator` subclass backed by a dict. If a compiled
``reliefdesk_en.qm`` is present next to it, the stock QTranslator loads that instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QTranslator

from gis.paths import resources_dir

I18N_DIR = resources_dir() / "i18n"
CONTEXT = "ReliefDesk"
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}


def tr(text: str) -> str:
    """Translate a Chinese UI string for the current language."""
    return QCoreApplication.translate(CONTEXT, text)


def read_ts(path: Path) -> dict[tuple[str, str], str]:
    """``{(context, source): translation}`` of a Qt ``.ts`` file (unfinished entries skipped)."""
    out: dict[tuple[str, str], str] = {}
    root = ET.parse(path).getroot()
    for ctx in root.iter("context"):
        name = (ctx.findtext("name") or "").strip()
        for msg in ctx.iter("message"):
            src = msg.findtext("source")
            tnode = msg.find("translation")
            if src is None or tnode is None or not (tnode.text or "").strip():
                continue
            if tnode.get("type") in ("unfinished", "obsolete", "vanished"):
                continue
            out[(name, src)] = tnode.text or ""
    return out


class TsTranslator(QTranslator):
    """A translator reading a Qt ``.ts`` file (no ``lrelease`` needed)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.table = read_ts(self.path)
        self._by_source = {src: text for (_ctx, src), text in self.table.items()}

    def translate(  # noqa: D401 - Qt override
        self,
        context: str | None,
        source_text: str | None,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str | None:
        # None becomes a null QString: "no translation here", so Qt falls back to the source.
        if source_text is None:
            return None
        text = self.table.get((context or "", source_text))
        if text is None:
            text = self._by_source.get(source_text)
        return text

    def isEmpty(self) -> bool:  # noqa: N802 - Qt override
        return not self.table


_installed: QTranslator | None = None


def install_language(language: str) -> str:
    """Install the translator for ``language`` (``zh_CN`` or ``en``); return the one in force."""
    global _installed
    app = QCoreApplication.instance()
    if app is None:
        return "zh_CN"
    if _installed is not None:
        app.removeTranslator(_installed)
        _installed = None
    if language not in LANGUAGES or language == "zh_CN":
        return "zh_CN"
    qm = I18N_DIR / f"reliefdesk_{language}.qm"
    ts = I18N_DIR / f"reliefdesk_{language}.ts"
    translator: QTranslator
    if qm.exists():
        translator = QTranslator()
        if not translator.load(str(qm)):
            return "zh_CN"
    elif ts.exists():
        translator = TsTranslator(ts)
    else:
        return "zh_CN"
    app.installTranslator(translator)
    _installed = translator
    return language
