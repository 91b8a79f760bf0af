"""The one base class of the errors a user can cause: `RjwatchError`.

Bad input, a bad config or profile, a locked or missing database, a refused URL: each raises a
subclass of `RjwatchError` (most also subclass `ValueError` or `RuntimeError`, as before), and the
command line turns any of them into one line on stderr and a non-zero exit, without a traceback.
This module lives in the bottom layer (`judge`) and imports nothing, so every layer can raise
these errors and the command line can catch them without loading any heavy package.
"""

from __future__ import annotations

__all__ = ["RjwatchError"]


class RjwatchError(Exception):
    """An error a user can cause and fix; its message is one line meant for them."""
