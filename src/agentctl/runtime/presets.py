"""Ready-made command lines for coding-agent CLIs on the ``command`` runtime
(``agent add NAME --runtime command --preset claude``). Pure data: docs/integrations.md
describes each one.

``{prompt}`` / ``{prompt_file}`` are the command runtime's placeholders (runtime/command.py):
without one the prompt goes to stdin. ``output`` is how stdout is read: ``text`` as printed,
``claude-json`` / ``gemini-json`` the answer field of the CLI's JSON output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    command: tuple[str, ...]
    output: str
    prompt: str  # how the prompt is passed, for docs and `agent show`
    note: str


PRESETS: dict[str, Preset] = {
    "claude": Preset(
        ("claude", "-p", "--output-format", "json"),
        "claude-json",
        "stdin",
        "Claude Code in print mode; the answer is the JSON's 'result' field (is_error fails the tick), "
        "with its token counts and cost",
    ),
    "codex": Preset(
        ("codex", "exec", "--skip-git-repo-check", "-"),
        "text",
        "stdin ('-')",
        "Codex non-interactive: progress goes to stderr, only the final message to stdout",
    ),
    "gemini": Preset(
        ("gemini", "--output-format", "json", "-p", "{prompt}"),
        "gemini-json",
        "argument (-p)",
        "Gemini CLI headless mode; the answer is the JSON's 'response' field ('error' fails the tick)",
    ),
    "aider": Preset(
        (
            "aider",
            "--message-file",
            "{prompt_file}",
            "--yes-always",
            "--no-auto-commits",
            "--no-git",
            "--no-pretty",
            "--no-stream",
            "--no-check-update",
            "--no-analytics",
            "--no-restore-chat-history",
            "--chat-history-file",
            "/dev/null",
            "--input-history-file",
            "/dev/null",
        ),  # fmt: skip
        "text",
        "file (--message-file)",
        "aider, one message then exit; no commits, no git, and no .aider.chat.history.md or "
        ".aider.input.history left in the workspace (histories go to /dev/null)",
    ),
    "opencode": Preset(
        ("opencode", "run", "{prompt}"),
        "text",
        "argument",
        "opencode's non-interactive run; its reply is printed as text",
    ),
}
NAMES: tuple[str, ...] = tuple(PRESETS)
