"""Workspace configuration: ``.agentctl/config.yaml`` validated by :class:`models.Config`.

Reads get the validated config as plain data from the index cache (keyed by the file's
stat signature), so pydantic is imported only when the file changed. Environment overrides
(:data:`ENV_OVERRIDES`): ``AGENTCTL_LOCK_TIMEOUT`` (seconds) and ``AGENTCTL_AUTOCOMMIT`` (0/1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from agentctl.errors import UsageError, ValidationError
from agentctl.paths import Layout
from agentctl.store.index import Index, signature

if TYPE_CHECKING:
    from agentctl.core.records import ConfigRecord


def template_text(name: str) -> str:
    """A file from templates/ (installed as agentctl/_templates, or the source tree's)."""
    from importlib import resources

    packaged = resources.files("agentctl") / "_templates" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "templates" / name
    return source.read_text(encoding="utf-8")


def default_config_text(workspace_name: str, allow_simulated: bool = False) -> str:
    import json

    text = template_text("config.yaml").replace("{name}", json.dumps(workspace_name))
    return text.replace("{allow_simulated}", "true" if allow_simulated else "false")


def parse_config(text: str, path: str) -> ConfigRecord:
    """Validate config text; returns the complete config (defaults filled) as plain data."""
    from pydantic import ValidationError as PydanticError

    from agentctl.core.models import Config, check_workflow
    from agentctl.store.frontmatter import load_yaml_fast

    raw = load_yaml_fast(text, path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("config must be a YAML mapping", path, 1)
    try:
        config = Config.model_validate(raw)
    except PydanticError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ValidationError(f"{where}: {error['msg']}", path) from None
    problems = check_workflow(config.workflow)
    if problems:
        raise ValidationError(problems[0], path)
    return cast("ConfigRecord", config.model_dump(mode="json"))


def load_config(layout: Layout, index: Index) -> ConfigRecord:
    from stat import S_ISLNK

    from agentctl.store.reading import SYMLINK_PROBLEM, read_record

    path = layout.config
    rel = layout.relative(path)
    try:
        if S_ISLNK(os.stat(layout.dir, follow_symlinks=False).st_mode):
            raise ValidationError(SYMLINK_PROBLEM, layout.relative(layout.dir))
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise ValidationError("missing workspace config", str(path)) from None
    if S_ISLNK(st.st_mode):
        raise ValidationError(SYMLINK_PROBLEM, rel)

    def compute() -> ConfigRecord:
        return parse_config(read_record(path, rel), rel)

    # The cached value is the config with every default filled in: it is stale when the models
    # (new settings, new defaults) change, not only when the file does.
    code = _models_signature()
    config: ConfigRecord = index.cached("config", hash((signature(st), code)), compute)
    from agentctl.core import secrets

    secrets.add_names(config["secrets"]["env"])
    return apply_env(config)


# Settings an environment variable overrides: dotted key -> variable (set and not empty).
ENV_OVERRIDES = {"lock.timeout": "AGENTCTL_LOCK_TIMEOUT", "git.autocommit": "AGENTCTL_AUTOCOMMIT"}


def env_overrides() -> dict[str, str]:
    """The settings the environment overrides now: dotted key -> the variable's name."""
    return {key: name for key, name in ENV_OVERRIDES.items() if os.environ.get(name)}


def _models_signature() -> int:
    models = Path(__file__).parent / "core" / "models.py"
    try:
        return signature(os.stat(models))
    except OSError:  # a zipped or frozen install: the package version stands in for the models
        import zlib

        from agentctl import __version__

        return zlib.crc32(__version__.encode())  # str hashes differ between processes


def default_settings(index: Index) -> dict[str, object]:
    """Every setting's built-in default by dotted key (the models' defaults, cached in the
    index while the models are unchanged)."""
    from agentctl.core.config_keys import leaf_keys, lookup

    def compute() -> dict[str, object]:
        empty = parse_config("{}", "(defaults)")
        return {key: lookup(empty, key) for key in leaf_keys()}

    found: dict[str, object] = index.cached("config_defaults", _models_signature(), compute)
    return found


def apply_env(config: ConfigRecord) -> ConfigRecord:
    timeout = os.environ.get(ENV_OVERRIDES["lock.timeout"])
    if timeout:
        try:
            config["lock"]["timeout"] = float(timeout)
        except ValueError:
            raise UsageError(
                f"AGENTCTL_LOCK_TIMEOUT must be a number of seconds, not {timeout!r}"
            ) from None
    autocommit = os.environ.get(ENV_OVERRIDES["git.autocommit"])
    if autocommit:
        config["git"]["autocommit"] = autocommit.lower() not in ("0", "false", "no", "off")
    return config


def file_settings(layout: Layout, index: Index) -> dict[str, object]:
    """The settings the config file itself holds (dotted key -> value, without the defaults
    the model fills in), cached in the index like the config. Call after :func:`load_config`
    (which checks the file)."""
    from agentctl.core.config_keys import leaf_keys

    path = layout.config
    rel = layout.relative(path)

    def compute() -> dict[str, object]:
        import json

        from agentctl.store.frontmatter import load_yaml_fast
        from agentctl.store.reading import read_record

        raw = load_yaml_fast(read_record(path, rel), rel) or {}
        found: dict[str, object] = {}
        for key in leaf_keys():
            value: object = raw
            for part in key.split("."):
                if not isinstance(value, dict) or part not in value:
                    break
                value = value[part]
            else:
                found[key] = value
        return cast("dict[str, object]", json.loads(json.dumps(found, default=str)))

    found: dict[str, object] = index.cached(
        "config_file", signature(os.stat(path, follow_symlinks=False)), compute
    )
    return found
