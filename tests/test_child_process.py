"""dispatch.child_process: real spawned children (result, progress, stop, hard kill, crashes).

The child targets are module-level functions of this module (spawn pickles them by name).
"""

from __future__ import annotations

import os
import time

import pytest

from dispatch.child_process import (
    ChildChannel,
    ChildFailed,
    ChildStartError,
    run_in_child,
)


def _add(channel: ChildChannel, a: int, b: int) -> int:
    for i in range(3):
        channel.progress(i / 3, f"step {i}")
    channel.send("note", "hello")
    return a + b


def _cooperative(channel: ChildChannel) -> int:
    """Improves a value until asked to stop, then returns the best so far."""
    best = 0
    while not channel.stop_requested():
        best += 1
        channel.send("best", best)
        time.sleep(0.02)
    return best


def _stubborn(channel: ChildChannel) -> None:
    channel.send("best", 1)
    while True:  # ignores stop
        time.sleep(0.05)


def _crash(channel: ChildChannel, code: int) -> None:
    os._exit(code)


def _raise(channel: ChildChannel) -> None:
    raise ValueError("bad input 42")


def test_result_and_messages_relayed_in_order() -> None:
    seen: list[tuple] = []
    run = run_in_child(_add, (2, 3), on_message=lambda *m: seen.append(m))
    assert run.finished and run.result == 5
    assert not (run.killed or run.cancelled or run.died) and run.error is None
    assert run.exitcode == 0 and run.started_s is not None
    assert [m[0] for m in seen] == ["progress", "progress", "progress", "note"]
    assert seen[0] == ("progress", 0.0, "step 0") and seen[-1] == ("note", "hello")
    assert run.raise_for_failure() == 5


def test_stop_returns_best_so_far_and_stubborn_child_is_killed() -> None:
    # cooperative: stop → stop_requested() → returns its best within the cancel grace
    best: list[int] = []
    t0 = time.perf_counter()

    def stop() -> bool:
        return len(best) >= 3

    run = run_in_child(
        _cooperative,
        stop=stop,
        on_message=lambda kind, v: best.append(v),
        cancel_grace_s=10.0,
        startup_s=20.0,
    )
    assert run.cancelled and run.finished and not run.killed
    assert run.result >= 3 and run.result >= best[-1]
    # stubborn: ignores stop → killed once the cancel grace has passed
    got: list[int] = []
    t1 = time.perf_counter()
    stop_at: list[float] = []

    def stop2() -> bool:
        if got and not stop_at:
            stop_at.append(time.perf_counter())
        return bool(got)

    run2 = run_in_child(
        _stubborn, stop=stop2, on_message=lambda kind, v: got.append(v), cancel_grace_s=0.5
    )
    waited = time.perf_counter() - stop_at[0]
    assert run2.cancelled and run2.killed and not run2.finished
    assert got == [1] and run2.result is None
    assert 0.4 <= waited < 3.0, waited
    assert run2.exitcode is not None and run2.exitcode < 0  # killed by a signal
    with pytest.raises(ChildFailed, match="cancelled"):
        run2.raise_for_failure()
    assert time.perf_counter() - t0 < 60 and time.perf_counter() - t1 < 30


def test_hard_deadline_kills_an_overrunning_child() -> None:
    stop_calls: list[float] = []
    run = run_in_child(
        _stubborn,
        run_s=lambda startup: 0.3,
        grace_s=0.2,
        startup_s=20.0,
        on_poll=stop_calls.append,
    )
    assert run.killed and not run.cancelled and not run.finished
    assert run.started_s is not None
    assert stop_calls and stop_calls[-1] - run.started_s < 2.5


def test_crash_reports_the_exit_code() -> None:
    run = run_in_child(_crash, (7,))
    assert run.died and not run.finished and not run.killed
    assert run.exitcode == 7
    with pytest.raises(ChildFailed, match="exit code 7") as info:
        run.raise_for_failure()
    assert info.value.exitcode == 7


def test_exception_in_child_gives_message_and_traceback() -> None:
    run = run_in_child(_raise)
    assert not run.finished and not run.died
    assert run.error == "ValueError: bad input 42"
    assert "Traceback" in run.details and "_raise" in run.details
    with pytest.raises(ChildFailed, match="bad input 42") as info:
        run.raise_for_failure()
    assert "Traceback" in info.value.details


def test_unpicklable_arguments_raise_start_error() -> None:
    with pytest.raises(ChildStartError):
        run_in_child(_add, (lambda: 1, 2))


def _nested(channel: ChildChannel) -> int:
    inner = run_in_child(_add, (20, 22), exit_wait_s=0.0)
    return inner.raise_for_failure()


def test_non_daemon_child_may_start_its_own_child() -> None:
    # the GUI's dispatch child starts the OR-Tools child: daemon=False
    run = run_in_child(_nested, daemon=False)
    assert run.finished and run.result == 42, run.error
