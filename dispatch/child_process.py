"""Run a function in a spawned child process behind a hard stop (Qt-free).

Solver code that cannot be interrupted from Python (OR-Tools' guided local search overrunning
its time limit, C++ calls holding the GIL) runs in a child process started with the ``spawn``
method. The parent side, :func:`run_in_child`, drives it from the calling thread: it relays
the child's messages, polls ``stop()``, and kills the child at a hard deadline or after a
grace period following a cancel. It always returns a :class:`ChildRun` saying how the child
ended; failures are described, not raised (:meth:`ChildRun.raise_for_failure` raises a
:class:`ChildFailed` when wanted). Only a child that cannot be started at all (arguments that
cannot be pickled, no processes left) raises :class:`ChildStartError`, so the caller can fall
back to running the work in its own process.

Child side: the target is called as ``target(channel, *args)`` where ``channel`` is a
:class:`ChildChannel`:

- ``channel.send(kind, *payload)`` sends a message (thread-safe; solvers may report from their
  own threads); the parent hands it to ``on_message(kind, *payload)``;
- ``channel.progress(fraction, text)`` is a throttled ``send("progress", fraction, text)``;
- ``channel.stop_requested()`` is True once the parent's ``stop()`` returned True (a
  multiprocessing Event): a cooperative child returns its best result then.

The target's return value is the result (``ChildRun.result``, ``finished=True``); an exception
becomes ``error`` (``"Type: message"``) and ``details`` (the traceback); a child that dies
without either (``os._exit``, a signal, a segfault) gives ``died=True`` and its ``exitcode``.

Deadlines: the child announces itself once its interpreter is up. Before that it has
``startup_s + run_s + grace_s``; from then on ``run_s + grace_s`` (``run_s`` may be a function
of the seconds the start-up took). After a cancel it has ``cancel_grace_s`` to return (0: it is
killed at once and the caller keeps what it was sent so far).

Usage — OR-Tools routing (:func:`dispatch.routing.engines.ortools.run_ortools`): a daemon child, improving
solutions streamed as ``("sol", cost, routes)``, killed at the deadline or on stop::

    run = run_in_child(_ortools_child, (builder, payload, seconds, end_epoch),
                       stop=stop, on_message=keep_best, run_s=seconds, grace_s=1.5,
                       startup_s=5.0, cancel_grace_s=0.0, exit_wait_s=0.0)

Usage — the desk's dispatch run (:func:`dispatch.service.run_dispatch_in_child`): a non-daemon
child (it starts the OR-Tools child itself) returning the best plan, Cancel relayed, killed
``HARD_STOP_S`` after a Cancel, in-process fallback on :class:`ChildStartError`::

    run = run_in_child(_child_main, (request, present), stop=stop, on_message=relay_progress,
                       daemon=False, cancel_grace_s=HARD_STOP_S, name="reliefdesk-dispatch")

Spawned children re-import the parent's ``__main__`` script unless told not to;
:func:`main_not_reimported` (on by default) hides it, so targets must live in importable
modules (not in a script run as ``__main__``).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

#: Default seconds between two progress messages with the same text.
PROGRESS_INTERVAL_S = 0.05
#: Parent poll interval (seconds): stop() and the deadlines are checked this often.
POLL_S = 0.05

_STARTED = "__started__"
_RESULT = "__result__"
_ERROR = "__error__"


class ChildFailed(RuntimeError):
    """A child run ended without a result (raised, died, killed); see :class:`ChildRun`."""

    def __init__(self, message: str, details: str = "", exitcode: int | None = None) -> None:
        super().__init__(message)
        self.details = details
        self.exitcode = exitcode


class ChildStartError(ChildFailed):
    """The child process could not be started (the work can be run in-process instead)."""


@dataclass
class ChildRun:
    """How a child run ended.

    ``finished``: the target returned and ``result`` holds its value. ``cancelled``: ``stop()``
    returned True. ``killed``: the parent killed the child before it finished (deadline, or
    cancel without a result within ``cancel_grace_s``). ``error``/``details``: the target raised
    (``"Type: message"`` and the traceback). ``died``: the child ended without a result or an
    error message (``exitcode`` says how). ``started_s``: seconds until the child was up.
    """

    result: Any = None
    finished: bool = False
    cancelled: bool = False
    killed: bool = False
    died: bool = False
    exitcode: int | None = None
    error: str | None = None
    details: str = ""
    started_s: float | None = None

    def raise_for_failure(self) -> Any:
        """The result, or :class:`ChildFailed` when the child did not finish."""
        if self.finished:
            return self.result
        if self.error is not None:
            raise ChildFailed(self.error, self.details, self.exitcode)
        if self.died:
            raise ChildFailed(
                f"child process exited unexpectedly (exit code {self.exitcode})",
                exitcode=self.exitcode,
            )
        why = "cancelled" if self.cancelled else "deadline passed"
        raise ChildFailed(f"child process killed ({why})", exitcode=self.exitcode)


class ChildChannel:
    """The child's end: send messages to the parent, see whether a stop was requested."""

    def __init__(self, conn: Any, stop_event: Any, progress_interval_s: float) -> None:
        self._conn = conn
        self._stop_event = stop_event
        self._lock = threading.Lock()
        self._interval = progress_interval_s
        self._last = (0.0, "")
        self._closed = False

    def send(self, kind: str, *payload: Any) -> None:
        """Send ``(kind, *payload)`` to the parent (thread-safe; dropped once closed)."""
        with self._lock:
            if self._closed:
                return
            with contextlib.suppress(OSError, ValueError, BrokenPipeError):
                self._conn.send((kind, *payload))

    def progress(self, fraction: float, message: str = "") -> None:
        """``send("progress", fraction, message)``, throttled when the text is unchanged."""
        now = time.monotonic()
        last_t, last_msg = self._last
        if message == last_msg and fraction < 1.0 and now - last_t < self._interval:
            return
        self._last = (now, message)
        self.send("progress", float(fraction), str(message))

    def stop_requested(self) -> bool:
        """True once the parent asked the child to stop (return the best result so far)."""
        return bool(self._stop_event.is_set())

    def _finish(self, final: tuple[Any, ...]) -> None:
        """Send the last message (result or error) and close; later sends are dropped."""
        with self._lock:
            self._closed = True
            try:
                self._conn.send(final)
            except Exception as exc:  # the result could not be pickled
                with contextlib.suppress(Exception):
                    self._conn.send(
                        (_ERROR, f"{type(exc).__name__}: {exc}", traceback.format_exc())
                    )
            finally:
                self._conn.close()


