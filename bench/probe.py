"""The probe's categories re-measured (issue 23's closing note), with the test suite's own case lists
(``tests/probe/cases.py``):

1. HTTP fuzz: wrong answers (5xx, or a traceback in the body) of the editor, ``serve`` and the app
   form, each a real process, to every case of every route.
2. Policy bypasses: graphs that route generated content around a policy's guard and were not refused.
3. Resource bombs: each bomb given to a real ``nodeflow`` process; how it ended and its peak resident
   memory (``getrusage(RUSAGE_CHILDREN)`` of a wrapper that ran only it), against 500 MB.
4. Crafted artifacts: ``info`` and ``reproduce --yes`` of each hand-written provenance record.

    PYTHONPATH=. .venv/bin/python bench/probe.py

Takes about three minutes on a loaded machine (three servers start; about thirty short processes).
Last measured on 2 shared cores (load about 9):

    server      cases  wrong  of them 25.4
    editor        679      4             4   (/files/* and /api/inputs/from-output with names too long
    serve         235      0             0    for the file system: issue 25.4, the hardening branch)
    app form      233      0             0
    policy bypasses: 0 of 9 let through
    bombs: all 8 refused (7 at validation, exit 2; the contact sheet by its node, exit 1);
           peak RSS 45 MB each (50 MB for the contact sheet's run), against the 500 MB target
    crafted records: 11; reproduce --yes ran none (exit 1 or 2); peak RSS 47-48 MB
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.probe.cases import (  # noqa: E402 - the repository root goes on the path first
    BOMBS,
    BYPASSES,
    CRAFTED_RECORDS,
    EDITOR_ROUTES,
    RSS_LIMIT_MB,
    SERVE_ROUTES,
    app_requests,
    bomb_file,
    bypass_problems,
    crafted_png,
    measure,
    requests_for,
)


def http_fuzz(folder: Path) -> None:
    from tests.probe.http_probe import probe
    from tests.probe.servers import all_three

    cases = {"editor": requests_for(EDITOR_ROUTES), "serve": requests_for(SERVE_ROUTES), "app form": app_requests()}
    with all_three(folder / "servers") as servers:
        print(f"{'server':<10} {'cases':>6} {'wrong':>6} {'of them 25.4':>13}")
        for name, requests in cases.items():
            wrong, elsewhere = probe(servers[name.split()[0]], requests)
            print(f"{name:<10} {len(requests):>6} {len(wrong) + len(elsewhere):>6} {len(elsewhere):>13}")
            for line in wrong:
                print("   ", line[:160])


def bypasses(folder: Path) -> None:
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    executor = Executor(default_registry(), Settings(home=folder / "home", output_dir=folder / "out"))
    let_through = [name for name in BYPASSES if not bypass_problems(name, executor)]
    print(f"\npolicy bypasses: {len(let_through)} of {len(BYPASSES)} let through", *let_through, sep="\n  " if let_through else "")


def bombs(folder: Path) -> None:
    print(f"\n{'bomb':<44} {'command':<9} {'exit':>4} {'refused':>8} {'peak RSS':>9}")
    for name, (command, _, says) in BOMBS.items():
        path = bomb_file(name, folder)
        args = [command, str(path)] + (["--out", str(folder / "out")] if command == "run" else [])
        env = {**os.environ, "NODEFLOW_HOME": str(folder / "home"), "NODEFLOW_OUTPUT": str(folder / "out")}
        found = measure(args, env)
        refused = says in found["stderr"] and found["code"] in (1, 2)
        mark = "" if found["rss_mb"] < RSS_LIMIT_MB else f"  over {RSS_LIMIT_MB} MB"
        print(f"{name:<44} {command:<9} {found['code']:>4} {'yes' if refused else 'NO':>8} {found['rss_mb']:>6.0f} MB{mark}")


def crafted(folder: Path) -> None:
    work = folder / "work"
    work.mkdir()
    env = {**os.environ, "NODEFLOW_HOME": str(folder / "home"), "NODEFLOW_OUTPUT": str(folder / "out")}
    print(f"\n{'crafted record':<34} {'info':>5} {'reproduce':>10} {'peak RSS':>9}")
    for name in CRAFTED_RECORDS:
        artifact = crafted_png(name, folder)
        info = measure(["info", str(artifact)], env, cwd=work)
        again = measure(["reproduce", str(artifact), "--out", str(work / "r"), "--yes"], env, cwd=work)
        peak = max(info["rss_mb"], again["rss_mb"])
        print(f"{name:<34} {info['code']:>5} {again['code']:>10} {peak:>6.0f} MB")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as folder:
        http_fuzz(Path(folder))
        bypasses(Path(folder))
        bombs(Path(folder))
        crafted(Path(folder))


if __name__ == "__main__":
    main()
