"""Durations written by people: ``30s``, ``15m``, ``4h``, ``2d``, ``1w``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from agentctl.core import clock

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str, units: dict[str, float] | None = None) -> float:
    """Seconds in ``text`` (or another unit: ``units`` maps s/m/h/d/w to their size); raises
    ValueError naming the accepted forms."""
    sizes = units or _UNITS
    compact = str(text).strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    position = 0
    total = 0.0
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * sizes[match.group(2)]
        position = match.end()
    if position != len(compact) or position == 0:
        raise ValueError(f"invalid duration {text!r}: use forms like 30m, 4h, 2d, 1w or 1h30m")
    return total


def parse_estimate(text: str, units: dict[str, float] | None = None) -> tuple[float, float]:
    """An estimate as ``(low, high)`` (seconds, or ``units``): ``4h`` is (4h, 4h), a range
    ``4h-6h`` is (4h, 6h). Raises ValueError naming the accepted forms."""
    value = str(text).strip()
    low_text, sep, high_text = value.partition("-")
    if not sep:
        seconds = parse_duration(value, units)
        return seconds, seconds
    try:
        low, high = parse_duration(low_text, units), parse_duration(high_text, units)
    except ValueError:
        raise ValueError(
            f"invalid estimate {text!r}: use a duration (4h, 2d) or a range (4h-6h)"
        ) from None
    if high < low:
        raise ValueError(f"invalid estimate {text!r}: the range must go from low to high")
    return low, high


def format_duration(seconds: float) -> str:
    """Compact human form: 45s, 12m, 3h, 2d."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def since_timestamp(text: str, now: datetime | None = None) -> str:
    """A ``--since`` value as an ISO UTC timestamp: a duration back from now (``2h``, ``7d``),
    a date (``2026-11-20``) or a timestamp. Raises UsageError for anything else."""
    from agentctl.errors import UsageError

    value = text.strip()
    moment = now or clock.now()
    try:
        seconds = parse_duration(value)
    except ValueError:
        pass
    else:
        return clock.stamp_ms(moment - timedelta(seconds=seconds))
    parsed = clock.parse(value)
    if parsed is None:
        raise UsageError(
            f"--since must be a duration (30m, 2h, 7d) or a date/time (2026-11-20, 2026-11-20T09:00Z), not {text!r}"
        )
    return clock.stamp_ms(parsed)
