"""Road classes, speeds and the OSM tag rules that decide what is drivable.

* :data:`DEFAULT_SPEEDS_KMH` and :class:`RoadOptions`: the speed of each OSM ``highway`` class
  (a class without a speed is not drivable) and how a network is built;
* :data:`ROAD_CLASS_ZH` / :func:`road_class_zh`: the Chinese administrative class (高速, 国道 …)
  shown in the UI and turn lists;
* tag rules: :func:`parse_maxspeed`, :func:`drivable_reason` (is a way usable by a motor
  vehicle?), :func:`oneway_direction`, and :func:`tag_values` / :func:`is_missing` for tag values
  as files and simplified graphs hold them (one value, a list, or a list written as text).

No file or network access here; :mod:`gis.roads.osm` and :mod:`gis.roads.network` use it.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from gis.errors import ValidationError

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "ROAD_CLASS_ZH",
    "RoadOptions",
    "drivable_reason",
    "first_text",
    "is_missing",
    "oneway_direction",
    "parse_maxspeed",
    "road_class_zh",
    "tag_values",
    "truthy_tag",
]

#: Default speed per OSM ``highway`` class, km/h, for Chinese rural roads: 高速 100, 国道 70,
#: 省道 60, 县道 40, 乡道 30, 村道 20; ``*_link`` ramps a little slower than their parent.
#: Only classes listed in :attr:`RoadOptions.speeds_kmh` are loaded as drivable.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 100.0,
        "motorway_link": 80.0,
        "trunk": 70.0,
        "trunk_link": 60.0,
        "primary": 60.0,
        "primary_link": 50.0,
        "secondary": 40.0,
        "secondary_link": 35.0,
        "tertiary": 30.0,
        "tertiary_link": 25.0,
        "unclassified": 20.0,
        "residential": 20.0,
        "road": 20.0,
        "service": 15.0,
        "track": 15.0,
        "living_street": 10.0,
    }
)

#: OSM ``highway`` class → Chinese administrative road class used in the UI and turn lists.
ROAD_CLASS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "motorway": "高速",
        "motorway_link": "高速",
        "trunk": "国道",
        "trunk_link": "国道",
        "primary": "省道",
        "primary_link": "省道",
        "secondary": "县道",
        "secondary_link": "县道",
        "tertiary": "乡道",
        "tertiary_link": "乡道",
        "unclassified": "村道",
        "residential": "村道",
        "living_street": "村道",
        "road": "其他",
        "service": "其他",
        "track": "其他",
    }
)


def road_class_zh(highway: str) -> str:
    """Chinese class label of an OSM ``highway`` value (``其他`` when unknown)."""
    return ROAD_CLASS_ZH.get(highway, "其他")


_SUPPORTED_NETWORK_TYPES = ("drive",)


#: The snap limit: a place farther than this from the nearest road node is unreachable (an
#: hour's walk at 5 km/h). The one definition: ``app.py matrix``, the dispatch pipeline's
#: ``max_offroad_m`` default and the entry checks of :mod:`gis.placement` use it.
MAX_OFFROAD_M = 5000.0


@dataclass(frozen=True)
class RoadOptions:
    """How a road network is built.

    Parameters
    ----------
    speeds_kmh
        Speed per OSM ``highway`` class; classes not listed are not drivable and are dropped
        when loading OSM. A tagged ``maxspeed`` wins over the class speed.
    keep_largest_scc
        Keep only the largest strongly connected component (every node can reach every other).
    snap_warn_m
        Snaps farther than this from their network node are flagged.
    network_type
        Only ``"drive"`` (motor vehicles) for now.
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    keep_largest_scc: bool = True
    snap_warn_m: float = 500.0
    network_type: str = "drive"

    def __post_init__(self) -> None:
        speeds = dict(self.speeds_kmh)
        for cls, kmh in speeds.items():
            if not isinstance(cls, str) or not cls:
                raise ValidationError(f"RoadOptions: speeds_kmh has an invalid class {cls!r}")
            try:
                value = float(kmh)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"RoadOptions: speeds_kmh[{cls!r}] must be a number, got {kmh!r}"
                ) from None
            if not math.isfinite(value) or value <= 0:
                raise ValidationError(f"RoadOptions: speeds_kmh[{cls!r}] must be > 0, got {kmh!r}")
            speeds[cls] = value
        if not speeds:
            raise ValidationError("RoadOptions: speeds_kmh is empty (no drivable road class)")
        object.__setattr__(self, "speeds_kmh", MappingProxyType(speeds))
        if not math.isfinite(float(self.snap_warn_m)) or self.snap_warn_m < 0:
            raise ValidationError(f"RoadOptions: snap_warn_m must be ≥ 0, got {self.snap_warn_m!r}")
        object.__setattr__(self, "snap_warn_m", float(self.snap_warn_m))
        if self.network_type not in _SUPPORTED_NETWORK_TYPES:
            raise ValidationError(
                f"RoadOptions: network_type must be one of {_SUPPORTED_NETWORK_TYPES}, "
                f"got {self.network_type!r}"
            )

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy does not pickle
        return (
            type(self),
            (dict(self.speeds_kmh), self.keep_largest_scc, self.snap_warn_m, self.network_type),
        )

    def fingerprint(self) -> str:
        """Stable text of the options (part of cache keys and content hashes)."""
        return json.dumps(
            {
                "speeds_kmh": sorted(self.speeds_kmh.items()),
                "keep_largest_scc": bool(self.keep_largest_scc),
                "snap_warn_m": self.snap_warn_m,
                "network_type": self.network_type,
            },
            sort_keys=True,
        )

    def speed_for(self, highway: str) -> float:
        """Class speed in km/h (``unclassified``'s speed, else 20, for an unknown class)."""
        return float(self.speeds_kmh.get(highway, self.speeds_kmh.get("unclassified", 20.0)))


