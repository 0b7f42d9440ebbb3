"""Hazard warnings (预警): the four colours, a warning record, and where warnings are stored.

Chinese practice grades warnings in four colours, each tied to a response level (预案级别):
蓝色 IV, 黄色 III, 橙色 II, 红色 I (:data:`COLOURS`). A :class:`HazardWarning` is issued for
hazards (危险源) or a township at one colour, with an issue time and a valid-until time; it is
later lifted (解除) or escalated (升级: a new warning at a higher colour replaces it).

Warnings are stored in the workspace documents under :data:`WARNINGS_DOCUMENT_KIND`, one JSON
document per warning keyed by its id, so a workspace written before warnings existed opens
unchanged (no table to migrate) and every save keeps them (the writer stores documents as given).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from gis.errors import ValidationError
from gis.event_log import with_log_entry

__all__ = [
    "COLOURS",
    "COLOUR_LEVEL",
    "COLOUR_ZH",
    "WARNING_STATES",
    "WARNINGS_DOCUMENT_KIND",
    "HazardWarning",
    "WarningError",
    "colour_level",
    "escalate",
    "escalated",
    "find_warning",
    "lift",
    "read_warnings",
    "with_lifted",
    "with_warning",
]

#: The four warning colours, mildest first (the command's ``--colour`` values).
COLOURS: tuple[str, ...] = ("blue", "yellow", "orange", "red")
#: Colour → response level 1 (I, 特别重大) … 4 (IV, 一般).
COLOUR_LEVEL: Mapping[str, int] = {"blue": 4, "yellow": 3, "orange": 2, "red": 1}
COLOUR_ZH: Mapping[str, str] = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
#: A warning's states: in force, lifted, replaced by an escalation.
WARNING_STATES: tuple[str, ...] = ("生效", "已解除", "已升级")
WARNINGS_DOCUMENT_KIND = "warnings"


class WarningError(ValidationError):
    """A warning cannot be issued as asked (unknown colour, hazard, bad times)."""


def colour_level(colour: str) -> int:
    """The response level of a colour; :class:`WarningError` naming the four otherwise."""
    key = str(colour).strip().lower()
    if key not in COLOUR_LEVEL:
        raise WarningError(
            f"warning colour must be one of {'|'.join(COLOURS)} (蓝/黄/橙/红), got {colour!r}"
        )
    return COLOUR_LEVEL[key]


@dataclass(frozen=True)
class HazardWarning:
    """One warning. ``state``: 生效 (in force), 已解除 (lifted) or 已升级 (escalated)."""

    id: str
    colour: str
    issued_at: datetime
    valid_until: datetime
    hazard_ids: tuple[str, ...] = ()
    township_code: str = ""
    state: str = "生效"
    note: str = ""
    moves: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        colour_level(self.colour)
        object.__setattr__(self, "colour", self.colour.strip().lower())
        if not self.hazard_ids and not self.township_code:
            raise WarningError("a warning names hazards or a township")
        if self.valid_until <= self.issued_at:
            raise WarningError("a warning's valid-until time must be after its issue time")
        if self.state not in WARNING_STATES:
            raise WarningError(f"warning state must be 生效/已解除/已升级, got {self.state!r}")

    @property
    def level(self) -> int:
        return COLOUR_LEVEL[self.colour]

    @property
    def colour_zh(self) -> str:
        return COLOUR_ZH[self.colour]

    def in_force(self, at: datetime) -> bool:
        return self.state == "生效" and self.issued_at <= at <= self.valid_until

    def lifted(self) -> HazardWarning:
        return replace(self, state="已解除")

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["issued_at"] = self.issued_at.isoformat(timespec="seconds")
        doc["valid_until"] = self.valid_until.isoformat(timespec="seconds")
        doc["hazard_ids"] = list(self.hazard_ids)
        doc["moves"] = [dict(m) for m in self.moves]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> HazardWarning:
        try:
            return cls(
                id=str(doc["id"]),
                colour=str(doc["colour"]),
                issued_at=datetime.fromisoformat(str(doc["issued_at"])),
                valid_until=datetime.fromisoformat(str(doc["valid_until"])),
                hazard_ids=tuple(str(h) for h in doc.get("hazard_ids", ())),
                township_code=str(doc.get("township_code", "")),
                state=str(doc.get("state", "生效")),
                note=str(doc.get("note", "")),
                moves=tuple(dict(m) for m in doc.get("moves", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WarningError(f"unreadable warning document: {exc}") from None


def read_warnings(documents: Mapping[str, Mapping[str, str]] | None) -> tuple[HazardWarning, ...]:
    """The workspace's warnings, oldest id first (unreadable documents skipped)."""
    out = []
    stored = (documents or {}).get(WARNINGS_DOCUMENT_KIND, {})
    for key in sorted(stored):
        try:
            out.append(HazardWarning.from_json(json.loads(stored[key])))
        except (ValueError, WarningError):
            continue
    return tuple(out)


