"""Qt's translation pipeline: lupdate extraction keeps every translation, lrelease output loads,
Qt's own catalogue makes standard buttons Chinese, the English UI shows no Chinese."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QTranslator  # noqa: E402
from PyQt6.QtWidgets import QDialogButtonBox, QMessageBox  # noqa: E402

from gui import i18n  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import translations  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.mark.skipif(translations.find_qt_tool("lupdate") is None, reason="Qt lupdate not installed")
def test_lupdate_finds_every_string_translated() -> None:
    """Extraction by Qt's lupdate (as `make translations-update` runs it) into a copy of the .ts:
    no string without an English translation, and no translation whose source lupdate no longer
    sees (a compiled .qm would drop it and the English UI would fall back to Chinese)."""
    found = translations.check("en")
    assert found == {"untranslated": [], "vanished": []}, found


@pytest.mark.skipif(translations.find_qt_tool("lupdate") is None, reason="Qt lupdate not installed")
def test_extraction_sees_a_new_string(tmp_path: Path, monkeypatch) -> None:
    """The check is not blind: a new tr() call in the sources shows as untranslated."""
    src = tmp_path / "gui"
    shutil.copytree(ROOT / "gui", src, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "zz_new.py").write_text('"""x"""\nfrom gui.i18n import tr\ntr("一个新词")\n', "utf-8")
    monkeypatch.setattr(translations, "SOURCES", (str(src),))
    found = translations.check("en")
    assert found["untranslated"] == ["一个新词"]


@pytest.mark.skipif(
    translations.find_qt_tool("lrelease") is None, reason="Qt lrelease not installed"
)
def test_compiled_qm_translates(qapp, tmp_path: Path) -> None:
    qm = tmp_path / "en.qm"
    lrelease = translations.find_qt_tool("lrelease")
    subprocess.run(
        [lrelease, "-silent", str(translations.ts_path("en")), "-qm", str(qm)], check=True
    )
    t = QTranslator()
    assert t.load(str(qm))
    qapp.installTranslator(t)
    try:
        assert i18n.tr("文件(&F)") == "&File"
        assert i18n.tr("比例尺 1:{n:,.0f}").format(n=50000) == "Scale 1:50,000"
        assert i18n.tr("没有这个词") == "没有这个词"
    finally:
        qapp.removeTranslator(t)


def test_ts_fallback_translates_without_qm(qapp) -> None:
    t = i18n.TsTranslator(translations.ts_path("en"))
    assert t.translate(i18n.CONTEXT, "文件(&F)") == "&File"
    assert t.translate(i18n.CONTEXT, "没有这个词") is None


def test_standard_buttons_follow_the_language(qapp) -> None:
    """Qt's own catalogue (qtbase_zh_CN) words OK/Cancel/Save/Discard in the Chinese UI."""

    def texts() -> list[str]:
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Discard
        )
        out = [b.text().replace("&", "") for b in box.buttons()]
        box.deleteLater()
        return sorted(out)

    try:
        assert i18n.install_language("zh_CN") == "zh_CN"
        zh = texts()
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in zh), zh
        m = QMessageBox(QMessageBox.Icon.Question, "t", "t", QMessageBox.StandardButton.Yes)
        assert m.button(QMessageBox.StandardButton.Yes).text().replace("&", "").startswith("是")
        i18n.install_language("en")
        assert texts() == sorted(["OK", "Cancel", "Save", "Discard"]) or "Don't Save" in texts()
    finally:
        i18n.install_language("zh_CN")
