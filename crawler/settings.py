"""Scrapy settings for rjwatch's spiders (`scrapy crawl ...` reads this module via scrapy.cfg)."""

BOT_NAME = "rjwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness: obey robots.txt and keep to one request at a time per site.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
USER_AGENT = "rjwatch/0.1 (+https://github.com/rjwatch/rjwatch)"

FEED_EXPORT_ENCODING = "utf-8"
