"""Reading and changing the workspace configuration by key (``agentctl config``).

Every read shows the effective value and where it comes from: the environment
(``AGENTCTL_AUTOCOMMIT``, ``AGENTCTL_LOCK_TIMEOUT``), the file, or the built-in default. A
change is a mutation like any other (one ``config.changed`` event, one commit, an atomic
write of ``.agentctl/config.yaml`` that keeps every other line and comment), made by a person
only, and refused unless the whole resulting config passes the checks ``agentctl validate``
applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypedDict

from agentctl.core import config_keys
from agentctl.errors import PermissionDeniedError, UsageError, ValidationError
from agentctl.workspace.base import WorkspaceBase

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.rules import Actor

Source = Literal["env", "file", "default"]


class Setting(TypedDict):
    """One setting as ``config get|list`` show it."""

    key: str
    value: Any  # the effective value
    source: Source
    default: Any  # the built-in default
    env: str | None  # the variable that overrides it now, if any
    file: Any  # the file's value when the environment overrides it (else the same as value)


class SettingChange(TypedDict):
    """What ``config set|unset`` did (``changed`` False: the file already said so)."""

    key: str
    old: Any
    new: Any
    changed: bool
    setting: Setting


def check_key(key: str) -> str:
    """``key`` if it names a setting; else a usage error naming close matches."""
    if key in config_keys.leaf_keys():
        return key
    if key in config_keys.sections():
        inside = [k for k in config_keys.leaf_keys() if k.startswith(key + ".")]
        raise UsageError(
            f"{key!r} is a section of the config, not a setting",
            hint="its settings: " + ", ".join(inside[:8]) + (" ..." if len(inside) > 8 else ""),
        )
    from agentctl.core.secrets import SECRET_NAME

    close = config_keys.suggest(key)
    if SECRET_NAME.search(key.rsplit(".", 1)[-1]):
        hint = "secrets are never kept in the config: they come only from the environment (docs/secrets.md)"
    elif close:
        hint = "did you mean " + " or ".join(close) + "?"
    else:
        hint = "see 'agentctl config list'"
    raise UsageError(f"unknown config key {key!r}", hint=hint)


def parse_value(text: str, key: str) -> Any:
    """A command-line value as YAML: true/false, numbers, null, strings, ``[a, b]``, ``{a: b}``."""
    from agentctl.store.frontmatter import load_yaml_fast

    try:
        return load_yaml_fast(text, key)
    except ValidationError as exc:
        raise UsageError(f"the value for {key} is not valid YAML: {exc.problem}") from None


def _require_person(actor: Actor, doing: str) -> None:
    if actor.is_agent:
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may not {doing} the workspace config: only a person may",
            hint="a person runs 'agentctl config' (without --as or AGENTCTL_AGENT)",
        )


class SettingsOps(WorkspaceBase):
    def settings(self) -> list[Setting]:
        """Every setting of the config with its effective value and source, in the order of
        the config template."""
        from agentctl.config import default_settings, env_overrides, file_settings

        config = self.config
        in_file = file_settings(self.layout, self.index)
        overridden = env_overrides()
        found: list[Setting] = []
        defaults = default_settings(self.index)
        for key in config_keys.leaf_keys():
            value = config_keys.lookup(config, key)
            source: Source = "env" if key in overridden else "file" if key in in_file else "default"
            found.append(
                {
                    "key": key,
                    "value": value,
                    "source": source,
                    "default": defaults.get(key),
                    "env": overridden.get(key),
                    "file": in_file.get(key, defaults.get(key)),
                }
            )
        return found

    def setting(self, key: str) -> Setting:
        """One setting by dotted key (``heartbeat.sync``); an unknown key is a usage error."""
        check_key(key)
        return next(s for s in self.settings() if s["key"] == key)

    def set_setting(self, actor: Actor, key: str, value: str) -> SettingChange:
        """Set one setting in ``.agentctl/config.yaml`` (``value`` is YAML text). People only;
        the rest of the file keeps its bytes; refused (nothing written) unless the resulting
        config is valid. One ``config.changed`` event and one commit."""
        from agentctl.core import secrets

        _require_person(actor, "change")
        check_key(key)
        if secrets.mask(value) != value:
            raise UsageError(
                f"refused: the value for {key} looks like a secret (an API key or token)",
                hint="secrets are never kept in the config: they come only from the environment (docs/secrets.md)",
            )
        return self._change(actor, key, parse_value(value, key), remove=False)

    def unset_setting(self, actor: Actor, key: str) -> SettingChange:
        """Remove one setting from ``.agentctl/config.yaml``: the built-in default applies
        again. People only; a ``config.changed`` event when the file held it."""
        _require_person(actor, "change")
        check_key(key)
        return self._change(actor, key, None, remove=True)

    def _change(self, actor: Actor, key: str, value: Any, remove: bool) -> SettingChange:
        parts = key.split(".")
        try:
            return self._write_setting(actor, key, parts, value, remove)
        except _Unchanged:
            current = self.setting(key)
            return {
                "key": key,
                "old": current["file"],
                "new": current["file"],
                "changed": False,
                "setting": current,
            }

    def _write_setting(
        self, actor: Actor, key: str, parts: list[str], value: Any, remove: bool
    ) -> SettingChange:
        from agentctl import paths
        from agentctl.config import env_overrides, file_settings, parse_config
        from agentctl.store import frontmatter
        from agentctl.store.reading import read_record
        from agentctl.workspace.base import _refuse_symlinked_parents

        path = self.layout.config
        rel = self.layout.relative(path)
        with self._mutate(actor) as m:
            before = self.setting(key)
            held = file_settings(self.layout, self.index)
            if key not in held if remove else key in held and _same(held[key], value):
                raise _Unchanged  # not even a change of quoting or layout
            text = read_record(path, rel)
            crlf = "\r\n" in text  # a file written on Windows keeps its line endings
            document = frontmatter.load_yaml_roundtrip(text.replace("\r\n", "\n"), rel)
            if remove:
                frontmatter.remove_setting(document, parts)
            else:
                frontmatter.set_setting(document, parts, value, config_keys.leaf_keys())
            fresh = frontmatter.dump_yaml_roundtrip(document)
            if crlf:
                fresh = fresh.replace("\n", "\r\n")
            try:
                config = parse_config(fresh, rel)
            except ValidationError as exc:
                raise UsageError(
                    f"refused: {exc.message}",
                    hint=f"nothing was written; see 'agentctl config get {key}'",
                ) from None
            _refuse_symlinked_parents(paths.Layout(self.root, config["working"]["path"]))
            new = config_keys.lookup(config, key)
            if fresh == text or (
                not remove
                and key in held
                and _same(config_keys.lookup(parse_config(text, rel), key), new)
            ):
                raise _Unchanged  # the same setting in another spelling (10 and 10.0)
            m.write(path, fresh)
            if key == "git.autocommit" and new and "git.autocommit" not in env_overrides():
                m.commit_anyway = True  # the change that turns commits on is committed too
            data: ev.ConfigChanged = {"key": key, "old": before["file"], "new": new}
            if remove:
                data["unset"] = True
            m.record("config.changed", key, data)
        self._config = None  # the next read loads the new file
        return {
            "key": key,
            "old": before["file"],
            "new": new,
            "changed": True,
            "setting": self.setting(key),
        }


def _same(held: Any, value: Any) -> bool:
    """The file's value (as JSON data) is the one given (``1`` is not ``true`` or ``1.0``)."""
    import json

    def canonical(data: Any) -> str:
        return json.dumps(data, sort_keys=True, default=str)

    return canonical(held) == canonical(value)


class _Unchanged(Exception):
    """Leaves the mutation without writing: the file already says so."""
