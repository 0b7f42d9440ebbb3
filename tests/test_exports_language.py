"""Exports follow the chosen language (issue 13 item 5): the demo plan exported in English has
no Chinese outside names from data (PDF text by pdftotext, XLSX cells by openpyxl, the HTML
page); Chinese stays the default and keeps its Chinese labels."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from dispatch.export.bundle import export_all
from dispatch.records import OrderKind

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed"
)


def _data_names(plan: Any) -> list[str]:
    """Text from data that stays as it is in any language, longest first; with the cut forms
    ("合江县县级应急物资…") the PDF's route maps label places with."""
    names = {p.name for p in plan.places} | {plan.inputs.scenario_name}
    for o in plan.orders:
        names |= {o.unit_name, o.contact} | {s.road for leg in o.legs for s in leg.steps}
        if o.kind == OrderKind.TRANSFER:
            names.add(o.unit_type)  # a vehicle's kind is free text of the workspace
    names.discard("")
    cut = {n[:k] + "…" for n in names for k in range(1, len(n))}
    return sorted(names | cut, key=len, reverse=True)


def _chinese_left(text: str, names: list[str]) -> list[str]:
    for n in names:
        text = text.replace(n, " ")
    return CJK.findall(text)


@pytest.fixture(scope="module")
def exports(demo_plan: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("lang")
    export_all(demo_plan, out / "en", language="en")
    export_all(demo_plan, out / "zh")  # the default
    return {"en": out / "en", "zh": out / "zh"}


def _pdf_text(path: Path) -> str:
    run = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True)
    return re.sub(r"\s+", "", run.stdout.decode("utf-8"))


@needs_poppler
def test_english_pdf_has_no_chinese_outside_names(demo_plan: Any, exports: dict) -> None:
    names = [re.sub(r"\s+", "", n) for n in _data_names(demo_plan)]
    text = _pdf_text(exports["en"] / "orders.pdf")
    assert "Emergencydispatchplan" in text and "Transferorder" in text
    assert "Turnlist" in text and "Issuedby:" in text
    assert _chinese_left(text, names) == []
    # names from data are still drawn, in the embedded CJK font
    first = demo_plan.orders[0]
    assert re.sub(r"\s+", "", first.unit_name) in text
    fonts = subprocess.run(
        ["pdffonts", str(exports["en"] / "orders.pdf")], capture_output=True, text=True
    ).stdout
    assert "WenQuanYi" in fonts and " yes " in fonts.split("WenQuanYi", 1)[1].splitlines()[0]


@needs_poppler
def test_chinese_pdf_is_the_default_and_stays_chinese(exports: dict) -> None:
    text = _pdf_text(exports["zh"] / "orders.pdf")
    assert "应急调度方案" in text and "应急物资调拨单" in text and "转向指引" in text
    assert "Transferorder" not in text and "Turnlist" not in text


def test_english_xlsx_has_no_chinese_outside_names(demo_plan: Any, exports: dict) -> None:
    names = _data_names(demo_plan)
    wb = load_workbook(exports["en"] / "orders.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["Plan summary", "Unmet or late", "Safety stock released"]
    left: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    left.update(_chinese_left(v, names))
    assert left == set()
    summary = wb["Plan summary"]
    header = [c.value for c in next(summary.iter_rows(max_row=1))]
    assert header[:4] == ["Order no.", "Type", "Unit id", "Vehicle/team"]
    kinds = {r[1] for r in summary.iter_rows(min_row=2, values_only=True) if len(r) > 1}
    assert {"Transfer order", "Deployment order"} <= kinds


def test_chinese_xlsx_keeps_chinese_sheets(exports: dict) -> None:
    wb = load_workbook(exports["zh"] / "orders.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["方案汇总", "未满足或迟到", "动用安全库存"]
    header = [c.value for c in next(wb["方案汇总"].iter_rows(max_row=1))]
    assert header[:2] == ["指令编号", "类型"]


def test_english_html_has_no_chinese_outside_names(demo_plan: Any, exports: dict) -> None:
    html = (exports["en"] / "plan.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and '"Dispatch plan "' in html
    assert _chinese_left(html, _data_names(demo_plan)) == []
    zh = (exports["zh"] / "plan.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and '"调度方案 "' in zh and "Dispatch plan" not in zh


def test_english_csv_and_other_files(exports: dict) -> None:
    """The language-free files are the same in both languages."""
    for name in ("plan.json", "plan.geojson"):
        assert (exports["en"] / name).read_bytes() == (exports["zh"] / name).read_bytes()
    head = (exports["en"] / "plan.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith("Order no.,Type")


def test_order_texts_in_english_keep_the_names(demo_plan: Any) -> None:
    """Tasks and notes dispatch.orders writes in Chinese come out in English with their names."""
    from dispatch.export.common import note_text, task_text
    from gis.phrases import resay

    deploy = next(o for o in demo_plan.orders if o.kind == OrderKind.DEPLOY)
    place = demo_plan.place_name(deploy.destination_ids[0])
    text = task_text(demo_plan, deploy, "en")
    assert text.startswith(f"Go to {place} for ") and not CJK.findall(text.replace(place, ""))
    assert task_text(demo_plan, deploy) == deploy.task  # Chinese: as dispatch.orders wrote it
    note = "第 2 站 王家村 晚于时限约 12 分钟送达"
    assert note_text(note, "en") == "Stop 2 王家村 is reached about 12 min after its deadline"
    assert note_text(note) == note
    assert resay("不是模板", "en", ("共 {n} 趟（返回装货后再次出发）",)) == "不是模板"
