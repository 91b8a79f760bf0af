"""crawler/spiders package."""
