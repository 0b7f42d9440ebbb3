"""Atomic replacement of a file: temporary file, fsync, :func:`os.replace`, clean-up.

:func:`replace_atomically` fills a temporary file in the target's directory
(``.NAME.<pid>-<random>.reliefdesk-tmp.gpkg``) through a callback, fsyncs it, moves it over the
target with :func:`os.replace` and fsyncs the directory. A crash or ``kill -9`` mid-save leaves
the previous file intact; temporary files left by a killed save (their process is gone, or
older than 6 h) are removed by the next save of that file. SQLite side files of the old file
(``-wal`` left by QGIS, a hot ``-journal``) are folded back and removed so they are never
replayed into the new file. While the temporary file is filled, GDAL skips SQLite's journal and
per-commit fsyncs (:func:`fast_sqlite`): the file is thrown away on failure and fsync'ed whole.

Nothing here knows the workspace schema; :mod:`gis.workspace.writer` supplies the callback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyogrio

from gis.errors import WorkspaceError

#: Suffix of the temporary files a save writes next to its target.
TEMP_SUFFIX = ".reliefdesk-tmp.gpkg"
#: A temporary file older than this is removed even if its process still runs.
STALE_TEMP_AGE_S = 6 * 3600.0
#: SQLite side files that belong to a database file of the same name.
SIDECARS = ("-wal", "-shm", "-journal")
#: GDAL settings used while filling a temporary file (see :func:`fast_sqlite`).
SQLITE_FAST = {"OGR_SQLITE_SYNCHRONOUS": "OFF", "OGR_SQLITE_JOURNAL": "OFF"}


def temp_files(target: Path) -> Iterable[Path]:
    """Temporary files of saves of ``target`` (any process)."""
    prefix = f".{target.name}."
    for p in target.parent.iterdir():
        name = p.name
        if name.startswith(prefix) and TEMP_SUFFIX in name:
            yield p


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":
        # os.kill(pid, 0) would terminate the process on Windows. There a temp file still
        # being written is open, so deleting it fails: report "not alive" and let unlink decide.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def cleanup_stale_temps(target: Path) -> list[Path]:
    """Remove temporary files left next to ``target`` by a save that was killed."""
    removed = []
    now = time.time()
    pattern = re.compile(
        re.escape(f".{target.name}.") + r"(\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX)
    )
    for p in temp_files(target):
        m = pattern.match(p.name)
        if not m:
            continue
        try:
            age = now - p.stat().st_mtime
        except OSError:
            continue
        if pid_alive(int(m.group(1))) and age < STALE_TEMP_AGE_S:
            continue  # a save in progress in another live process
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def settle_old_file(target: Path) -> None:
    """Fold a previous file's SQLite side files back into it before it is replaced.

    QGIS (and any SQLite client) may leave ``X.gpkg-wal`` (write-ahead log) or a hot
    ``X.gpkg-journal`` next to the file. SQLite pairs these with whatever file bears the name,
    so after :func:`os.replace` they would be replayed into the *new* workspace and corrupt it.
    Reading the old file once lets SQLite recover it; a TRUNCATE checkpoint empties the WAL.
    Best effort: errors (a locked or broken old file) are ignored, the side files are removed
    after the replace in any case.
    """
    if not target.is_file():
        return
    if not any(Path(f"{target}{suffix}").exists() for suffix in ("-wal", "-journal")):
        return
    try:
        con = sqlite3.connect(target.resolve().as_uri() + "?mode=rw", uri=True, timeout=2.0)
    except sqlite3.Error:
        return
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:
        pass
    finally:
        con.close()


def remove_sidecars(target: Path) -> None:
    """Remove side files that belonged to the replaced file (see :func:`settle_old_file`)."""
    for suffix in SIDECARS:
        with contextlib.suppress(OSError):
            Path(f"{target}{suffix}").unlink()


def fsync_path(path: Path, *, directory: bool = False) -> None:
    # a file is opened for writing: Windows' FlushFileBuffers needs write access
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if directory else os.O_RDWR
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # Windows cannot open directories; os.replace is atomic there anyway
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


_fast_lock = threading.Lock()
_fast_users = 0
_fast_saved: dict[str, str | None] = {}


@contextlib.contextmanager
def fast_sqlite() -> Iterator[None]:
    """Let GDAL skip SQLite's journal and per-commit fsyncs while filling the temp file.

    Safe because the temporary file is thrown away if anything fails, and it is fsync'ed as a
    whole before it replaces the target. Without this each layer costs ~150 ms of fsyncs on a
    busy disk. GDAL config options are process-wide: saves running in several threads share
    one setting (reference-counted) and the previous values come back after the last one.
    """
    global _fast_users
    with _fast_lock:
        if _fast_users == 0:
            _fast_saved.clear()
            _fast_saved.update({k: pyogrio.get_gdal_config_option(k) for k in SQLITE_FAST})
            pyogrio.set_gdal_config_options(SQLITE_FAST)
        _fast_users += 1
    try:
        yield
    finally:
        with _fast_lock:
            _fast_users -= 1
            if _fast_users == 0:
                pyogrio.set_gdal_config_options(dict(_fast_saved))


def resolve_target(path: Path) -> Path:
    """The file a save of ``path`` replaces: through a symlink, the file it points to."""
    if path.is_symlink():  # replace the file the link points to, keep the link
        return Path(os.path.realpath(path))
    return path


def replace_atomically(target: Path, fill: Callable[[Path], None], *, spath: str) -> None:
    """Write ``target`` through ``fill(temporary_path)`` and move the result over it.

    ``target`` is the resolved file (see :func:`resolve_target`) whose directory exists;
    ``spath`` is the path named in errors. A :class:`WorkspaceError` from ``fill`` passes
    through, any other exception becomes one; the previous file is untouched in both cases and
    the temporary file is removed.
    """
    directory = target.parent if str(target.parent) else Path(".")
    cleanup_stale_temps(target)
    tmp = directory / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}"
    try:
        with fast_sqlite():
            fill(tmp)
        fsync_path(tmp)
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        settle_old_file(target)
        os.replace(tmp, target)
        remove_sidecars(target)
    except BaseException as exc:
        for p in (tmp, *(Path(f"{tmp}{suffix}") for suffix in SIDECARS)):
            with contextlib.suppress(OSError):
                p.unlink()
        if isinstance(exc, WorkspaceError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(exc, Exception):
            raise WorkspaceError(f"cannot write workspace: {exc}", path=spath) from exc
        raise
    fsync_path(directory, directory=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder, flushed
    to disk and renamed into place: a reader sees the old file or the whole new one, never half
    of it, and a failed write leaves no temporary file behind. The folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomically(path: Path, data: object, *, indent: int | None = None) -> None:
    """``data`` as JSON (UTF-8 text, no NaN/Infinity) written by :func:`write_text_atomically`."""
    write_text_atomically(
        path, json.dumps(data, ensure_ascii=False, allow_nan=False, indent=indent)
    )
