"""`python -m rjwatch` is the `rjwatch` command (the daemon starts crawls this way)."""

from rjwatch.commands import main

main()
