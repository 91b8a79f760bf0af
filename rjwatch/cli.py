"""The old import path of the command line (`rjwatch.cli:main`, `python -m rjwatch.cli`), kept working.

The commands live in the `rjwatch.commands` package.
"""

from rjwatch.commands import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
