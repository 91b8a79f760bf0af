"""The error family of rjwatch, re-exported for users of the package: `rjwatch.errors.RjwatchError`.

The class lives in `judge.errors` (the bottom layer, importable from every layer); see there.
"""

from __future__ import annotations

from judge.errors import RjwatchError

__all__ = ["RjwatchError"]
