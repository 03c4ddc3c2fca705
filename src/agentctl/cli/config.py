"""``agentctl config get|list|set|unset``: the workspace configuration by dotted key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, globals_of, open_workspace, want_json
from agentctl.errors import PermissionDeniedError

if TYPE_CHECKING:
    from agentctl.workspace.settings import Setting

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Read and change the workspace configuration (.agentctl/config.yaml) by dotted key, "
    "e.g. heartbeat.sync.",
)

KEY_ARGUMENT: Any = typer.Argument(..., help="Dotted key, e.g. heartbeat.sync (see 'config list').")


def _format(value: Any) -> str:
    from agentctl.core.config_keys import format_value

    return format_value(value)


def _source_note(setting: Setting) -> str | None:
    if setting["source"] == "env":
        return f"{setting['key']} comes from ${setting['env']} (the file says {_format(setting['file'])})"
    return None


def _person_only(ctx: typer.Context) -> None:
    """Refuse before anything is read when an agent runs this (``--as`` or $AGENTCTL_AGENT)."""
    name = globals_of(ctx).as_agent
    if name:
        raise PermissionDeniedError(
            f"only a person may change the workspace config: this runs as the agent {name!r} "
            "(--as or AGENTCTL_AGENT)",
            hint="run it yourself, without --as and with AGENTCTL_AGENT unset",
        )


def _setting_json(setting: Setting) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "key": setting["key"],
        "value": setting["value"],
        "source": setting["source"],
        "default": setting["default"],
    }
    if setting["env"]:
        shown["env"] = setting["env"]
        shown["file"] = setting["file"]
    return shown


@app.command("get")
def get(ctx: typer.Context, key: str = KEY_ARGUMENT, json_: bool = JSON_OPTION) -> None:
    """Print a setting's effective value (YAML flow text: true, 2h, [a, b]).

    Where it comes from is noted on stderr when the environment overrides the file
    (AGENTCTL_AUTOCOMMIT, AGENTCTL_LOCK_TIMEOUT); --json gives "source": "file", "default" or
    "env". Exit 2 for an unknown key.
    """
    ws = open_workspace(ctx, warn=False)
    setting = ws.setting(key)
    if want_json(ctx, json_):
        output.emit_json(_setting_json(setting))
        return
    output.write(_format(setting["value"]) + "\n")
    note = _source_note(setting)
    if note:
        output.notice(note)


@app.command("list")
def list_(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Print every setting as KEY = VALUE: the effective config, defaults included.

    A setting the file does not hold is marked (default); one the environment overrides is
    marked with its variable. --json gives each key's value, source and default.
    """
    ws = open_workspace(ctx, warn=False)
    settings = ws.settings()
    if want_json(ctx, json_):
        output.emit_json({"settings": [_setting_json(s) for s in settings]})
        return
    lines = []
    for setting in settings:
        mark = ""
        if setting["source"] == "default":
            mark = "  (default)"
        elif setting["source"] == "env":
            mark = f"  (${setting['env']}; the file says {_format(setting['file'])})"
        lines.append(f"{setting['key']} = {_format(setting['value'])}{mark}\n")
    output.write("".join(lines))


def _report(ctx: typer.Context, json_: bool, change: Any, verb: str) -> None:
    setting = change["setting"]
    if want_json(ctx, json_):
        output.emit_json(
            {
                "key": change["key"],
                "old": change["old"],
                "new": change["new"],
                "changed": change["changed"],
                "setting": _setting_json(setting),
            }
        )
    elif change["changed"]:
        output.say(
            f"{verb} {change['key']} = {_format(change['new'])} (was {_format(change['old'])})"
        )
    else:
        output.say(f"unchanged: {change['key']} = {_format(change['new'])}")
    if setting["source"] == "env":
        output.notice(
            f"${setting['env']} overrides {setting['key']} here: it stays {_format(setting['value'])}"
        )


@app.command("set")
def set_(
    ctx: typer.Context,
    key: str = KEY_ARGUMENT,
    value: str = typer.Argument(
        ..., help="A YAML value: true, false, 3, 0.5, 2h, null, [a, b], {ui: [frontend]}."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Set a setting in .agentctl/config.yaml, keeping every other line and comment.

    People only (exit 7 for an agent). The whole config must stay valid: an unknown key or an
    invalid value is exit 2 and nothing is written. Secrets are never kept in the config: a
    value shaped like an API key is refused. One config.changed event and, with auto-commit,
    one commit.
    """
    _person_only(ctx)
    ws = open_workspace(ctx, warn=False)
    _report(ctx, json_, ws.set_setting(acting(ctx, ws), key, value), "set")


@app.command("unset")
def unset(ctx: typer.Context, key: str = KEY_ARGUMENT, json_: bool = JSON_OPTION) -> None:
    """Remove a setting from .agentctl/config.yaml: the built-in default applies again.

    People only (exit 7 for an agent); exit 2 for an unknown key. Nothing changes when the
    file does not hold the setting.
    """
    _person_only(ctx)
    ws = open_workspace(ctx, warn=False)
    _report(ctx, json_, ws.unset_setting(acting(ctx, ws), key), "unset")
