"""Switching the desk to English with no restart, on the demo county with a plan shown: no
Chinese is left outside names and texts from the data; switching back gives Chinese again."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from gui import i18n, map_page  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.retranslate import ui_texts  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402

pytestmark = pytest.mark.gui
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
#: Widgets that keep a record of what happened (entries stay in the language they were made in).
RECORDS = ("MessagePanel", "EventLogPanel")


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, tuple | list | frozenset | set):
        return set().union(*(_strings(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return (
            set().union(*(_strings(v) for v in (*value.keys(), *value.values())))
            if value
            else set()
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return set().union(*(_strings(getattr(value, f.name)) for f in dataclasses.fields(value)))
    return set()


def data_texts(window: MainWindow, plan) -> set[str]:
    """Names and free texts from the workspace and the plan: the allow-list."""
    s = window.session.scenario
    out = {s.name, str(window.session.path), *i18n.LANGUAGES.values()}
    kinds = ("stockpiles", "shelters", "teams", "incidents", "hazards", "closures")
    for kind in (*kinds, "demand_points", "candidate_sites"):
        for e in getattr(s, kind):
            for f in (
                "id",
                "name",
                "description",
                "contact",
                "leader",
                "phone",
                "reason",
                "township",
                "note",
            ):
                v = getattr(e, f, None)
                if isinstance(v, str):
                    out.add(v)
    out |= _strings(dict(s.metadata))
    for v in list(out):  # credits are shown one by one
        out |= {p.strip() for p in re.split(r"[；;]", v)}
    out |= set().union(*(_strings(sp.vehicles) for sp in s.stockpiles))  # vehicle names, kinds
    out |= {t.name for t in s.townships}
    out |= {p.name for p in plan.places} | {o.name for o in plan.incidents}
    out |= {plan.inputs.scenario_name, *plan.inputs.notes}
    out |= {u.message_zh for u in plan.unserved if not u.message_en}
    return {t for t in out if t and CJK.search(t)}


def chinese_left(window: MainWindow, allowed: set[str]) -> list[str]:
    ordered = sorted(allowed, key=len, reverse=True)
    left = set()
    for obj, what, text in ui_texts(window):
        if any(type(p).__name__ in RECORDS for p in (obj, obj.parent())):
            continue
        rest = text
        for name in ordered:
            if name in rest:
                rest = rest.replace(name, "")
        if CJK.search(rest):
            left.add(f"{what}: {text[:80]}")
    return sorted(left)


def test_switch_to_english_and_back_without_restart(
    qapp, qtbot, tmp_path: Path, monkeypatch, demo_workspace_path: Path, demo_plan
) -> None:
    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws)
    i18n.install_language("zh_CN")
    w = MainWindow(interactive=False)
    try:
        w.resize(1400, 900)
        w.show()
        w.open_workspace(ws)
        qtbot.waitUntil(lambda: w.map.ready and w.session.network is not None, timeout=60000)
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=30000)
        w.dispatch_panel.set_plan(demo_plan)
        assert w.file_menu.title() == "文件(&F)"
        assert "调度方案" in w.dispatch_panel.overview.toPlainText()

        w.set_language("en")
        assert i18n.current_language() == "en"
        assert w.file_menu.title() == "&File"
        assert w.table_docks["incidents"].windowTitle() == "Incidents"
        assert w.dispatch_panel.overview.toPlainText().startswith("Dispatch plan")
        left = chinese_left(w, data_texts(w, demo_plan))
        assert not left, "\n".join(left)
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=30000)  # the map page rebuilt
        # the map's popups, tooltips and glyphs are worded by the page builder
        s = w.session.scenario
        allowed = sorted(data_texts(w, demo_plan), key=len, reverse=True)
        points = [
            *map_page.shelter_points(s),
            *map_page.stockpile_points(s),
            *map_page.team_points(s),
            *map_page.incident_points(s),
        ]
        assert {p["glyph"] for p in points} >= {"S", "D", "T", "II"}
        for p in points:
            for text in (html.unescape(p["popup"]), html.unescape(p["tip"])):
                rest = text
                for name in allowed:
                    rest = rest.replace(name, "")
                assert not CJK.search(rest), text

        w.set_language("zh_CN")
        assert w.file_menu.title() == "文件(&F)"
        assert w.table_docks["incidents"].windowTitle() == "突发事件"
        assert w.dispatch_panel.overview.toPlainText().startswith("调度方案")
        assert w.settings.value("ui/language") == "zh_CN"
    finally:
        i18n.install_language("zh_CN")
        close_window(w)


def test_editors_in_english_keep_the_data_values(qapp, demo_scenario) -> None:
    """Combo boxes and skill lists show English words, the entities keep the Chinese values."""
    from gis.catalogue import load_plan_templates
    from gui.editors import IncidentDialog, TeamDialog, default_entity

    s = demo_scenario
    data = {m.name_zh for m in s.materials} | {t.name for t in s.townships}
    try:
        assert i18n.install_language("en") == "en"
        team = next(t for t in s.teams if t.skills)
        dlg = TeamDialog(s, team)
        seat = s.townships[0].location
        inc = default_entity("incidents", "INC-9997", seat.lon, seat.lat, s)
        idlg = IncidentDialog(s, inc, load_plan_templates(), is_new=True)
        for d in (dlg, idlg):
            allowed = data | {team.name, team.leader, team.phone, *(v.name for v in team.vehicles)}
            allowed |= {v.kind for v in team.vehicles}
            for _obj, what, text in ui_texts(d):
                rest = text
                for name in sorted(allowed, key=len, reverse=True):
                    rest = rest.replace(name, "") if name else rest
                assert not CJK.search(rest), f"{type(d).__name__} {what}: {text}"
        assert set(dlg.build().skills) == set(team.skills)  # Chinese skills kept
        idlg.subtype.setCurrentIndex(idlg.subtype.findData("山洪"))
        assert idlg.subtype.currentText() == "Flash flood"
        assert idlg.build().subtype == "山洪"
        dlg.close()
        idlg.close()
    finally:
        i18n.install_language("zh_CN")
