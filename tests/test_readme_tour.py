"""The README's "A short tour" runs as written: its bash block, run for real by bash in a new
git repository (``my-project``) with this installation's ``agentctl`` first on PATH; every
command must exit 0. Lines the README marks ``(interactive)``, ``(long-running)`` or
``(edits your crontab)`` are the only ones left out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_proc import init_repo

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP = re.compile(r"#\s*\((interactive|long-running|edits your crontab)\)")


def tour_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A short tour", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, "no bash block in the README's tour"
    return match.group(1)


def runnable_lines() -> list[str]:
    return [line for line in tour_block().splitlines() if not SKIP.search(line)]


def test_the_tour_marks_what_it_cannot_run() -> None:
    skipped = [
        line.split("#")[0].strip() for line in tour_block().splitlines() if SKIP.search(line)
    ]
    assert skipped == [
        "agentctl feed --follow",
        "agentctl cron install --every 15m",
        "agentctl run",
        "agentctl board",
    ]
    assert "t-4k7q" not in tour_block(), "a made-up ID cannot exist in a fresh workspace"


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    init_repo(tmp_path / "my-project")
    script = tmp_path / "tour.sh"
    script.write_text(
        "set -euo pipefail\n"
        "trap 'echo \"tour failed at: $BASH_COMMAND\" >&2' ERR\n"
        + "\n".join(runnable_lines())
        + "\n",
        encoding="utf-8",
    )
    bin_dir = str(Path(sys.executable).parent)
    assert (Path(bin_dir) / "agentctl").is_file(), "agentctl is not installed next to this python"
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    root = tmp_path / "my-project"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", ".agentctl", "WORKING.md"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", "every change was committed"
    log = subprocess.run(
        ["git", "log", "--format=%an %s"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert any(line.startswith("sentry ") for line in log.splitlines()), log
    assert "Design the schema" in proc.stdout and "Storage decision" in proc.stdout
