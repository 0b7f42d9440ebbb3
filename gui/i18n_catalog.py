"""The UI strings the GUI translates as *data* (``tr(variable)``), for the translation extractor.

Qt's ``lupdate`` finds literal calls — ``tr("中文")`` and ``_action("中文", …)`` — in the sources.
Strings that reach :func:`gui.i18n.tr` through a variable (enum values, table headers, layer
names, combo-box choices defined once in gis/ or dispatch/) are invisible to it;
:func:`data_strings` lists them from their one definition, and ``tools/translations.py``
hands them to ``lupdate`` as one generated file. A new ``tr(variable)`` whose values are not
listed here makes ``tests/test_translations.py`` fail (its translation would be "vanished").
Strings :data:`gis.phrases.EN` defines (domain words shared with the plain-Python outputs) are
left out: :func:`gui.i18n.tr` finds their English there.
"""

from __future__ import annotations

from collections.abc import Iterator


def data_strings() -> list[str]:
    """Every Chinese UI string passed to ``tr()`` as data, in a stable order, without repeats."""
    from gis.phrases import EN

    seen: dict[str, None] = {}
    for s in _iter_data_strings():
        if s and s not in seen and s not in EN:
            seen[s] = None
    return list(seen)


def _iter_data_strings() -> Iterator[str]:
    from dispatch.drills import review_cli
    from dispatch.drills.script import KIND_ZH
    from dispatch.plan import PARTIAL_TEXTS, TRANSITIONS
    from dispatch.planning.sites import SITE_MODELS
    from dispatch.records import PlanStatus
    from dispatch.results import Reason, Status
    from dispatch.summary import INCIDENT_COLUMNS
    from dispatch.timeliness import NeedState
    from gis.basemap import ONLINE_SOURCES
    from gis.credits import GENERATED_ROADS_CREDIT, OSM_CREDIT
    from gis.hazard_warnings import COLOUR_ZH, WARNING_STATES
    from gis.model import ForceType, IncidentCategory, IncidentStatus, TeamStatus
    from gis.monitoring import QUANTITIES
    from gis.vocabulary import CANDIDATE_KIND_ZH, LEVEL_NAME_ZH, DemandKind
    from gui.docks import drill_panel
    from gui.docks.dispatch_panel import DEADLINE_CHOICES, ENGINE_CHOICES, STEP_BUTTONS, TAB_TITLES
    from gui.entity_form import VehiclesEditor
    from gui.import_dialog import _IGNORE, CRS_CHOICES, FILE_FILTER, KIND_NAMES
    from gui.incident_form import COORD_SYSTEMS
    from gui.map_page import LAYERS, ROAD_CLASSES
    from gui.services.dispatch_jobs import EXPORTING
    from gui.table_models import COLUMNS, TITLES

    yield from TITLES.values()
    yield from (c.header for cols in COLUMNS.values() for c in cols)
    yield from (s.label_zh for s in LAYERS)
    yield from (label for label, _c, _w in ROAD_CLASSES.values())
    for enum in (IncidentStatus, TeamStatus, IncidentCategory, ForceType):
        yield from (s.value for s in enum)
    yield from (label for label, _value in ENGINE_CHOICES)
    yield from (text for label, _hard, tradeoff in DEADLINE_CHOICES for text in (label, tradeoff))
    yield from TAB_TITLES
    yield from (s.label_zh for s in Status)
    yield from (r.value for r in Reason)
    yield from (s.value for s in PlanStatus)
    yield from (a for moves in TRANSITIONS.values() for a in moves.values())
    yield from SITE_MODELS.values()
    yield from KIND_NAMES.values()
    yield from (text for _value, text in CRS_CHOICES)
    yield _IGNORE
    yield from (OSM_CREDIT, GENERATED_ROADS_CREDIT)
    yield from (label for _attr, label, _target in STEP_BUTTONS)
    yield from VehiclesEditor.HEADERS
    yield FILE_FILTER
    yield from LEVEL_NAME_ZH.values()
    yield from (s.value for s in NeedState)
    yield from PARTIAL_TEXTS.values()
    yield EXPORTING
    yield from (label for _code, label in COORD_SYSTEMS)
    yield from (h for h, _w, _r in INCIDENT_COLUMNS)
    yield from (d.value for d in DemandKind)
    yield from CANDIDATE_KIND_ZH.values()
    yield from (s.name_zh for s in ONLINE_SOURCES.values())
    yield from COLOUR_ZH.values()
    yield from WARNING_STATES
    yield from (name for name, _unit in QUANTITIES.values())
    yield from KIND_ZH.values()
    yield from drill_panel.TIMELINE_HEADERS
    yield from drill_panel.LOG_HEADERS
    yield from drill_panel.SCORE_HEADERS
    yield from (label for _key, label in drill_panel.OVERALL_ROWS)
    for headers in (
        review_cli.TIMELINE_HEADERS,
        review_cli.REPORT_HEADERS,
        review_cli.MOMENT_HEADERS,
        review_cli.LATENCY_HEADERS,
        review_cli.RULE_HEADERS,
    ):
        yield from headers
