"""Benchmark: the live board's time to first paint, peak memory and key-press-to-repaint
latency of moving a card, at 100 / 1,000 / 10,000 / 100,000 tasks, headless, against two
floors measured in the same run. Reports medians; never a pass/fail timing.

    python bench/bench_tui.py [--sizes 100 1000 10000 100000] [--runs 7] [--moves 12]
                              [--work DIR] [--no-freshness] [--profile N] [--out FILE]

Workspaces are built once and kept in ``--work`` (default ``$TMPDIR/agentctl-bench-tui``):
up to 10,000 tasks by ``bench/bench_cli.py``'s ``build``, beyond by copying those task files
under new IDs (``bench/bench_index.py``'s trick), then committed to git.

* first paint: a fresh process per run (as ``agentctl board`` starts), from just before the
  process is spawned until the first frame that shows the workspace's cards is composed
  (the import of typer's CLI module, opening the workspace, the index's freshness check,
  building the app, the first snapshot). ``first frame`` is the first frame at all (columns
  may still say "loading"). ``peak RSS`` is the child's ``ru_maxrss``.
* floors, interleaved run by run with the first paints: ``typer floor``, a trivial typer
  app (one command that returns) from spawn to exit; ``textual floor``, a trivial textual
  app (one label) from spawn to its first composed frame, headless at the same size.
* ``--no-freshness``: the children skip the index's freshness check (the stat of every
  record file, which issue 15 removes elsewhere); the index is warm, so nothing is missed.
* ``--profile N``: one more first paint at the largest size under cProfile; the N
  functions with the most cumulative time go to stderr.
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


def _skip_freshness() -> None:
    """Serve the (warm) index as it is: no stat of every record file."""
    from agentctl.workspace.base import WorkspaceBase

    def refresh(self: Any, force: bool = False, full: bool = False) -> list[Any]:
        self._problems = self._problems or []
        return list(self._problems)

    WorkspaceBase.refresh = refresh  # type: ignore[method-assign]


def child_first_paint(root: str, spawned_at: float) -> None:
    import agentctl.cli.app  # noqa: F401 - the CLI's own imports, as `agentctl board` pays them
    from agentctl.tui.app import make_app
    from agentctl.workspace import Workspace

    if os.environ.get("BENCH_TUI_NO_FRESHNESS"):
        _skip_freshness()
    ws = Workspace.open(root)
    for problem in ws.refresh():
        sys.stderr.write(f"warning: {problem}\n")
    app = make_app(ws)
    frames = _instrument(app)
    applied: list[int] = []  # frames composed before each snapshot shown
    apply = app.apply

    def recorded_apply(snapshot: Any) -> None:
        apply(snapshot)
        applied.append(len(frames))

    app.apply = recorded_apply  # type: ignore[method-assign]
    result: dict[str, float] = {}
    offset = time.time() - time.perf_counter()  # perf_counter -> wall clock

    async def pilot(p: Any) -> None:
        while not applied or len(frames) <= applied[0]:
            await asyncio.sleep(0.001)
        result["first_frame"] = frames[0] + offset - spawned_at
        result["first_paint"] = frames[applied[0]] + offset - spawned_at
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    print(json.dumps(result))


def child_textual_floor(spawned_at: float) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class Hello(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("hello")

    app = Hello()
    frames = _instrument(app)
    offset = time.time() - time.perf_counter()
    result: dict[str, float] = {}

    async def pilot(p: Any) -> None:
        while not frames:
            await asyncio.sleep(0.001)
        result["first_frame"] = frames[0] + offset - spawned_at
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=pilot)
    print(json.dumps(result))


TYPER_FLOOR = (
    "import typer\napp = typer.Typer()\n@app.command()\ndef main() -> None:\n    pass\napp()\n"
)


def child_moves(root: str, moves: int) -> None:
    from agentctl.tui.app import make_app
    from agentctl.workspace import Workspace

    if os.environ.get("BENCH_TUI_NO_FRESHNESS"):
        _skip_freshness()
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
        while not app.ready:
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


def _child(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this file as a child; its JSON result plus its peak RSS (``rss_mib``)."""
    argv = [sys.executable, __file__, *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, env=env or _env(), stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        raise SystemExit(f"child {args[:1]} failed ({code}):\n{stderr}")
    if stderr.strip():
        sys.stderr.write(stderr)
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def _typer_floor() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", TYPER_FLOOR], env=_env(), check=True)
    return time.perf_counter() - start


def workspace(work: Path, n: int) -> Path:
    """The benchmark's workspace of ``n`` tasks, built once and committed."""
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    from bench_index import workspace as build_or_copy

    root = build_or_copy(work, n)
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    if status.strip():
        env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}  # fmt: skip
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "bench"], check=True, env=env)
    return root


