"""Benchmark: the live board's time to first paint and key-press-to-repaint latency of moving
a card, at 100 / 1,000 / 10,000 tasks, headless. Reports medians; never a pass/fail timing.

    python bench/bench_tui.py [--sizes 100 1000 10000] [--runs 7] [--moves 12] [--out bench/results/tui.md]

* first paint: a fresh process per run (as ``agentctl board`` starts), from just before the
  process is spawned until the first frame that shows the workspace's cards is composed
  (the import of typer's CLI module, opening the workspace, building the app, the quick
  first snapshot: the top cards of every column). ``first frame`` is the first frame at all
  (columns may still say "loading"); ``full board`` is the first frame after every task has
  been read (what filtering and deep scrolling need).
* card move: in one board process, a card is moved between in_progress and review with
  ``]`` / ``[``; ``repaint`` is the time from the key press until a frame showing the card in
  its new column is composed (drawn before the write finishes), ``confirmed`` until the
  write is on disk and the board re-read from the workspace is composed. The workspace
  commits every mutation to git (the default), so ``confirmed`` includes a git commit.
  Moves are spaced so the watcher's re-read of the board's own write has finished.

Frames are timed by wrapping ``App._display``, which textual calls with each composed frame
(headless runs compose frames but write them nowhere). Bytecode caching must be on
(``unset PYTHONDONTWRITEBYTECODE``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZE = (160, 48)


# -- the child: one headless board -------------------------------------------------------------


def _instrument(app: Any) -> list[float]:
    frames: list[float] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original(screen, renderable)

    app._display = display
    return frames


def child_first_paint(root: str, spawned_at: float) -> None:
    import agentctl.cli.app  # noqa: F401 - the CLI's own imports, as `agentctl board` pays them
    from agentctl.tui.app import make_app
    from agentctl.workspace import Workspace

    ws = Workspace.open(root)
    for problem in ws.refresh():
        sys.stderr.write(f"warning: {problem}\n")
    app = make_app(ws)
    frames = _instrument(app)
    applied: list[tuple[int, bool]] = []  # (frames composed before, complete) per snapshot shown
    apply = app.apply

    def recorded_apply(snapshot: Any) -> None:
        apply(snapshot)
        applied.append((len(frames), snapshot.complete))

    app.apply = recorded_apply  # type: ignore[method-assign]
    result: dict[str, float] = {}
    offset = time.time() - time.perf_counter()  # perf_counter -> wall clock

    async def pilot(p: Any) -> None:
        def full() -> int | None:
            return next((n for n, complete in applied if complete), None)

        while full() is None or len(frames) <= (full() or 0):
            await asyncio.sleep(0.001)
        result["first_frame"] = frames[0] + offset - spawned_at
        result["first_paint"] = frames[applied[0][0]] + offset - spawned_at
        result["full_board"] = frames[full() or 0] + offset - spawned_at
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    print(json.dumps(result))


def child_moves(root: str, moves: int) -> None:
    from agentctl.tui.app import make_app
    from agentctl.workspace import Workspace

    ws = Workspace.open(root)
    app = make_app(ws)
    frames = _instrument(app)
    repaint: list[float] = []
    confirmed: list[float] = []
    shown: list[tuple[int, Any]] = []  # (frames composed before, board) per board shown

    def column_of(board: Any, task_id: str) -> str | None:
        for column in board.columns if board else ():
            if any(card.id == task_id for card in column.cards):
                return str(column.status)
        return None

    async def first_frame_after(call: int) -> float:
        while len(frames) <= shown[call][0]:
            await asyncio.sleep(0.0005)
        return frames[shown[call][0]]

    async def pilot(p: Any) -> None:
        while not app.ready:  # the whole board, not only the first paint
            await asyncio.sleep(0.001)
        board = app.board
        set_board = board.set_board

        def recorded(new: Any, counts: Any, show_done: bool, follow: str | None = None) -> None:
            set_board(new, counts, show_done, follow)
            shown.append((len(frames), new))

        board.set_board = recorded  # type: ignore[method-assign]
        await p.pause(1.0)
        task_id = next(c for c in board.board.columns if c.status == "in_progress").cards[0].id
        for n in range(moves):
            key, target = (
                ("right_square_bracket", "review")
                if n % 2 == 0
                else ("left_square_bracket", "in_progress")
            )
            columns = board.board.columns
            number = next(i for i, c in enumerate(columns) if column_of(Board(columns[i]), task_id))
            board.select(number, [c.id for c in columns[number].cards].index(task_id))
            await p.pause(0.3)
            first = len(shown)
            start = time.perf_counter()
            await p.press(key)
            while not any(column_of(b, task_id) == target for _, b in shown[first:]):
                await asyncio.sleep(0.0005)
            early = next(
                i for i in range(first, len(shown)) if column_of(shown[i][1], task_id) == target
            )
            repaint.append(await first_frame_after(early) - start)
            while (
                app._pending_writes
                or app.snapshot is None
                or column_of(app.snapshot.board, task_id) != target
                or board.board is not app.snapshot.board
            ):
                await asyncio.sleep(0.0005)
            done = next(i for i in range(first, len(shown)) if shown[i][1] is app.snapshot.board)
            confirmed.append(await first_frame_after(done) - start)
            await p.pause(1.5)  # let the watcher re-read our own write before the next move
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    print(json.dumps({"repaint": repaint, "confirmed": confirmed}))


class Board:
    """One column viewed as a board (for :func:`column_of`)."""

    def __init__(self, column: Any) -> None:
        self.columns = (column,)


# -- the parent ----------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args[:1]} failed ({proc.returncode}):\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench_size(n: int, runs: int, moves: int, base: Path) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_cli import build

    root = base / f"ws-{n}"
    build(root, n)
    _child("--child-first-paint", str(root), str(time.time()))  # warm the page cache and bytecode
    paints, frames, fulls = [], [], []
    for _ in range(runs):
        result = _child("--child-first-paint", str(root), str(time.time()))
        paints.append(result["first_paint"])
        frames.append(result["first_frame"])
        fulls.append(result["full_board"])
    moved = _child("--child-moves", str(root), str(moves))
    ms = 1000.0
    return {
        "first frame (loading)": round(statistics.median(frames) * ms, 1),
        "first paint with cards": round(statistics.median(paints) * ms, 1),
        "full board read and shown": round(statistics.median(fulls) * ms, 1),
        "card move: key press to repaint": round(statistics.median(moved["repaint"]) * ms, 1),
        "card move: key press to confirmed write": round(
            statistics.median(moved["confirmed"]) * ms, 1
        ),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-first-paint":
        child_first_paint(sys.argv[2], float(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-moves":
        child_moves(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=7, help="first-paint runs per size")
    parser.add_argument("--moves", type=int, default=12, help="card moves timed per size")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    table: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-tui-") as tmp:
        for n in args.sizes:
            row = bench_size(n, args.runs, args.moves, Path(tmp))
            print(json.dumps({"tasks": n, **row}), file=sys.stderr)
            for label, value in row.items():
                table.setdefault(label, {})[n] = value
    header = "| measure (median ms) | " + " | ".join(f"{n:,} tasks" for n in args.sizes) + " |"
    lines = [header, "|---|" + "---:|" * len(args.sizes)]
    for label, by_size in table.items():
        lines.append(f"| {label} | " + " | ".join(str(by_size[n]) for n in args.sizes) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
