"""The ``llm`` runtime: one chat completion through litellm, any provider.

This is the only module that imports litellm, and only inside :func:`_litellm` (importing it
takes seconds), so importing this module stays cheap. Before the import the price map is
pinned to litellm's bundled copy (``LITELLM_LOCAL_MODEL_COST_MAP``: nothing is fetched) and
litellm's own printing and logging are turned off: failures surface as one-line
:class:`RuntimeFailure` messages instead.

A call, in order:

1. the model is the agent's ``model`` or ``llm.model``; it and every ``llm.fallbacks`` model
   must be known to litellm and have their API key in the environment (checked up front, so
   a misconfigured fallback shows at once rather than on the day the primary fails);
2. the exact-match response cache (``.agentctl/local/llm-cache/``) answers identical
   requests for free (``cached=True``, zero tokens, zero cost);
3. the spend ledger books the call's worst case (prompt estimate + ``max_tokens``, priced from
   litellm's local price map) against the agent's daily budget, or refuses with
   :class:`BudgetError`;
4. each model in turn gets ``1 + llm.retries`` attempts (transient failures only: timeouts,
   connection errors, 408/409/429/5xx; exponential backoff); other failures move on to the
   next model at once;
5. the answer's usage and litellm's cost are settled in the ledger, and the answer cached.

API keys are read by litellm from the environment and never passed, logged, cached or
printed here; error messages are scrubbed of any secret-looking environment value.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from agentctl.core.models import LLMConfig
from agentctl.core.secrets import mask
from agentctl.core.text import estimate_tokens
from agentctl.errors import RuntimeFailure
from agentctl.runtime.base import Answer, Request
from agentctl.runtime.cache import ResponseCache, cache_key
from agentctl.runtime.ledger import Ledger, hold_time

# Providers that speak the OpenAI protocol to whatever ``api_base`` says. Local servers
# (ollama, vLLM, llama.cpp, LM Studio) need no key, so with an ``api_base`` a missing key is
# replaced by a placeholder; a server that does want one answers 401, reported as such.
OPENAI_COMPATIBLE = frozenset(
    {"openai", "custom_openai", "openai_like", "text-completion-openai", "hosted_vllm", "vllm",
     "lm_studio", "llamafile", "ollama", "ollama_chat", "xinference", "litellm_proxy"}
)  # fmt: skip
PLACEHOLDER_KEY = "no-key-required"
MESSAGE_OVERHEAD_TOKENS = 16  # role markers and framing of a two-message chat
BACKOFF_START = 0.5  # seconds before the first retry; doubles, at most BACKOFF_MAX
BACKOFF_MAX = 8.0
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def _litellm(agent: str = "?") -> Any:
    """Import litellm quietly and offline (the first call pays the import)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        module: Any = importlib.import_module("litellm")
    except ImportError as exc:
        if exc.name not in (None, "litellm"):
            raise  # litellm is there but broken: let the real error show
        raise RuntimeFailure(
            f"agent {agent}: the llm runtime needs litellm, which is not installed",
            hint="pip install 'agentctl[llm]'",
        ) from None
    module.suppress_debug_info = True  # no "Give Feedback / Get Help" banner on errors
    if "LITELLM_LOG" not in os.environ:  # litellm's own switch for its logs wins
        for name in _LITELLM_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    return module


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(mask(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _missing_keys_text(missing: list[str]) -> str:
    if set(missing) == {"GOOGLE_API_KEY", "GEMINI_API_KEY"}:  # either one will do
        return "GEMINI_API_KEY is not set"
    if len(missing) == 1:
        return f"{missing[0]} is not set"
    return f"{', '.join(missing[:-1])} and {missing[-1]} are not set"


@dataclass(frozen=True)
class _Target:
    """One model of the chain, ready to call."""

    model: str
    role: str  # "model" or "fallback model", for messages
    placeholder_key: bool  # send PLACEHOLDER_KEY (an OpenAI-compatible api_base without a key)
    json_output: bool  # the provider takes response_format={"type": "json_object"}
    schema_output: bool  # litellm says the model constrains its output to a JSON Schema


def _target(lm: Any, agent: str, model: str, role: str, api_base: str | None) -> _Target:
    try:
        model_name, provider, _, _ = lm.get_llm_provider(model=model, api_base=api_base)
    except Exception:  # litellm raises its BadRequestError subclasses, or plain ValueError
        raise RuntimeFailure(
            f"agent {agent}: litellm does not know the provider of {role} {model!r}",
            hint="use a provider-prefixed model string such as openai/gpt-4o-mini, "
            "anthropic/claude-3-5-haiku-latest or ollama/llama3",
        ) from None
    missing = list(
        lm.validate_environment(model=model, api_base=api_base).get("missing_keys") or []
    )
    placeholder = False
    if missing:
        if api_base is not None and provider in OPENAI_COMPATIBLE:
            placeholder = True
        else:
            raise RuntimeFailure(
                f"agent {agent}: {_missing_keys_text(missing)} (needed by {role} {model})",
                hint="set it in the environment that runs the heartbeat (cron does not read your shell profile)",
            )
    try:
        params = (
            lm.get_supported_openai_params(model=model_name, custom_llm_provider=provider) or []
        )
    except Exception:  # unknown to litellm's parameter tables: rely on the prompt alone
        params = []
    try:
        schema_output = bool(
            lm.supports_response_schema(model=model_name, custom_llm_provider=provider)
        )
    except Exception:  # not in litellm's model map: JSON mode (or the prompt) only
        schema_output = False
    return _Target(model, role, placeholder, "response_format" in params, schema_output)


def _formats(target: _Target, settings: LLMConfig, request: Request) -> list[str]:
    """The output constraints to try for ``target``, strongest first ("schema": the answer's
    JSON Schema; "json": JSON mode; "text": the prompt alone). A server that refuses one gets
    the next."""
    wanted = settings.output
    if wanted == "text":
        return ["text"]
    schema = request.schema is not None and (
        wanted == "schema" or (wanted == "auto" and target.schema_output)
    )
    json_mode = wanted == "json" or target.json_output or wanted == "schema"
    return [*(["schema"] if schema else []), *(["json"] if json_mode else []), "text"]


def _response_format(kind: str, request: Request) -> dict[str, Any] | None:
    if kind == "schema" and request.schema is not None:
        return {"type": "json_schema", "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": False}}  # fmt: skip
    if kind == "json":
        return {"type": "json_object"}
    return None


class _Deadline(Exception):
    """The model's wall-clock bound (llm.timeout) passed before it answered."""


def _bounded(fn: Any, kwargs: dict[str, Any], seconds: float) -> Any:
    """``fn(**kwargs)`` within ``seconds`` of wall-clock time, whatever the client library
    retries or waits inside; _Deadline otherwise (the call is abandoned on a daemon thread)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(**kwargs)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="agentctl-llm-call", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        raise _Deadline()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (litellm wraps connection errors in a generic HTTP 500)."""
    links: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(links) < 20 and link not in links:
        links.append(link)
        link = link.__cause__ or link.__context__
    return links


def _network_failure(exc: Exception) -> str | None:
    """ "timeout" or "connection" when the request never got an answer, else None."""
    openai: Any = importlib.import_module("openai")  # litellm's own dependency, loaded with it
    links = _chain(exc)
    if any(isinstance(link, openai.APITimeoutError) for link in links):
        return "timeout"
    if any(isinstance(link, openai.APIConnectionError) for link in links):
        return "connection"
    return None


def _is_transient(exc: Exception) -> bool:
    if _network_failure(exc) is not None:
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


_STATUS_WORDS = {
    401: "authentication failed",
    403: "permission denied",
    404: "not found",
    429: "rate limited",
}
# litellm's message prefixes: "litellm.InternalServerError: InternalServerError: OpenAIException - "
_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*)?(?:\w+Error:\s*)?(?:\w+Exception\s*-\s*)?")


