"""The six-file export of a plan: each file on its own, a failure never blocks the others.

:func:`export_all` writes ``plan.json``, the PDF, XLSX, GeoJSON, CSV and the offline HTML map
(:data:`OUTPUT_FILES`). Each is written into a staging folder and moved over the old file of the
same name only when it is complete, so no file is ever half-written. An export that fails (a
bug on odd data, a full disk) does not stop the others: they are still written, the failed
file's older version is removed (it belongs to an earlier plan and must not pass for this
one), and at the end :class:`BundleError` names every failed file with its reason. The
exporters are imported when called (the PDF one is slow to import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dispatch.plan import Plan
from gis.errors import ReliefDeskError, ValidationError

OUTPUT_FILES = ("plan.json", "orders.pdf", "orders.xlsx", "plan.geojson", "plan.csv", "plan.html")


class BundleError(ReliefDeskError):
    """Some exports failed; ``written`` holds the files that were written, ``failed`` maps each
    failed file name to its reason (one line, control characters removed)."""

    def __init__(self, written: Mapping[str, Path], failed: Mapping[str, str], out: Path) -> None:
        self.written = dict(written)
        self.failed = dict(failed)
        parts = "；".join(f"{name}（{why}）" for name, why in self.failed.items())
        rest = f"其余 {len(self.written)} 个文件已写入 {out}" if self.written else "未写入任何文件"
        super().__init__(f"导出失败：{parts}；{rest}")


def _reason(exc: BaseException) -> str:
    from dispatch.export.common import clean_text

    text = clean_text(str(exc), 300)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _writers() -> dict[str, Callable[[Plan, Path], Any]]:
    from dispatch.export.csv import export_csv
    from dispatch.export.geojson import export_geojson
    from dispatch.export.html_map import export_html
    from dispatch.export.pdf import export_pdf
    from dispatch.export.xlsx import export_xlsx

    def export_json(plan: Plan, path: Path) -> None:
        # pretty for plans a person reads; compact (the C encoder: ~5× faster) for big ones
        big = len(plan.orders) + len(plan.unserved) + len(plan.incidents) > 500
        path.write_text(plan.to_json(indent=None if big else 1), encoding="utf-8")

    return {
        "plan.json": export_json,
        "orders.pdf": export_pdf,
        "orders.xlsx": export_xlsx,
        "plan.geojson": export_geojson,
        "plan.csv": export_csv,
        "plan.html": export_html,
    }


#: Exports written in the language asked for (the others are data: the same in any language).
LANGUAGE_FILES = ("orders.pdf", "orders.xlsx", "plan.csv", "plan.html")
#: Exports a forked child may write (``export_all(..., parallel=True)``): the two slow ones.
PARALLEL_FILES = ("orders.pdf", "orders.xlsx")
#: A forked export still running after this many seconds is stopped and reported failed.
EXPORT_TIMEOUT_S = 120.0


def _write(name: str, plan: Plan, path: Path, language: str) -> None:
    """Write one export, in ``language`` when it is one of :data:`LANGUAGE_FILES`."""
    if name in LANGUAGE_FILES:
        _writers()[name](plan, path, language=language)
    else:
        _writers()[name](plan, path)


def _child_export(name: str, plan: Plan, path: Path, conn: Any, language: str) -> None:
    import gc

    # what the fork inherited (network, solver state) lives until this child exits: keep the
    # collector's full passes off it (they would also copy every page they touch)
    gc.freeze()
    try:
        _write(name, plan, path, language)
        conn.send("")
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        conn.send(_reason(exc))
    finally:
        conn.close()


def _start_children(plan: Plan, staging: Path, language: str) -> dict[str, tuple[Any, Any]]:
    """The PDF and XLSX exports in forked children (POSIX only; {} when fork is unavailable)."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return {}
    ctx = mp.get_context("fork")
    children = {}
    for name in PARALLEL_FILES:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child_export,
            args=(name, plan, staging / name, child, language),
            daemon=True,
        )
        proc.start()
        child.close()
        children[name] = (proc, parent)
    return children


def _join_child(proc: Any, conn: Any, deadline: float) -> str:
    """'' when the child wrote its file, else the reason it did not."""
    import time

    why = None
    if conn.poll(max(0.0, deadline - time.monotonic())):
        try:
            why = conn.recv()
        except EOFError:
            why = None
    proc.join(max(0.0, deadline - time.monotonic()) + 1.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return f"超过 {EXPORT_TIMEOUT_S:g} 秒未完成，已停止"
    if why is None:
        return f"导出进程异常退出（exit {proc.exitcode}）"
    return str(why)


def export_all(
    plan: Plan, out: Path, *, parallel: bool = False, language: str = "zh_CN"
) -> dict[str, Path]:
    """Write the six output files of a plan into ``out`` (created if needed). ``language``:
    files in :data:`LANGUAGE_FILES` (orders, spreadsheet, CSV, HTML map) are written in it
    (Chinese by default; ``en``); names from data stay as they are.

    With ``parallel`` (the CLI; not from a process with a GUI event loop) the PDF and XLSX are
    written by forked child processes while this one writes the rest: the slow two overlap, and
    a child still running after :data:`EXPORT_TIMEOUT_S` is stopped and reported failed.

    Returns name → path of the six files. Each file is complete or absent: written into a
    staging folder inside ``out``, then moved over the old file. When some exports fail the
    others are still written and :class:`BundleError` is raised afterwards, naming each failed
    file and why (``.written`` / ``.failed``); the failed files' old versions are removed.
    """
    import os
    import shutil
    import time

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"output folder {out} is an existing file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    _writers()  # imports the exporters once, before any fork
    staging = out / f".reliefdesk-export-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    written: dict[str, Path] = {}
    failed: dict[str, str] = {}

    def done(name: str, why: str) -> None:
        target = out / name
        if why:
            failed[name] = why
            target.unlink(missing_ok=True)
        else:
            (staging / name).replace(target)
            written[name] = target

    try:
        children = _start_children(plan, staging, language) if parallel else {}
        for name in OUTPUT_FILES:
            if name in children:
                continue
            try:
                _write(name, plan, staging / name, language)
                done(name, "")
            except Exception as exc:  # noqa: BLE001 - each export fails alone, with its reason
                done(name, _reason(exc))
        deadline = time.monotonic() + EXPORT_TIMEOUT_S
        for name, (proc, conn) in children.items():
            done(name, _join_child(proc, conn, deadline))
        written = {n: written[n] for n in OUTPUT_FILES if n in written}  # the usual order
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if failed:
        raise BundleError(written, failed, out)
    return written


__all__ = ["LANGUAGE_FILES", "OUTPUT_FILES", "BundleError", "export_all"]
