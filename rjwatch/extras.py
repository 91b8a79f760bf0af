"""Optional extras (matplotlib, pyarrow, datasette): importing them, or saying clearly how to get them."""

from __future__ import annotations

import importlib

from rjwatch.inputs import InputError


class MissingExtra(InputError):
    """An optional dependency that a command needs is not installed."""


def require(module: str, extra: str, purpose: str):
    """Import an optional module, or raise MissingExtra naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{purpose} needs {module.split('.')[0]}, which is not installed; "
            f"install it with: pip install 'rjwatch[{extra}]'"
        ) from None
