"""Workspace configuration: ``.agentctl/config.yaml`` validated by :class:`models.Config`.

Reads get the validated config as plain data from the index cache (keyed by the file's
stat signature), so pydantic is imported only when the file changed. Environment overrides:
``AGENTCTL_LOCK_TIMEOUT`` (seconds) and ``AGENTCTL_AUTOCOMMIT`` (0/1).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, cast

from agentctl.errors import UsageError, ValidationError
from agentctl.paths import Layout
from agentctl.store.index import Index, signature

if TYPE_CHECKING:
    from agentctl.core.records import ConfigRecord


def template_text(name: str) -> str:
    """A file from templates/ (installed as agentctl/_templates, or the source tree's)."""
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
    models = Path(__file__).parent / "core" / "models.py"
    try:
        code = signature(os.stat(models))
    except OSError:  # a zipped or frozen install: the package version stands in for the models
        import zlib

        from agentctl import __version__

        code = zlib.crc32(__version__.encode())  # str hashes differ between processes
    config: ConfigRecord = index.cached("config", hash((signature(st), code)), compute)
    from agentctl.core import secrets

    secrets.add_names(config["secrets"]["env"])
    return apply_env(config)


def apply_env(config: ConfigRecord) -> ConfigRecord:
    timeout = os.environ.get("AGENTCTL_LOCK_TIMEOUT")
    if timeout:
        try:
            config["lock"]["timeout"] = float(timeout)
        except ValueError:
            raise UsageError(
                f"AGENTCTL_LOCK_TIMEOUT must be a number of seconds, not {timeout!r}"
            ) from None
    autocommit = os.environ.get("AGENTCTL_AUTOCOMMIT")
    if autocommit:
        config["git"]["autocommit"] = autocommit.lower() not in ("0", "false", "no", "off")
    return config
