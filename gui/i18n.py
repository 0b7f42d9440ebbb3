"""User-interface language: Chinese (zh_CN) by default, English switchable without a restart.

Source strings in the code are the Chinese texts, wrapped in :func:`tr` (Qt's
``QCoreApplication.translate`` in the empty context, which is where Qt's ``lupdate`` files a
bare ``tr("…")`` call) or marked with :func:`tr_noop` where a literal is translated later.
The pipeline is Qt's own (``tools/translations.py``, ``make translations``):

- ``lupdate`` extracts into ``resources/i18n/reliefdesk_en.ts`` (Qt Linguist format);
- ``lrelease`` compiles ``reliefdesk_en.qm`` at build time (``.qm`` files are not versioned);
- a stock :class:`QTranslator` loads the ``.qm``. Where no ``lrelease`` exists (a Windows
  checkout with only the PyPI wheels) or the ``.ts`` is newer than the ``.qm``, the ``.ts`` is
  loaded directly by :class:`TsTranslator`, a small dict-backed :class:`QTranslator`.

In the Chinese UI, Qt's own catalogue (``qtbase_zh_CN.qm`` from the Qt translations folder)
translates standard buttons (OK/Cancel/Yes/No/Save/Discard) and the file dialogs; the English UI
loads none. :func:`install_language` swaps the translators; ``MainWindow.set_language`` then
re-words the open window (:func:`gui.retranslate.retranslate_window`): no restart.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

from gis.paths import resources_dir
from gis.phrases import load_warning_text, progress_text, reason_text, word

I18N_DIR = resources_dir() / "i18n"
#: The translation context of :func:`tr`: lupdate files bare ``tr("…")`` calls under "".
CONTEXT = ""
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
#: Qt's own catalogues loaded for a language (standard buttons, file and colour dialogs).
QT_CATALOGUES = ("qtbase",)


def tr(text: str) -> str:
    """Translate a Chinese UI string for the current language.

    Domain words the plain-Python outputs share (units, skills, incident types, reasons) have
    their one English definition in :data:`gis.phrases.EN`; a word the Qt translation does
    not hold is looked up there."""
    out = QCoreApplication.translate(CONTEXT, text)
    if out == text and _language != "zh_CN":
        return word(text, _language)
    return out


def tr_progress(message: str) -> str:
    """A background job's progress message in the current language: the Qt translation of
    the whole text, else the plain-Python services' phrases (:func:`gis.phrases.progress_text`:
    ``stage：step``, templates with values, materials by :func:`set_material_names`), else its
    parts as reasons."""
    if not message or _language == "zh_CN":
        return message
    out = QCoreApplication.translate(CONTEXT, message)
    if out != message:
        return out
    out = progress_text(message, _language, _material_names)
    return out if out != message else reason_text(message, _language)


def set_material_names(materials: Iterable[Any]) -> None:
    """The open workspace's materials, so progress messages name them in English (``name_en``)
    in the English UI."""
    global _material_names
    _material_names = {m.name_zh: m.name_en for m in materials if m.name_en}


def tr_warning(text: str, material_names: Mapping[str, str] | None = None) -> str:
    """A warning of an opened workspace in the current language (see
    :func:`gis.phrases.load_warning_text`; ``material_names``: code → English name)."""
    return load_warning_text(text, _language, material_names)


def tr_noop(text: str) -> str:
    """Mark a literal for extraction without translating it now (Qt's ``QT_TR_NOOP``)."""
    return text


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
    """A translator reading a Qt ``.ts`` file (the fallback when no ``lrelease`` compiled it)."""

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
        if text is None and not context:
            text = self._by_source.get(source_text)
        return text

    def isEmpty(self) -> bool:  # noqa: N802 - Qt override
        return not self.table


def app_translator(language: str) -> QTranslator | None:
    """ReliefDesk's translator for ``language``: the compiled ``.qm`` when it is up to date,
    else the ``.ts`` itself; None for Chinese (the source language) or when neither exists."""
    if language == "zh_CN":
        return None
    qm = I18N_DIR / f"reliefdesk_{language}.qm"
    ts = I18N_DIR / f"reliefdesk_{language}.ts"
    if qm.exists() and (not ts.exists() or qm.stat().st_mtime >= ts.stat().st_mtime):
        translator = QTranslator()
        if translator.load(str(qm)):
            return translator
    if ts.exists():
        return TsTranslator(ts)
    return None


def qt_translators(language: str) -> list[QTranslator]:
    """Qt's own catalogues for ``language`` (none for English: Qt's source language)."""
    if language == "en":
        return []
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    out = []
    for name in QT_CATALOGUES:
        t = QTranslator()
        if t.load(f"{name}_{language}", folder):
            out.append(t)
    return out


_installed: list[QTranslator] = []
_language = "zh_CN"
_material_names: dict[str, str] = {}


def current_language() -> str:
    """The language in force (``zh_CN`` or ``en``)."""
    return _language


def install_language(language: str) -> str:
    """Install the translators for ``language`` (``zh_CN`` or ``en``); return the one in force.

    An unknown language, or one whose translation file is missing, gives Chinese."""
    global _language
    app = QCoreApplication.instance()
    if app is None:
        return "zh_CN"
    if language not in LANGUAGES:
        language = "zh_CN"
    own = app_translator(language)
    if own is None and language != "zh_CN":
        language = "zh_CN"
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    for t in [*qt_translators(language), *([own] if own is not None else [])]:
        app.installTranslator(t)
        _installed.append(t)
    _language = language
    return language
