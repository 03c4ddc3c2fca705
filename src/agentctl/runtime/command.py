"""The ``command`` runtime: any CLI as an agent (``claude -p``, ``codex exec``, ``aider``...).

The agent record's ``command`` is an argument list, run without a shell:

- the prompt goes to the child's stdin: the system text, a line ``---``, then the work;
- an argument that is exactly ``{prompt}`` is replaced by that text instead, and one that is
  exactly ``{prompt_file}`` by the path of a temporary file holding it (for CLIs that take the
  message as an option, like ``aider --message-file``); stdin is then empty;
- the working directory is the workspace root; the environment is this process's plus
  ``AGENTCTL_AGENT`` (so the child's own ``agentctl`` calls act as the agent and are
  permission-checked), ``AGENTCTL_WORKSPACE`` and, when the tick is about one task,
  ``AGENTCTL_TASK``;
- the child runs in its own session; on timeout (``command_timeout`` in the config, default
  900 s) its whole process group gets SIGTERM, then SIGKILL after a short grace;
- stdout is the answer, at most 256 KiB (more is drained and dropped, with a marker line);
  undecodable bytes are replaced. A non-zero exit is a :class:`RuntimeFailure` quoting the
  last line of stderr that mentions an error (else its last line);
- the agent's ``output`` says how stdout is read: ``text`` (the default) as printed;
  ``claude-json`` the ``result`` field of ``claude -p --output-format json`` (with its token
  counts and cost; ``is_error`` is a failure); ``gemini-json`` the ``response`` field of
  ``gemini --output-format json`` (an ``error`` object is a failure). Presets for the common
  coding-agent CLIs are in runtime/presets.py.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path

from agentctl.core.secrets import mask
from agentctl.errors import RuntimeFailure
from agentctl.procs import run_in_group
from agentctl.runtime.base import Answer, Request
from agentctl.store import atomic

DEFAULT_TIMEOUT = 900.0  # seconds; coding-agent CLIs routinely take minutes
OUTPUT_LIMIT = 256 * 1024  # bytes of stdout kept
STDERR_LIMIT = 64 * 1024  # bytes of stderr kept (the end: that is where errors are)
KILL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL to the process group
DRAIN_GRACE = 2.0  # seconds to wait for the pipes to close once the child has exited
PROMPT_ARG_LIMIT = 100 * 1024  # Linux refuses single arguments over 128 KiB
SEPARATOR = "\n\n---\n\n"
PROMPT, PROMPT_FILE = "{prompt}", "{prompt_file}"
_ERROR_WORDS = re.compile(r"\b(error|fatal|failed|denied)\b", re.IGNORECASE)


def compose(system: str, prompt: str, turns: tuple[tuple[str, str], ...] = ()) -> str:
    """What the child reads: the system text, a Markdown rule, the work (and, in a repair
    turn, each earlier answer followed by what was wrong with it)."""
    text = f"{system.strip()}{SEPARATOR}{prompt.strip()}"
    for answer, reply in turns:
        text += f"{SEPARATOR}Your previous answer was:\n{answer.strip()}{SEPARATOR}{reply.strip()}"
    return text + "\n"


def _timeout(config: Mapping[str, object]) -> float:
    value = config.get("command_timeout")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_TIMEOUT


def _error_line(stderr: str) -> str:
    """The line of stderr that best says what went wrong: the last one mentioning an error,
    else the last one (hints and usage notes often follow the error itself)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ""
    flagged = [line for line in lines if _ERROR_WORDS.search(line)]
    line = (flagged or lines)[-1]
    return line if len(line) <= 200 else line[:199] + "…"