def _describe(lm: Any, exc: Exception, timeout: float, api_base: str | None) -> str:
    """A short reason for a failed call (no secrets, one line)."""
    detail = _PREFIXES.sub("", _one_line(getattr(exc, "message", None) or str(exc), 160))
    network = _network_failure(exc)
    if network == "timeout":
        return f"timed out after {timeout:g} s"
    if network == "connection":
        root = _one_line(str(_chain(exc)[-1]), 120)  # e.g. "[Errno 111] Connection refused"
        return (
            "connection failed"
            + (f" to {api_base}" if api_base else "")
            + (f": {root}" if root else "")
        )
    if isinstance(exc, lm.ContextWindowExceededError):
        return "the prompt does not fit the model's context window"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        words = _STATUS_WORDS.get(status)
        label = f"{words} (HTTP {status})" if words else f"HTTP {status}"
        return f"{label}: {detail}" if detail else label
    return detail or type(exc).__name__


def _usage(response: Any) -> tuple[int | None, int | None]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None, None
    tokens_in, tokens_out = (
        getattr(usage, "prompt_tokens", None),
        getattr(usage, "completion_tokens", None),
    )
    return (
        tokens_in if isinstance(tokens_in, int) else None,
        tokens_out if isinstance(tokens_out, int) else None,
    )


