"""Durations as settings and sources write them (`90s`, `15m`, `6h`, `1d`), and the one-line error of a bad one.

Every layer reads durations: the settings table checks them, storage registers a source's `every`,
the poller and the daemon turn intervals and timeouts into seconds. The parser lives here, at the
bottom, so that none of them imports the application above it; `rjwatch.settings` re-exports both
names for the CLI.
"""

from __future__ import annotations

import math

from judge.errors import RjwatchError

#: Longest duration accepted anywhere (intervals, ticks, timeouts, `--every`): a year. Anything longer
#: is a typo, and date arithmetic (now + interval) overflows past the year 9999 long before 1e400 s.
MAX_DURATION_S = 366 * 86400

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(ValueError, RjwatchError):
    """A configuration problem, explained in one line."""


def parse_duration(value) -> float:
    """Seconds from `90`, `90s`, `15m`, `6h` or `1d`: finite, above 0 and at most MAX_DURATION_S."""
    text = str(value).strip().lower()
    try:
        if text and text[-1] in _UNITS:
            seconds = float(text[:-1]) * _UNITS[text[-1]]
        else:
            seconds = float(text)
    except ValueError:
        raise ConfigError(f"not a duration: {value!r} (use e.g. 90s, 15m, 6h, 1d)") from None
    if not math.isfinite(seconds):
        raise ConfigError(f"not a duration: {value!r} (a duration is a finite number, e.g. 90s, 15m, 6h, 1d)")
    if seconds <= 0:
        raise ConfigError(f"a duration must be positive: {value!r}")
    if seconds > MAX_DURATION_S:
        raise ConfigError(f"a duration must be at most {MAX_DURATION_S // 86400} days: {value!r}")
    return seconds