def _child_entry(
    target: Callable[..., Any],
    args: tuple[Any, ...],
    conn: Any,
    stop_event: Any,
    progress_interval_s: float,
) -> None:
    """Body of every child: announce, run the target, send its result or its error."""
    channel = ChildChannel(conn, stop_event, progress_interval_s)
    channel.send(_STARTED)
    try:
        final: tuple[Any, ...] = (_RESULT, target(channel, *args))
    except BaseException as exc:  # reported to the parent with the traceback
        final = (_ERROR, f"{type(exc).__name__}: {exc}", traceback.format_exc())
    channel._finish(final)


@contextlib.contextmanager
def main_not_reimported() -> Iterator[None]:
    """Keep a ``spawn`` child from re-running the parent's ``__main__`` script.

    The child only needs the target (importable from its module); re-importing a script
    without an ``if __name__ == "__main__"`` guard would re-run it in the child.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__
    }
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def run_in_child(
    target: Callable[..., Any],
    args: tuple[Any, ...] = (),
    *,
    stop: Callable[[], bool] | None = None,
    on_message: Callable[..., None] | None = None,
    on_poll: Callable[[float], None] | None = None,
    run_s: float | Callable[[float], float] | None = None,
    grace_s: float = 0.0,
    startup_s: float = 30.0,
    cancel_grace_s: float = 0.0,
    exit_wait_s: float = 5.0,
    daemon: bool = True,
    progress_interval_s: float = PROGRESS_INTERVAL_S,
    name: str | None = None,
    poll_s: float = POLL_S,
) -> ChildRun:
    """Run ``target(channel, *args)`` in a spawned child; never overruns its deadlines.

    Parameters
    ----------
    target, args
        A module-level function (pickled by name) and picklable arguments.
    stop
        Polled every ``poll_s``; when it first returns True the child's
        :meth:`ChildChannel.stop_requested` turns True and the child has ``cancel_grace_s`` to
        return (0: killed at once).
    on_message
        Called in this thread as ``on_message(kind, *payload)`` for each ``channel.send``.
    on_poll
        Called every ``poll_s`` with the seconds since the start (e.g. for parent-side progress).
    run_s
        Seconds the child may run once it is up (``None``: no limit), or a function of the
        seconds its start-up took returning that. It is killed ``grace_s`` after that.
    startup_s
        Longest wait for the child to come up (added to ``run_s + grace_s``).
    exit_wait_s
        After the result, how long the child may take to exit before it is killed (0: at once).
    daemon
        False when the child starts child processes of its own (daemons may not).

    Raises :class:`ChildStartError` when the child cannot be started.
    """
    ctx = mp.get_context("spawn")
    run = ChildRun()
    receiver, sender = ctx.Pipe(duplex=False)
    stop_event = ctx.Event()
    proc = ctx.Process(
        target=_child_entry,
        args=(target, args, sender, stop_event, progress_interval_s),
        daemon=daemon,
        name=name,
    )

    def limit(startup: float) -> float:
        if run_s is None:
            return float("inf")
        return float(run_s(startup) if callable(run_s) else run_s)

    t0 = time.perf_counter()
    try:
        with main_not_reimported():
            proc.start()
    except Exception as exc:
        receiver.close()
        sender.close()
        raise ChildStartError(f"child process not started: {type(exc).__name__}: {exc}") from exc
    sender.close()
    deadline = t0 + startup_s + limit(0.0) + grace_s
    cancel_deadline: float | None = None
    try:
        while True:
            now = time.perf_counter()
            if cancel_deadline is None and stop is not None and stop():
                run.cancelled = True
                stop_event.set()
                cancel_deadline = now + cancel_grace_s
            if cancel_deadline is not None and now >= cancel_deadline:
                break
            if now > deadline:
                break
            if on_poll is not None:
                on_poll(now - t0)
            try:
                ready = receiver.poll(poll_s)
            except (EOFError, OSError):
                run.died = True
                break
            if not ready:
                if not proc.is_alive() and not receiver.poll(0):
                    run.died = True
                    break
                continue
            try:
                msg = receiver.recv()
            except (EOFError, OSError):
                run.died = True
                break
            kind = msg[0]
            if kind == _STARTED:
                run.started_s = time.perf_counter() - t0
                deadline = time.perf_counter() + limit(run.started_s) + grace_s
            elif kind == _RESULT:
                run.finished, run.result = True, msg[1]
                break
            elif kind == _ERROR:
                run.error, run.details = msg[1], msg[2]
                break
            elif on_message is not None:
                on_message(*msg)
    finally:
        ended = run.finished or run.error is not None or run.died
        if ended and exit_wait_s > 0:
            proc.join(exit_wait_s)
        if proc.is_alive():
            if not ended:
                run.killed = True
            proc.kill()
        proc.join(2.0)
        run.exitcode = proc.exitcode
        receiver.close()
    return run