def _price(lm: Any, model: str, tokens_in: int, tokens_out: int) -> float:
    """USD for this many tokens on ``model`` from the local price map; 0.0 when unpriced."""
    try:
        cost_in, cost_out = lm.cost_per_token(
            model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
        return float(cost_in) + float(cost_out)
    except Exception:  # litellm raises when a model has no price entry
        return 0.0


def _cost(lm: Any, response: Any) -> float:
    try:
        return float(lm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # unpriced model (e.g. a local one)
        return 0.0


class LLMRuntime:
    """Turns a heartbeat prompt into an answer with one chat completion."""

    def run(self, request: Request) -> Answer:
        agent = str(request.agent.get("name") or "?")
        settings = LLMConfig.model_validate(request.config.get("llm") or {})
        if request.agent.get("api_base"):  # the agent's own endpoint (a local server)
            settings = settings.model_copy(update={"api_base": str(request.agent["api_base"])})
        primary = request.agent.get("model") or settings.model
        if not primary:
            raise RuntimeFailure(
                f"agent {agent}: no model configured for the llm runtime",
                hint=f"set model: in .agentctl/agents/{agent}.md or llm.model in .agentctl/config.yaml "
                "(any litellm model string, e.g. openai/gpt-4o-mini)",
            )
        lm = _litellm(agent)
        chain = [_target(lm, agent, primary, "model", settings.api_base)]
        chain += [
            _target(lm, agent, model, "fallback model", settings.api_base)
            for model in dict.fromkeys(settings.fallbacks)
            if model != primary
        ]
        messages = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.prompt},
        ]
        for answer_text, reply in request.turns:  # a repair conversation
            messages += [
                {"role": "assistant", "content": answer_text},
                {"role": "user", "content": reply},
            ]

        cache = ResponseCache.for_local(request.local_dir) if settings.cache else None
        key = cache_key(
            primary,
            messages,
            settings.max_tokens,
            settings.temperature,
            {"json": True, "text": False}.get(fmt := _formats(chain[0], settings, request)[0], fmt),
            settings.api_base,
        )
        ledger = Ledger.for_local(request.local_dir)
        if cache is not None and (hit := cache.get(key)) is not None:
            ledger.record(agent, hit.model, 0, 0, 0.0, cached=True)
            return Answer(text=hit.text, model=hit.model, cached=True)

        est_in = (
            estimate_tokens(request.system)
            + estimate_tokens(request.prompt)
            + MESSAGE_OVERHEAD_TOKENS
        )
        est_usd = max(_price(lm, target.model, est_in, settings.max_tokens) for target in chain)
        attempts = (settings.retries + 1) * len(chain)
        reservation = ledger.reserve(
            agent,
            request.agent.get("budget"),
            est_in + settings.max_tokens,
            est_usd,
            hold_time(settings.timeout, attempts) + BACKOFF_MAX * attempts,
        )
        try:
            response, target = self._complete(lm, agent, chain, messages, settings, request)
        except BaseException:
            ledger.release(reservation)
            raise

        choice = response.choices[0] if getattr(response, "choices", None) else None
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None) or ""
        tokens_in, tokens_out = _usage(response)
        if tokens_in is None:
            tokens_in = est_in
        if tokens_out is None:
            tokens_out = estimate_tokens(text)
        cost = _cost(lm, response)
        ledger.settle(reservation, target.model, tokens_in, tokens_out, cost)
        if cache is not None and text and getattr(choice, "finish_reason", None) != "length":
            cache.put(
                key, mask(text), target.model, tokens_in, tokens_out, cost
            )  # no secret on disk
        return Answer(
            text=text, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost, model=target.model
        )

    def _complete(
        self,
        lm: Any,
        agent: str,
        chain: list[_Target],
        messages: list[dict[str, str]],
        settings: LLMConfig,
        request: Request,
    ) -> tuple[Any, _Target]:
        """The first answer from the chain; RuntimeFailure naming every model's last error.
        Each model has ``llm.timeout`` seconds of wall-clock time for all its attempts."""
        failures: list[str] = []
        timed_out = False
        for target in chain:
            formats = _formats(target, settings, request)
            deadline = time.monotonic() + settings.timeout
            attempt = 0
            while True:
                kwargs: dict[str, Any] = {
                    "model": target.model,
                    "messages": messages,
                    "max_tokens": settings.max_tokens,
                    "temperature": settings.temperature,
                    "timeout": max(0.001, deadline - time.monotonic()),
                    "num_retries": 0,  # retries are counted here, not by litellm or the SDK
                    "max_retries": 0,
                    "drop_params": True,  # a provider without a parameter ignores it
                }
                if settings.api_base is not None:
                    kwargs["api_base"] = settings.api_base
                if target.placeholder_key:
                    kwargs["api_key"] = PLACEHOLDER_KEY
                response_format = _response_format(formats[0], request)
                if response_format is not None:
                    kwargs["response_format"] = response_format
                try:
                    return _bounded(lm.completion, kwargs, deadline - time.monotonic()), target
                except _Deadline:
                    timed_out = True
                    failures.append(f"{target.model}: timed out after {settings.timeout:g} s")
                    break
                except Exception as exc:  # every litellm/provider failure is reported below
                    if (
                        len(formats) > 1
                        and isinstance(exc, lm.BadRequestError)
                        and "response_format" in str(exc)
                    ):
                        formats = formats[1:]  # a server without it: the next weaker constraint
                        continue
                    network = _network_failure(exc)
                    if network == "timeout":
                        timed_out = True
                    left = deadline - time.monotonic()
                    if (
                        _is_transient(exc)
                        and network != "timeout"
                        and attempt < settings.retries
                        and left > BACKOFF_START * 2**attempt
                    ):
                        time.sleep(min(BACKOFF_START * 2**attempt, BACKOFF_MAX))
                        attempt += 1
                        continue
                    failures.append(
                        f"{target.model}: {_describe(lm, exc, settings.timeout, settings.api_base)}"
                    )
                    break
        tried = "; ".join(failures)
        if timed_out:
            hint = (
                f"raise llm.timeout in .agentctl/config.yaml (now {settings.timeout:g} s, a bound on each "
                "model's whole call, retries included); a slow local model also wants a smaller llm.max_tokens"
            )
        else:
            hint = "fallback models are tried in order (llm.fallbacks); transient errors are retried llm.retries times"
        raise RuntimeFailure(f"agent {agent}: model call failed ({tried})", hint=hint)
