"""The workspace's event log (事件记录): one document per entry, Qt-free.

Entries are stored in the workspace documents under :data:`EVENT_LOG` as JSON objects keyed by
``<YYYYMMDDTHHMMSS>-<NNNNN>`` (sortable: oldest first). An entry holds ``time`` (ISO, local,
seconds) and what happened: an incident's status change (``incident_id``, ``incident``,
``from``, ``to``, ``text``) or a dispatch plan's status step (``plan``, ``incident`` = "方案 …",
``from``, ``to``, ``who``, ``text``) or an information report upward (信息报告: ``incident_id``,
``incident``, ``report`` = 首报 / 续报 / 终报, ``to`` = "上报", ``recipient``, ``text``; see
:func:`report_entry`; read by the after-action review). The desk's session and ``app.py plan-status`` both append
through :func:`with_log_entry`, so the desk shows steps made headless too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

EVENT_LOG = "event_log"

Documents = dict[str, dict[str, str]]


def with_log_entry(
    documents: Mapping[str, Mapping[str, str]] | None,
    entry: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Documents:
    """A copy of ``documents`` with ``entry`` appended to the event log (time added)."""
    docs = {str(k): dict(v) for k, v in (documents or {}).items()}
    log = docs.setdefault(EVENT_LOG, {})
    now = now or datetime.now().astimezone()
    record = {"time": now.isoformat(timespec="seconds"), **entry}
    n = len(log) + 1
    doc_id = f"{now.strftime('%Y%m%dT%H%M%S')}-{n:05d}"
    while doc_id in log:
        n += 1
        doc_id = f"{now.strftime('%Y%m%dT%H%M%S')}-{n:05d}"
    log[doc_id] = json.dumps(record, ensure_ascii=False)
    return docs


#: the key that marks an information-report entry (信息报告)
REPORT_KEY = "report"


def report_entry(
    incident_id: str, incident: str, report: str = "首报", recipient: str = "", text: str = ""
) -> dict[str, str]:
    """The event-log entry of an information report upward (首报 / 续报 / 终报)."""
    return {
        "incident_id": incident_id,
        "incident": incident,
        REPORT_KEY: report,
        "to": "上报",
        "recipient": recipient,
        "text": text or f"{incident}：{report}" + (f"（报 {recipient}）" if recipient else ""),
    }


def log_entries(documents: Mapping[str, Mapping[str, str]] | None) -> list[dict[str, Any]]:
    """Event-log entries, oldest first (unreadable ones skipped); each with its ``id``."""
    log = (documents or {}).get(EVENT_LOG, {})
    out = []
    for doc_id in sorted(log):
        try:
            entry = json.loads(log[doc_id])
        except ValueError:
            continue
        if isinstance(entry, dict):
            entry.setdefault("id", doc_id)
            out.append(entry)
    return out


__all__ = ["EVENT_LOG", "REPORT_KEY", "log_entries", "report_entry", "with_log_entry"]
