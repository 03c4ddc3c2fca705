"""The exact-match response cache of the ``llm`` runtime (``.agentctl/local/llm-cache/``).

One JSON file per key, written atomically, so concurrent processes never see half an entry
and the last writer of the same key wins (the entries are equivalent). The key is a SHA-256 of
what decides the answer: model, messages, max_tokens, temperature, whether JSON output was
requested (or a JSON Schema), and the endpoint (``api_base`` without any user:password part, since two servers
can serve different models under one name). It never includes credentials, and an entry holds
only the answer and its original usage, so nothing secret is written. Deleting the directory is always safe.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from agentctl.core import clock
from agentctl.store import atomic

CACHE_DIR = "llm-cache"
FORMAT = 1


def cache_key(
    model: str,
    messages: list[dict[str, str]],
    max_tokens: int,
    temperature: float,
    json_output: bool | str,  # JSON mode, or "schema" when a JSON Schema constrained it
    api_base: str | None = None,
) -> str:
    payload = {
        "format": FORMAT,
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "json_output": json_output,
        "endpoint": _without_credentials(api_base),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_credentials(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), parts.query, ""))


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    model: str | None  # the model that produced it (a fallback, possibly)
    tokens_in: int  # usage of the original call, for information
    tokens_out: int
    cost_usd: float
    created_at: str


class ResponseCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def for_local(cls, local_dir: Path) -> ResponseCache:
        return cls(local_dir / CACHE_DIR)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / f"{key}.json"

    def get(self, key: str) -> CachedAnswer | None:
        """The entry for ``key``; None when absent or unreadable (a damaged entry is a miss)."""
        try:
            data: Any = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or not isinstance(data.get("text"), str)
        ):
            return None
        try:
            return CachedAnswer(
                text=data["text"],
                model=data.get("model") if isinstance(data.get("model"), str) else None,
                tokens_in=int(data.get("tokens_in", 0)),
                tokens_out=int(data.get("tokens_out", 0)),
                cost_usd=float(data.get("cost_usd", 0.0)),
                created_at=str(data.get("created_at", "")),
            )
        except (TypeError, ValueError):
            return None

    def put(
        self,
        key: str,
        text: str,
        model: str | None,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
    ) -> None:
        entry = CachedAnswer(
            text=text,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd,
            created_at=clock.stamp(),
        )
        document = {"format": FORMAT, **asdict(entry)}
        atomic.write_text(
            self._path(key), json.dumps(document, ensure_ascii=False, indent=1) + "\n"
        )
