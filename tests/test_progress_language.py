"""Progress messages of the Qt-free services and the planner warnings of an opened workspace
follow the UI language: English in the English UI (names from data kept), Chinese unchanged."""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from gis.phrases import load_warning_text, progress_text
from gis.workspace import read_workspace, validate_scenario, write_workspace

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: Names of the callbacks services report progress through (``fn(fraction, message)``).
PROGRESS_CALLS = {"progress", "_progress", "say", "sub", "p", "report"}


def held_short(warnings: list[str], code: str) -> bool:
    return any(w.startswith("所有未结束事件共需") and f"（{code}）" in w for w in warnings)


def chinese_left(text: str, names: set[str]) -> bool:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return bool(CJK.search(text))


def _sample(node: ast.expr) -> str | None:
    """The text a literal or f-string message makes, its values filled with ``7``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "7" for v in node.values)
    return None


def progress_literals() -> list[tuple[str, str]]:
    """``(where, message)`` of every Chinese message a service passes to a progress callback."""
    out = []
    files = [
        *(ROOT / "gis").rglob("*.py"),
        *(ROOT / "dispatch").rglob("*.py"),
        *(ROOT / "gui" / "services").glob("*.py"),
    ]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) != 2:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            if name not in PROGRESS_CALLS or _sample(node.args[0]) is not None:
                continue
            text = _sample(node.args[1])
            if text and CJK.search(text):
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return out


def test_every_service_progress_message_has_english() -> None:
    found = progress_literals()
    assert len(found) > 30  # the scan sees the services' messages
    for where, text in found:
        assert progress_text(text, "zh_CN") == text
        assert not CJK.search(progress_text(text, "en")), f"{where}: {text}"


def test_composed_progress_messages() -> None:
    from gis.matrix.engine import PREP_TEXT

    prep = f"路网与行程时间：{PREP_TEXT}节点排序（5,912 个核心节点）"
    assert progress_text(prep, "en") == (
        "Road network and travel times: Preprocessing the road network… ordering nodes"
        " (5,912 core nodes)"
    )
    assert progress_text("车辆路径：PyVRP：SP-001 路径优化", "en") == (
        "Vehicle routing: PyVRP: optimising the routes from SP-001"
    )
    assert progress_text("福宝镇：转移", "en") == "福宝镇: evacuation"  # a site name stays
    assert progress_text("福宝镇：人员", "en") == "福宝镇: staff"
    from dispatch.timeliness import NeedKind

    for kind in NeedKind:  # dispatch.relax reports "site：kind"
        assert not chinese_left(progress_text(f"福宝镇：{kind.value}", "en"), {"福宝镇"})
    assert progress_text("Reading roads", "en") == "Reading roads"
    assert progress_text(prep, "zh_CN") == prep


@pytest.fixture
def problem_workspace(tmp_path: Path, demo_scenario) -> Path:
    """The demo county with planner problems: a stockpile without vehicles, a full shelter,
    an incident needing a skill no standby team has and more of a material than the county
    holds."""
    s = demo_scenario
    sp = dataclasses.replace(s.stockpiles[0], vehicles=())
    sh = next(h for h in s.shelters if h.capacity > 10)
    sh = dataclasses.replace(sh, occupancy=sh.capacity)
    held: dict[str, float] = {}
    for p in s.stockpiles:
        for code, q in p.inventory.items():
            held[code] = held.get(code, 0) + q
    code = min((c for c, q in held.items() if q > 0), key=held.__getitem__)
    inc = s.open_incidents()[0]
    inc = dataclasses.replace(
        inc,
        required_skills={**inc.required_skills, "心理援助": 1},
        needs={**inc.needs, code: held[code] * 10},
    )
    teams = tuple(
        dataclasses.replace(t, skills=tuple(k for k in t.skills if k != "心理援助"))
        for t in s.teams
    )
    scenario = dataclasses.replace(s.upsert(sp).upsert(sh).upsert(inc), teams=teams)
    path = tmp_path / "problems.gpkg"
    write_workspace(path, scenario)
    return path


def test_load_warnings_in_english(problem_workspace: Path) -> None:
    ws = read_workspace(problem_workspace, include_roads=False)
    s = ws.scenario
    zh = [w for w in ws.warnings if CJK.search(w)]
    assert zh == validate_scenario(s)  # the Chinese warnings, as before
    assert any("没有车辆" in w for w in zh) and any("心理援助" in w for w in zh)
    assert any("超过 90%" in w for w in zh)
    english = {m.code: m.name_en for m in s.materials}
    names = {
        e.name
        for kind in ("stockpiles", "shelters", "teams", "incidents")
        for e in getattr(s, kind)
    }
    for w in ws.warnings:
        assert load_warning_text(w, "zh_CN", english) == w
        en = load_warning_text(w, "en", english)
        assert not chinese_left(en, names), en
    texts = [load_warning_text(w, "en", english) for w in zh]
    assert any("has no vehicles" in t for t in texts)
    assert any('needs the skill "Psychological support"' in t for t in texts)
    material = next(m for m in s.materials if held_short(zh, m.code))
    assert any(f"need {material.name_en} ({material.code})" in t for t in texts), texts


def progress_of(qtbot, runner, fn) -> list[str]:
    """The progress messages a desk job running ``fn`` shows."""
    seen: list[str] = []
    job = runner.start("dispatch", fn)
    job.sig_progress.connect(lambda _f, m: seen.append(m))
    qtbot.waitUntil(lambda: job.done, timeout=60000)
    qtbot.wait(50)  # queued progress signals
    return seen


@pytest.mark.gui
def test_english_ui_words_a_dispatch_job_and_load_warnings(
    qapp, qtbot, tmp_path: Path, monkeypatch, demo_scenario, demo_network, problem_workspace
) -> None:
    pytest.importorskip("PyQt6.QtWebEngineWidgets")
    from dispatch.pipeline import DispatchOptions, plan_dispatch
    from gui import i18n
    from gui.workers import JobRunner
    from tests.gui_fixtures import close_window

    def run(data, *, stop, progress):
        return plan_dispatch(
            demo_scenario, demo_network, DispatchOptions(seconds=1.0), stop=stop, progress=progress
        )

    i18n.set_material_names(demo_scenario.materials)  # as the desk does for the open workspace
    names = {m.name_zh for m in demo_scenario.materials if not m.name_en}
    allocated = {f"Allocation: {m.name_en} allocated" for m in demo_scenario.materials}
    try:
        for language in ("en", "zh_CN"):
            assert i18n.install_language(language) == language
            seen = progress_of(qtbot, JobRunner(), run)
            assert any(m.startswith(("Allocation", "物资分配")) for m in seen)
            if language == "en":
                left = [m for m in seen if chinese_left(m, names)]
                assert not left, left
                assert "Vehicle routing: routing done" in seen
                assert allocated & set(seen)  # materials by their English names
            else:
                assert "车辆路径：路径规划完成" in seen

        # the desk's message log in English: the planner warnings of the opened workspace
        from gui.main_window import MainWindow

        monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
        monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
        ws = tmp_path / "open.gpkg"
        shutil.copy(problem_workspace, ws)
        i18n.install_language("en")
        w = MainWindow(interactive=False)
        try:
            w.set_language("en")
            w.open_workspace(ws)
            panel = w.messages
            qtbot.waitUntil(lambda: panel.count_by_level.get("warning", 0) > 0, timeout=60000)
            texts = [panel.topLevelItem(i).text(2) for i in range(panel.topLevelItemCount())]
            assert any("has no vehicles" in t for t in texts), texts
            assert not any("没有车辆" in t for t in texts)
        finally:
            close_window(w)
    finally:
        i18n.install_language("zh_CN")