# --------------------------------------------------------------------------------------------
# OSM tag values and rules
# --------------------------------------------------------------------------------------------

# Tag values that make a way unusable by a motor vehicle (emergency access is kept).
_NO_ACCESS = {"no", "private"}
_SKIP_SERVICE = {"parking_aisle", "driveway", "parking", "drive-through"}
_ONEWAY_FORWARD = {"yes", "true", "1"}
_ONEWAY_BACKWARD = {"-1", "reverse"}


def is_missing(v: Any) -> bool:
    """True for an absent tag value (``None`` or NaN, as pandas and networkx hold it)."""
    if v is None:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover
        return False


def tag_values(value: Any) -> list[Any]:
    """The values of a tag: a simplified graph holds a list (or, read from GraphML, its text)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
        return list(parsed) if isinstance(parsed, list | tuple) else [parsed]
    return [value]


def parse_maxspeed(value: Any) -> float:
    """OSM ``maxspeed`` → km/h (NaN if absent or symbolic such as ``none``/``CN:rural``).

    Handles plain numbers, ``km/h``/``kmh``/``mph`` units, ``a;b`` alternatives and lists
    (from simplified graphs), of which the mean is taken (as osmnx does).
    """
    values: list[float] = []
    for item in tag_values(value):
        if is_missing(item):
            continue
        for part in str(item).split(";"):
            text = part.strip().lower()
            factor = 1.0
            if text.endswith("mph"):
                factor = 1.609344
                text = text[:-3]
            for unit in ("km/h", "kmh", "kph"):
                text = text.removesuffix(unit)
            try:
                v = float(text.strip()) * factor
            except ValueError:
                continue
            if math.isfinite(v) and v > 0:
                values.append(v)
    return float(np.mean(values)) if values else math.nan


def truthy_tag(value: Any) -> bool:
    """True if any value of the tag says yes (e.g. ``bridge=viaduct``), not ``no``/``0``/empty."""
    return any(
        not is_missing(v) and str(v).strip().lower() not in ("", "no", "false", "0")
        for v in tag_values(value)
    )


def first_text(value: Any) -> str:
    """The first non-empty value of a tag as text (``''`` if none)."""
    items = [str(v) for v in tag_values(value) if not is_missing(v) and str(v)]
    return items[0] if items else ""


def drivable_reason(tags: Mapping[str, str], options: RoadOptions) -> str | None:
    """``None`` if a way with these tags is drivable, else the reason it is not."""
    hw = tags.get("highway", "")
    if hw not in options.speeds_kmh:
        return f"highway={hw}"
    if tags.get("area") == "yes":
        return "area=yes"
    for key in ("motor_vehicle", "motorcar", "vehicle"):
        if tags.get(key) in _NO_ACCESS:
            return f"{key}={tags[key]}"
    allowed = ("yes", "designated")
    if (
        tags.get("access") in _NO_ACCESS
        and tags.get("motor_vehicle") not in allowed
        and tags.get("motorcar") not in allowed
    ):
        return f"access={tags['access']}"
    if hw == "service" and tags.get("service") in _SKIP_SERVICE:
        return f"service={tags['service']}"
    return None


def oneway_direction(tags: Mapping[str, str]) -> int:
    """+1 one-way forward, -1 one-way backward, 0 two-way."""
    ow = str(tags.get("oneway", "")).strip().lower()
    if ow in _ONEWAY_FORWARD:
        return 1
    if ow in _ONEWAY_BACKWARD:
        return -1
    if ow in ("no", "false", "0", "reversible", "alternating"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1  # implied one-way (OSM convention)
    return 0
