"""Monitoring on hazards (gis/monitoring.py): thresholds per colour, readings in and out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from gis.errors import DataImportError
from gis.monitoring import (
    Monitor,
    MonitoringError,
    proposal,
    read_monitors,
    read_readings,
    with_monitor,
)

RAIN = {"blue": 30.0, "yellow": 50.0, "orange": 80.0, "red": 120.0}


def test_thresholds_and_proposal() -> None:
    m = Monitor("HZ-005", "rainfall", RAIN)
    assert proposal(m) is None  # no reading yet
    m = m.with_reading(datetime(2026, 7, 12, 8), 20.0)
    assert proposal(m) is None  # under blue
    m = m.with_reading(datetime(2026, 7, 12, 10), 95.5)
    p = proposal(m)
    assert p is not None and p.colour == "orange" and p.threshold == 80.0 and p.value == 95.5
    assert "橙色" in p.text
    # the latest reading counts, not the highest: the rain eased
    m = m.with_reading(datetime(2026, 7, 12, 11), 40.0)
    assert proposal(m).colour == "blue"  # type: ignore[union-attr]
    # an earlier reading entered later is sorted in by time
    m = m.with_reading(datetime(2026, 7, 12, 9), 130.0)
    assert proposal(m).colour == "blue"  # type: ignore[union-attr]
    assert m.colour_for(130.0) == "red"
    with pytest.raises(MonitoringError, match="rise with the colour"):
        Monitor("HZ-005", "rainfall", {"blue": 50.0, "yellow": 30.0})
    with pytest.raises(MonitoringError, match="rainfall/water_level/displacement/gas"):
        Monitor("HZ-005", "wind", RAIN)
    # a partial set of thresholds: only red
    only_red = Monitor("HZ-001", "displacement", {"red": 10.0})
    assert only_red.colour_for(9.9) is None and only_red.colour_for(10.0) == "red"


def test_readings_from_csv_and_xlsx(tmp_path: Path) -> None:
    csv_path = tmp_path / "rain.csv"
    csv_path.write_text(
        "福宝镇雨量站 2026年7月\n时间,雨量读数,数值\n"
        "2026年7月12日 8:00,,12.5\n2026-07-12 09:00,,48\n合计,,60.5\n",
        encoding="gb18030",
    )
    got = read_readings(csv_path)
    assert got == ((datetime(2026, 7, 12, 8), 12.5), (datetime(2026, 7, 12, 9), 48.0))
    wb = Workbook()
    ws = wb.active
    ws.append(["监测时间", "读数"])
    ws.append([datetime(2026, 7, 12, 10), 81])
    ws.append(["2026/7/12 11:00", "130"])
    xlsx = tmp_path / "rain.xlsx"
    wb.save(xlsx)
    got = read_readings(xlsx)
    assert got == ((datetime(2026, 7, 12, 10), 81.0), (datetime(2026, 7, 12, 11), 130.0))
    m = Monitor("HZ-005", "rainfall", RAIN).with_readings(got)
    assert proposal(m).colour == "red"  # type: ignore[union-attr]
    bad = tmp_path / "bad.csv"
    bad.write_text("时间,数值\n2026-07-12 08:00,很多\n", encoding="utf-8")
    with pytest.raises(DataImportError, match="row 2"):
        read_readings(bad)


def test_monitors_stored_in_the_workspace(demo_copy: Path, demo_ws: Any) -> None:
    from gis.workspace import read_workspace, write_workspace

    assert read_monitors(demo_ws.documents) == ()  # a workspace from before monitoring opens
    m = Monitor("HZ-005", "water_level", {"yellow": 3.0, "red": 4.5}).with_reading(
        datetime(2026, 7, 12, 8, 30), 3.2
    )
    write_workspace(
        demo_copy,
        demo_ws.scenario,
        road_nodes=demo_ws.road_nodes,
        road_edges=demo_ws.road_edges,
        documents=with_monitor(demo_ws.documents, m),
    )
    back = read_monitors(read_workspace(demo_copy, include_roads=False).documents)
    assert back == (m,)
    assert proposal(back[0]).colour == "yellow"  # type: ignore[union-attr]


def test_warning_lift_and_escalate() -> None:
    from gis.event_log import log_entries
    from gis.hazard_warnings import (
        HazardWarning,
        WarningError,
        escalated,
        read_warnings,
        with_lifted,
        with_warning,
    )

    t0 = datetime(2026, 7, 12, 8)
    w = HazardWarning("YJ-1", "yellow", t0, datetime(2026, 7, 12, 20), ("HZ-005",))
    docs = with_warning({}, w)
    new, docs = escalated(docs, "YJ-1", "red", at=datetime(2026, 7, 12, 10))
    states = {x.id: x.state for x in read_warnings(docs)}
    assert states == {"YJ-1": "已升级", new.id: "生效"}
    assert new.level == 1 and new.hazard_ids == ("HZ-005",)
    assert new.valid_until - new.issued_at == w.valid_until - w.issued_at
    with pytest.raises(WarningError, match="higher colour"):
        escalated(docs, new.id, "orange", at=datetime(2026, 7, 12, 11))
    docs = with_lifted(docs, new.id, at=datetime(2026, 7, 12, 18))
    assert {x.id: x.state for x in read_warnings(docs)}[new.id] == "已解除"
    assert [e["to"] for e in log_entries(docs)] == ["红色预警", "已解除"]
    with pytest.raises(WarningError, match="not in force"):
        with_lifted(docs, new.id, at=datetime(2026, 7, 12, 19))
    with pytest.raises(WarningError, match="blue\\|yellow\\|orange\\|red"):
        HazardWarning("YJ-2", "purple", t0, datetime(2026, 7, 13), ("HZ-001",))
