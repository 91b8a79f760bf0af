"""rjwatch package."""
