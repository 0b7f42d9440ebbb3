"""A dispatch child process kept alive between runs (plain Python, no Qt).

:func:`dispatch.service.run_dispatch_in_child` starts a new process per run: it imports the
solver stack and loads the road network before it can solve (seconds on a loaded machine),
which a re-plan's operator would wait for every time. A :class:`DispatchWorker` starts its
process once and keeps it: the process keeps its imports and the road networks it loaded
(keyed by file, size and modification time), so from the second run on a re-plan's first
complete plan reaches the caller a fraction of a second after the run is asked for.

Same contract as :func:`~dispatch.service.run_dispatch_in_child`: ``stop()`` is relayed (the
run returns its best plan); a process that has not returned :data:`dispatch.service.HARD_STOP_S`
after a Cancel is killed (:class:`~dispatch.service.DispatchProcessError` ``killed``; the next
run starts a new process); a process that dies is reported (``died``); an error in the run is
reported with its traceback (``error``) and the process stays. Progress and the first plan of
a re-plan are relayed in the calling thread. One run at a time per worker (a lock).
:meth:`DispatchWorker.close` ends the process; workers still open at interpreter exit are
closed then.

The messaging is hand-written over a ``multiprocessing`` pipe (as in
:mod:`dispatch.child_process`, whose one-shot runner it complements) because the process must
outlive a run; the child's end reuses :class:`dispatch.child_process.ChildChannel`.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import multiprocessing.util  # its exit handler (joins live children) must be registered first
import threading
import time
import traceback
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

from dispatch.child_process import POLL_S, ChildChannel, ChildStartError, main_not_reimported
from dispatch.results import ProgressFn, StopFn, never_stop, no_progress
from dispatch.service import (
    HARD_STOP_S,
    PROGRESS_INTERVAL_S,
    DispatchOutcome,
    DispatchProcessError,
    DispatchRequest,
    OnFirst,
    Present,
    run_dispatch,
    unwire_outcome,
    wire_outcome,
)

_RESULT = "__result__"
_ERROR = "__error__"
_OPEN: weakref.WeakSet[DispatchWorker] = weakref.WeakSet()
_EXIT_HOOK: list[bool] = []


def _network_key(request: DispatchRequest) -> tuple[Any, ...] | None:
    path = request.roads_file
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns, repr(request.scenario.road_network))


def _worker_main(conn: Any, stop_event: Any) -> None:
    """The worker process: run requests until told to end (``None``) or the pipe closes."""
    channel = ChildChannel(conn, stop_event, PROGRESS_INTERVAL_S)
    networks: dict[tuple[Any, ...], Any] = {}
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        request, present = msg
        try:
            key = _network_key(request) if request.network is None else None
            if key is not None:
                if key not in networks:
                    from gis.loading import load_road_network

                    networks.clear()  # one workspace at a time
                    networks[key] = load_road_network(request.roads_file, request.scenario)
                request = replace(request, network=networks[key])

            def first(out: DispatchOutcome) -> None:
                channel.send("first_plan", wire_outcome(out))

            out = run_dispatch(
                request,
                stop=channel.stop_requested,
                progress=channel.progress,
                present=present,
                on_first=first if request.previous_plan is not None else None,
            )
            channel.send(_RESULT, wire_outcome(out))
        except BaseException as exc:  # reported to the parent with the traceback
            channel.send(_ERROR, f"{type(exc).__name__}: {exc}", traceback.format_exc())


class DispatchWorker:
    """A dispatch process kept between runs (see the module docstring)."""

    def __init__(self, name: str = "reliefdesk-dispatch-worker") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None
        self._stop: Any = None
        _OPEN.add(self)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        stop_event = ctx.Event()
        # not a daemon: the OR-Tools routing engine starts a process of its own
        proc = ctx.Process(
            target=_worker_main, args=(child, stop_event), daemon=False, name=self.name
        )
        try:
            with main_not_reimported():
                proc.start()
        except Exception as exc:
            parent.close()
            child.close()
            raise ChildStartError(
                f"worker process not started: {type(exc).__name__}: {exc}"
            ) from exc
        child.close()
        self._proc, self._conn, self._stop = proc, parent, stop_event
        if not _EXIT_HOOK:
            # registered after multiprocessing's own exit handler, so it runs before it:
            # that handler waits for every live non-daemon child, this worker's included
            atexit.register(_close_all)
            _EXIT_HOOK.append(True)

    def _kill(self) -> int | None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = self._stop = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        if proc is None:
            return None
        if proc.is_alive():
            proc.kill()
        proc.join(2.0)
        return proc.exitcode

    def run(
        self,
        request: DispatchRequest,
        *,
        stop: StopFn = never_stop,
        progress: ProgressFn = no_progress,
        present: Present | None = None,
        on_first: OnFirst | None = None,
    ) -> DispatchOutcome:
        """:func:`dispatch.service.run_dispatch` in the worker process (started if needed;
        :class:`dispatch.child_process.ChildStartError` when it cannot be)."""
        with self._lock:
            if not self.alive:
                self._kill()
                self._start()
            conn, stop_event = self._conn, self._stop
            stop_event.clear()
            try:
                conn.send((request.for_child(), present))
            except (OSError, ValueError) as exc:
                self._kill()
                raise DispatchProcessError(
                    f"计算进程未能接收任务（{exc}）", kind="died", exitcode=None
                ) from exc
            cancel_deadline: float | None = None
            while True:
                now = time.perf_counter()
                if cancel_deadline is None and stop():
                    stop_event.set()
                    cancel_deadline = now + HARD_STOP_S
                if cancel_deadline is not None and now >= cancel_deadline:
                    code = self._kill()
                    raise DispatchProcessError(
                        f"计算进程在取消后 {HARD_STOP_S:.0f} 秒内未返回，已强制终止",
                        kind="killed",
                        exitcode=code,
                    )
                try:
                    ready = conn.poll(POLL_S)
                    msg = conn.recv() if ready else None
                except (EOFError, OSError):
                    ready, msg = True, None
                if msg is None:
                    if ready or not self._proc.is_alive():
                        code = self._kill()
                        raise DispatchProcessError(
                            f"计算进程意外退出（退出码 {code}）", kind="died", exitcode=code
                        )
                    continue
                kind = msg[0]
                if kind == "progress":
                    progress(*msg[1:])
                elif kind == "first_plan":
                    if on_first is not None:
                        on_first(unwire_outcome(msg[1], request.network))
                elif kind == _RESULT:
                    return unwire_outcome(msg[1], request.network)
                elif kind == _ERROR:
                    raise DispatchProcessError(msg[1], msg[2], kind="error")

    def close(self) -> None:
        """End the worker process: asked to end (up to 2 s), else killed. Never waits for a
        run: a run still going is ended by killing the process (it then fails as ``died``)."""
        if not self._lock.acquire(timeout=0.2):
            proc = self._proc
            if proc is not None and proc.is_alive():
                proc.kill()
            return
        try:
            conn, proc = self._conn, self._proc
            if conn is not None and proc is not None and proc.is_alive():
                with contextlib.suppress(OSError, ValueError):
                    conn.send(None)
                proc.join(2.0)
            self._kill()
        finally:
            self._lock.release()


def _close_all() -> None:
    """Close every worker still open (at interpreter exit)."""
    for worker in list(_OPEN):
        with contextlib.suppress(Exception):
            worker.close()


__all__ = ["DispatchWorker"]
