"""Measure the fraction of recorded answers (tests/llm_replay.py) that end in applied actions,
each through one real heartbeat tick of a fresh copy of a workspace, the agentctl code taken
from ``--src`` (default: this checkout's), run in-process through the CLI's boundary.

    python tests/measure_answers.py                     # this code
    python tests/measure_answers.py --src /tmp/base/src # another checkout (e.g. before a change)
    python tests/measure_answers.py --repair-turns 0    # lenient reading only, no repair turn
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from llm_replay import CORPUS, MODEL, replay, setup  # noqa: E402
from llm_stub import serve  # noqa: E402


def warm_up(base: str) -> None:
    """litellm's first call loads lazily for seconds: not part of any answer's timing."""
    import litellm

    litellm.completion(model=MODEL, api_base=base, api_key="no-key-required",
                       messages=[{"role": "user", "content": "hi"}])  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(Path(__file__).parents[1] / "src"))
    parser.add_argument("--repair-turns", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=20.0, help="llm.timeout (seconds)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="agentctl-measure-"))
    sys.path.insert(0, args.src)  # this agentctl, imported in-process (subprocesses are slow)
    for key in [k for k in os.environ if k.startswith(("OPENAI_", "AGENTCTL_"))]:
        del os.environ[key]
    os.environ.update(HOME=str(scratch / "home"), NO_PROXY="127.0.0.1,localhost",
                      LITELLM_LOCAL_MODEL_COST_MAP="True", GIT_CEILING_DIRECTORIES=str(scratch),
                      NO_COLOR="1", USER="measure")  # fmt: skip
    (scratch / "home").mkdir()
    from agentctl.cli import boundary
    from agentctl.cli.app import app

    def run(*argv: str, cwd: Path | None = None) -> tuple[int, str]:
        out = io.StringIO()
        here = os.getcwd()
        os.chdir(cwd or here)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = boundary.run(app, list(argv))
        finally:
            os.chdir(here)
        return code, out.getvalue()

    results = []
    try:
        with serve() as stub:
            template = scratch / "template"
            template.mkdir()
            assert run("init", cwd=template)[0] == 0
            ids = setup(run, template, stub.base, args.timeout)
            warm_up(stub.base)
            if args.repair_turns is not None:
                config = template / ".agentctl" / "config.yaml"
                text = config.read_text(encoding="utf-8")
                assert "repair_turns: 1" in text, "this code has no repair turns"
                config.write_text(text.replace("repair_turns: 1", f"repair_turns: {args.repair_turns}"), "utf-8")  # fmt: skip
            for entry in CORPUS:
                root = scratch / entry.name
                shutil.copytree(template, root)
                if entry.delay:  # a model slower than the timeout
                    entry = dataclasses.replace(entry, delay=args.timeout + 5)
                outcome = replay(run, root, stub, entry, ids)
                results.append((entry.name, outcome.applied > 0, outcome.record.get("outcome"),
                                outcome.calls))  # fmt: skip
                print(*results[-1], file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name, applied, ended, calls in results:
        print(f"{name:26} {'applied' if applied else '-':8} {ended!s:8} calls={calls}")
    hits = sum(1 for r in results if r[1])
    print(
        json.dumps(
            {"applied": hits, "answers": len(results), "fraction": round(hits / len(results), 3)}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
