"""The `discover` spider: visits blogs that relevant posts link to, and proposes the Blogger ones.

    rjwatch source discover            (or: scrapy crawl discover -a hosts_file=FILE)

Input is a JSON object {"hosts": [{"home": URL, "linked_from": [[post_id, url], ...]}, ...],
"trusted": [site, ...]} written by `rjwatch source discover` (storage.sources.candidate_hosts; the
trusted sites, `host:port`, are those of the sources the user approved, plus the `trusted_hosts`
setting, where a bare `host` means every port). For each host the spider reads the home page;
a Blogger blog (generator meta, _WidgetManager, blogger feed links) becomes a *candidate* source with
its evidence and a sampled relevance (the share of posts on its home page that the topic profile
finds relevant). Candidates are never crawled until a user approves them. Links learned from pages
never lead to loopback, private or link-local addresses unless an approved source is on that site
(crawler.middlewares.SafeUrlMiddleware).
"""

from __future__ import annotations

import json
from pathlib import Path

import scrapy

from crawler import extract
from crawler.guard import allowed_sites

#: Hosts visited per discovery run: the most-linked first.
MAX_HOSTS = 200


class DiscoverSpider(scrapy.Spider):
    name = "discover"
    custom_settings = {"DEPTH_LIMIT": 1}

    def __init__(self, hosts_file: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not hosts_file:
            raise ValueError("give -a hosts_file=FILE (a JSON list of candidate hosts)")
        spec = json.loads(Path(hosts_file).read_text("utf-8"))
        self.hosts = spec["hosts"][:MAX_HOSTS]
        self.trusted_hosts: set[str] = set(allowed_sites(trusted_hosts=spec.get("trusted", [])))

    async def start(self):
        for entry in self.hosts:
            yield scrapy.Request(entry["home"], callback=self.parse_home, cb_kwargs={"entry": entry}, dont_filter=True)

    def parse_home(self, response, entry: dict):
        if not isinstance(response, scrapy.http.TextResponse):
            return
        try:
            page = extract.extract_page(response.body, response.url)
        except extract.ExtractError:
            return
        if not page.get("is_blogger"):
            self.crawler.stats.inc_value("rjwatch/discover/not_blogger")
            return
        yield {
            "candidate_for": "blogger",
            "url": response.url,
            "title": page.get("title"),
            "is_blogger": True,
            "sampled_relevance": _sampled_relevance(page),
            "linked_from": [tuple(x) for x in entry.get("linked_from", [])],
        }


def _sampled_relevance(page: dict) -> float | None:
    """Share of the posts shown on a blog's home page that the topic profile finds relevant."""
    from judge.relevance import TopicProfile
    from judge.text import clean_text, normalize

    texts = [page.get("text") or ""]
    texts = [t for t in texts if t]
    if not texts:
        return None
    profile = TopicProfile.load()
    scores = [profile.score(normalize(clean_text(t))).score for t in texts]
    return round(sum(scores) / len(scores), 3)