def with_warning(
    documents: Mapping[str, Mapping[str, str]] | None, warning: HazardWarning
) -> dict[str, dict[str, str]]:
    """A copy of ``documents`` with ``warning`` stored (replacing one with the same id)."""
    docs = {str(k): dict(v) for k, v in (documents or {}).items()}
    docs.setdefault(WARNINGS_DOCUMENT_KIND, {})[warning.id] = json.dumps(
        warning.to_json(), ensure_ascii=False
    )
    return docs


def find_warning(
    documents: Mapping[str, Mapping[str, str]] | None, warning_id: str
) -> HazardWarning:
    """The stored warning ``warning_id``; :class:`WarningError` when there is none."""
    for w in read_warnings(documents):
        if w.id == warning_id:
            return w
    raise WarningError(f"no warning {warning_id!r} in the workspace")


def lift(warning: HazardWarning, at: datetime) -> tuple[HazardWarning, dict[str, Any]]:
    """The warning lifted (解除) at ``at`` and its event-log entry; :class:`WarningError` when it
    is not in force."""
    if warning.state != "生效":
        raise WarningError(f"warning {warning.id} is {warning.state}, not in force")
    lifted = replace(warning.lifted(), note=f"{at.isoformat(timespec='minutes')} 解除")
    log = {"warning": warning.id, "incident": f"预警 {warning.id}",
           "from": f"{warning.colour_zh}预警", "to": "已解除", "text": f"解除{warning.colour_zh}预警"}  # fmt: skip
    return lifted, log


def with_lifted(
    documents: Mapping[str, Mapping[str, str]] | None, warning_id: str, *, at: datetime
) -> dict[str, dict[str, str]]:
    """``documents`` with the warning lifted (:func:`lift`) and its event-log entry."""
    lifted, log = lift(find_warning(documents, warning_id), at)
    return with_log_entry(with_warning(documents, lifted), log, now=at)


def escalate(
    old: HazardWarning, colour: str, *, at: datetime, valid_until: datetime | None = None
) -> tuple[HazardWarning, HazardWarning, dict[str, Any]]:
    """Escalating (升级) ``old`` to the higher ``colour`` at ``at``: ``old`` marked 已升级, the new
    warning (same hazards or township, id ``<old id>-<colour>``) and its event-log entry;
    :class:`WarningError` when ``old`` is not in force or ``colour`` is not higher."""
    if old.state != "生效":
        raise WarningError(f"warning {old.id} is {old.state}, not in force")
    if colour_level(colour) >= old.level:
        raise WarningError(
            f"escalating {old.id} needs a higher colour than {old.colour}, got {colour!r}"
        )
    new = HazardWarning(
        id=f"{old.id}-{colour}",
        colour=colour,
        issued_at=at,
        valid_until=valid_until or at + (old.valid_until - old.issued_at),
        hazard_ids=old.hazard_ids,
        township_code=old.township_code,
    )
    log = {"warning": new.id, "incident": f"预警 {new.id}", "from": f"{old.colour_zh}预警",
           "to": f"{new.colour_zh}预警", "text": f"{old.colour_zh}预警升级为{new.colour_zh}预警"}  # fmt: skip
    return replace(old, state="已升级"), new, log


def escalated(
    documents: Mapping[str, Mapping[str, str]] | None,
    warning_id: str,
    colour: str,
    *,
    at: datetime,
    valid_until: datetime | None = None,
) -> tuple[HazardWarning, dict[str, dict[str, str]]]:
    """The new warning at the higher ``colour`` (:func:`escalate`) and ``documents`` with the old
    one marked 已升级, the new one stored and an event-log entry."""
    old, new, log = escalate(
        find_warning(documents, warning_id), colour, at=at, valid_until=valid_until
    )
    docs = with_warning(with_warning(documents, old), new)
    return new, with_log_entry(docs, log, now=at)
