"""The Qt-free phrase table (gis/phrases.py): the plan summary in English on the demo plan,
Chinese unchanged by default, and every vocabulary word of the bundled data has its English."""

from __future__ import annotations

import re

from dispatch.planning.stock import CATEGORY_SUBTYPE
from dispatch.results import Reason, Status
from dispatch.summary import summary_text
from dispatch.timeliness import NeedState
from gis.catalogue import load_materials, load_plan_templates
from gis.phrases import EN, reason_text, say, word, words
from gis.vocabulary import STANDARD_SKILLS, DemandKind, ShelterClass, ShelterSetting, StockpileLevel

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _without_data(text: str, names: set[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    return text


def test_every_vocabulary_word_of_the_data_has_english() -> None:
    materials = load_materials()
    vocab = {m.unit for m in materials} | {m.category for m in materials}
    vocab |= set(STANDARD_SKILLS) | set(load_plan_templates()) | set(CATEGORY_SUBTYPE)
    vocab |= set(CATEGORY_SUBTYPE.values())
    for enum in (StockpileLevel, ShelterSetting, ShelterClass, DemandKind, Reason, NeedState):
        vocab |= {s.value for s in enum}
    vocab |= {s.label_zh for s in Status}
    missing = sorted(w for w in vocab if w not in EN)
    assert not missing, missing
    assert all(m.name_en for m in materials), "catalogue items without an English name"
    for zh, en in EN.items():
        assert not CJK.search(en), (zh, en)
        assert set(re.findall(r"\{[^}]*\}", zh)) == set(re.findall(r"\{[^}]*\}", en)), zh


def test_words_and_reasons() -> None:
    assert word("顶", "en") == "pcs" and word("顶") == "顶"
    assert word("福宝镇", "en") == "福宝镇"  # data stays as it is
    assert words(["水域救援", "人员转移"], "en") == "Water rescue, Evacuation"
    assert words(["水域救援", "人员转移"]) == "水域救援、人员转移"
    assert say("避难场所补给 {n} 处", "en", n=3) == "Shelters supplied: 3"
    assert reason_text("迟到 12 分钟（时限 45 分钟）", "en") == "late 12 min (deadline 45 min)"
    assert reason_text("车辆路径：路径规划完成", "en") == "Vehicle routing: routing done"  # progress
    assert reason_text("已分配但未装车：无可用车辆、库存不足", "en") == (
        "allocated but not loaded: No vehicle available; Out of stock"
    )
    assert reason_text("缺少 帐篷：库存不足", "en", {"缺少 帐篷：库存不足": "short of tents"}) == (
        "short of tents"
    )


def test_summary_in_english_on_the_demo_plan(demo_plan) -> None:
    plan = demo_plan
    zh = summary_text(plan, max_unserved=50)
    assert zh.startswith(f"调度方案 {plan.number}")
    en = summary_text(plan, max_unserved=50, language="en")
    assert en.startswith(f"Dispatch plan {plan.number}")
    assert "Materials: served" in en and "Vehicles used" in en
    names = {p.name for p in plan.places} | {o.name for o in plan.incidents}
    names |= {plan.inputs.scenario_name, *plan.inputs.notes}
    names |= {u.message_zh for u in plan.unserved if not u.message_en}
    left = [ln for ln in en.splitlines() if CJK.search(_without_data(ln, names))]
    assert not left, left
    # item names from the catalogue's English names
    codes = {ln.material for ln in plan.allocation}
    assert any(plan.material_label(c, "en") in en for c in codes) or "Every need" in en


def test_csv_export_in_english_on_request(demo_plan, tmp_path) -> None:
    import csv

    from dispatch.export.bundle import export_all
    from dispatch.export.csv import CSV_HEADER, export_csv

    def rows(path) -> list[list[str]]:
        return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))

    zh = rows(export_csv(demo_plan, tmp_path / "zh.csv"))
    assert zh[0] == list(CSV_HEADER)  # Chinese for the teams by default
    en = rows(export_csv(demo_plan, tmp_path / "en.csv", language="en"))
    assert en[0][:3] == ["Order no.", "Type", "Unit id"]
    assert len(en) == len(zh)
    names = {p.name for p in demo_plan.places} | {o.unit_name for o in demo_plan.orders}
    for row in en[1:]:
        assert row[1] in ("Transfer order", "Deployment order")
        assert not CJK.search(_without_data(" ".join(row), names)), row
    files = export_all(demo_plan, tmp_path / "out", language="en")
    assert files["plan.csv"].read_text(encoding="utf-8-sig").startswith("Order no.")


def test_placement_warnings_in_english(demo_scenario) -> None:
    from gis.placement import check_incident_location

    zh = check_incident_location(demo_scenario, None, 100.0, 25.0)
    en = check_incident_location(demo_scenario, None, 100.0, 25.0, language="en")
    assert zh and zh[0].startswith("事发点在县界外")
    assert en == (
        f"The incident is outside the county ({demo_scenario.name}); dispatch may not reach it,"
        " check the coordinates",
    )
    assert check_incident_location(demo_scenario, None, "x", 1, language="en")[0].startswith(
        "Invalid coordinates"
    )