def bench_size(n: int, runs: int, moves: int, work: Path, env: dict[str, str]) -> dict[str, float]:
    root = workspace(work, n)
    _child("--child-first-paint", str(root), str(time.time()), env=env)  # warm caches, index
    paints, frames, rss, typer_floor, textual_floor = [], [], [], [], []
    for _ in range(runs):  # interleaved: load on a shared machine falls on all three alike
        result = _child("--child-first-paint", str(root), str(time.time()), env=env)
        paints.append(result["first_paint"])
        frames.append(result["first_frame"])
        rss.append(result["rss_mib"])
        typer_floor.append(_typer_floor())
        textual_floor.append(_child("--child-textual-floor", str(time.time()))["first_frame"])
    moved = _child("--child-moves", str(root), str(moves), env=env)
    ms = 1000.0
    paint = statistics.median(paints)
    return {
        "first frame (loading)": round(statistics.median(frames) * ms, 1),
        "first paint with cards": round(paint * ms, 1),
        "typer floor (trivial app, spawn to exit)": round(statistics.median(typer_floor) * ms, 1),
        "textual floor (trivial app, first frame)": round(statistics.median(textual_floor) * ms, 1),
        "first paint / typer floor": round(paint / statistics.median(typer_floor), 2),
        "first paint / textual floor": round(paint / statistics.median(textual_floor), 2),
        "peak RSS of the first paint, MiB": round(max(rss), 1),
        "card move: key press to repaint": round(statistics.median(moved["repaint"]) * ms, 1),
        "card move: key press to confirmed write": round(
            statistics.median(moved["confirmed"]) * ms, 1
        ),
        "peak RSS after the moves, MiB": round(moved["rss_mib"], 1),
    }


def profile(root: Path, top: int, env: dict[str, str]) -> None:
    """One first paint under cProfile; the ``top`` functions by cumulative time to stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "paint.prof"
        argv = [sys.executable, "-m", "cProfile", "-o", str(out), __file__,
                "--child-first-paint", str(root), str(time.time())]  # fmt: skip
        subprocess.run(argv, env=env, check=True, capture_output=True)
        import pstats

        pstats.Stats(str(out), stream=sys.stderr).sort_stats("cumulative").print_stats(top)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-first-paint":
        child_first_paint(sys.argv[2], float(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-textual-floor":
        child_textual_floor(float(sys.argv[2]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-moves":
        child_moves(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    parser.add_argument("--runs", type=int, default=7, help="first-paint runs per size")
    parser.add_argument("--moves", type=int, default=12, help="card moves timed per size")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "agentctl-bench-tui"
    )
    parser.add_argument("--no-freshness", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = _env()
    if args.no_freshness:
        env["BENCH_TUI_NO_FRESHNESS"] = "1"
    table: dict[str, dict[int, float]] = {}
    for n in args.sizes:
        row = bench_size(n, args.runs, args.moves, args.work, env)
        print(json.dumps({"tasks": n, **row}), file=sys.stderr, flush=True)
        for label, value in row.items():
            table.setdefault(label, {})[n] = value
    if args.profile:
        profile(workspace(args.work, max(args.sizes)), args.profile, env)
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
