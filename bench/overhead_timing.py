"""Side-by-side timing shared by bench/pipeline_overhead.py and bench/family_overhead.py: the clock,
one timed call, runs alternated between plain and nodeflow, and the table's rows."""

from __future__ import annotations

import statistics
import time

PROMPT = "a lighthouse on a cliff at dawn, oil painting"


# wall: what a user waits; process: this process's CPU seconds (all its threads), which other work on a
# shared machine does not inflate (waits for disk are not counted; the runs here barely wait)
CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
clock = CLOCKS["wall"]


def set_clock(name: str) -> None:
    """Time with ``name`` (a key of CLOCKS) from now on."""
    global clock
    clock = CLOCKS[name]


def timed(function) -> tuple[float, object]:
    started = clock()
    value = function()
    return clock() - started, value


def row(name: str, plain: list[float], ours: list[float], note: str = "") -> None:
    p, o = statistics.median(plain), statistics.median(ours)
    best = min(ours) / min(plain)  # the fastest runs are the least disturbed by other work
    print(f"| {name:<34} | {p * 1000:10.1f} | {o * 1000:11.1f} | {o / p:6.3f} | {best:6.3f} | {note}")


def header() -> None:
    print(f"| {'workload':<34} | {'plain ms':>10} | {'nodeflow ms':>11} | {'ratio':>6} | {'min':>6} | notes")
    print(f"|{'-' * 36}|{'-' * 12}|{'-' * 13}|{'-' * 8}|{'-' * 8}|------")


def side_by_side(plain, ours, repeats: int) -> tuple[list[float], list[float]]:
    """Time both, alternating which goes first (ABBA), so drifting machine load hits both alike."""
    plain_times, our_times = [], []
    for seed in range(1, repeats + 1):
        order = [(plain, plain_times), (ours, our_times)]
        for function, times in order if seed % 2 else order[::-1]:
            times.append(timed(lambda: function(seed))[0])  # noqa: B023  (called in this same iteration)
    return plain_times, our_times