class CommandRuntime:
    """Runs the agent's ``command`` with the prompt and returns its stdout."""

    def run(self, request: Request) -> Answer:
        agent = str(request.agent.get("name") or "?")
        argv = request.agent.get("command")
        if (
            not isinstance(argv, list)
            or not argv
            or not all(isinstance(a, str) and a for a in argv)
        ):
            raise RuntimeFailure(
                f"agent {agent}: no command configured for the command runtime",
                hint=f"set command: [claude, -p] (an argument list) in .agentctl/agents/{agent}.md",
            )
        text = compose(request.system, request.prompt, request.turns)
        timeout = _timeout(request.config)
        env = dict(os.environ)
        env["AGENTCTL_AGENT"] = agent
        env["AGENTCTL_WORKSPACE"] = str(request.workspace_root)
        if request.task_id:
            env["AGENTCTL_TASK"] = request.task_id
        else:
            env.pop("AGENTCTL_TASK", None)

        with tempfile.TemporaryDirectory(prefix="agentctl-prompt-") as scratch:
            args, stdin_text = list(argv), text
            if PROMPT in args[1:]:
                if len(text.encode("utf-8")) > PROMPT_ARG_LIMIT:
                    raise RuntimeFailure(
                        f"agent {agent}: the prompt is too long to pass as an argument",
                        hint=f"use {PROMPT_FILE} or stdin instead of {PROMPT} in the agent's command",
                    )
                args = [text if a == PROMPT else a for a in args]
                stdin_text = ""
            if PROMPT_FILE in args[1:]:
                prompt_path = Path(scratch) / "prompt.md"
                atomic.write_text(prompt_path, text)
                args = [str(prompt_path) if a == PROMPT_FILE else a for a in args]
                stdin_text = ""
            program = args[0]
            if request.confine is not None:  # the tick's containment: sandbox argv, broker env
                env.update(request.confine.env)
                args = request.confine.wrap(args)
            answer = self._execute(
                agent, args, stdin_text, request.workspace_root, env, timeout, program
            )
        return read_output(agent, str(request.agent.get("output") or "text"), answer)

    def _execute(
        self,
        agent: str,
        args: list[str],
        stdin_text: str,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        program: str,  # the agent's program, named in messages (args may start with the sandbox)
    ) -> Answer:
        try:
            done = run_in_group(
                args, cwd=cwd, env=env, stdin=stdin_text.encode("utf-8"), timeout=timeout,
                kill_grace=KILL_GRACE, drain_grace=DRAIN_GRACE, stdout_limit=OUTPUT_LIMIT,
                stderr_limit=STDERR_LIMIT, stderr_tail=True,
            )  # fmt: skip
        except FileNotFoundError:
            raise RuntimeFailure(
                f"agent {agent}: command not found: {program}",
                hint="install it, or put its absolute path in the agent's command (cron runs with a short PATH)",
            ) from None
        except PermissionError:
            raise RuntimeFailure(f"agent {agent}: command is not executable: {program}") from None
        except OSError as exc:
            raise RuntimeFailure(
                f"agent {agent}: cannot run {program}: {exc.strerror or exc}"
            ) from None

        if done.timed_out:
            raise RuntimeFailure(
                f"agent {agent}: command {program} timed out after {timeout:g} s (its process group was killed)",
                hint="raise command_timeout in .agentctl/config.yaml",
            )
        stderr = done.stderr.decode("utf-8", errors="replace")
        if done.returncode != 0:
            if done.returncode < 0:
                how = f"was killed by {signal.Signals(-done.returncode).name}"
            else:
                how = f"exited with status {done.returncode}"
            detail = _error_line(mask(stderr))  # the message goes to the run log, an event, git
            raise RuntimeFailure(
                f"agent {agent}: command {program} {how}" + (f": {detail}" if detail else "")
            )
        stdout = done.stdout.decode("utf-8", errors="replace")
        if done.stdout_total > OUTPUT_LIMIT:
            stdout += f"\n[agentctl: output truncated at {OUTPUT_LIMIT // 1024} KiB of {done.stdout_total:,} bytes]\n"
        return Answer(text=stdout)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def read_output(agent: str, output: str, answer: Answer) -> Answer:
    """The answer in a CLI's stdout, read the way the agent's ``output`` says."""
    import json

    if output == "text":
        return answer
    try:
        data = json.loads(answer.text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        first = next((line.strip() for line in answer.text.splitlines() if line.strip()), "")
        raise RuntimeFailure(
            f"agent {agent}: the output is not the JSON object {output} expects"
            + (f" (it starts: {mask(first[:120])})" if first else " (it is empty)"),
            hint="check the agent's command (e.g. --output-format json) or set its output to text",
        )
    if output == "claude-json":
        text, usage = data.get("result"), data.get("usage")
        if data.get("is_error") or not isinstance(text, str):
            why = (
                text if isinstance(text, str) and text else str(data.get("subtype") or "no result")
            )
            raise RuntimeFailure(
                f"agent {agent}: claude reported an error: {mask(why.splitlines()[0][:200])}"
            )
        usage = usage if isinstance(usage, dict) else {}
        return Answer(
            text=text,
            tokens_in=int(_number(usage.get("input_tokens"))),
            tokens_out=int(_number(usage.get("output_tokens"))),
            cost_usd=_number(data.get("total_cost_usd")),
        )
    text, error = data.get("response"), data.get("error")
    if isinstance(error, dict) or not isinstance(text, str):
        message = error.get("message") if isinstance(error, dict) else None
        why = str(message or "no response")
        raise RuntimeFailure(
            f"agent {agent}: gemini reported an error: {mask(why.splitlines()[0][:200] if why else why)}"
        )
    return Answer(text=text)
