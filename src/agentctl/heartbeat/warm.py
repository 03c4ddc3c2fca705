"""Imported by the fork server of a parallel round (heartbeat/parallel.py ``PRELOAD``) only:
builds, once, what every tick would otherwise build for itself after the fork, i.e. the
action models' validator and JSON Schema (pydantic: ~0.25 s of CPU per tick)."""

from agentctl.core import actions

actions.answer_schema()
