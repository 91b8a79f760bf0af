"""An in-memory network of Blogger-style blogs and a news site, served page by page on request.

This module owns the demo network's *model and behaviour*: posts and blogs (`Post`, `Blog`), the
news site (`NewsItem`, `NewsFeed`, `Network`), synthetic blogs for benchmarks (`build_blog`), and
`render(path_with_query, host)`, which answers one request the way a blogspot host would:

- `/` home (pageType index, the latest posts and an "Older Posts" link into `/search`),
- `/YYYY/MM/slug.html` post pages (`?m=1` for the mobile rendering), `/YYYY/MM/` and `/YYYY/`
  archives (pageType archive), `/search?q=` and `/search/label/X` listings,
- `/feeds/posts/{default,full,summary}[/-/Label...]` Atom (or `alt=rss`) with Blogger's query
  parameters (`start-index`, `max-results` silently capped, `published-min/max`, `orderby`,
  `updated-min/max` honoured only with `orderby=updated`), conditional GET (ETag and
  Last-Modified, 304), comments feeds,
- `/sitemap.xml` (index) and `/sitemap.xml?page=N` (500 post URLs a page), `/robots.txt`,
- 404 for anything else.

The curated demo network is assembled in `rjwatch.demo.network` from the texts in `content.py`;
the markup itself lives in `rjwatch.demo.templates`; serving on sockets and fault injection in
`rjwatch.demo.server`. Pages are rendered lazily per request from immutable indexes (by path, by
month, by label, sorted by published and by updated) that are rebuilt, under a lock, whenever a
post is published, edited or deleted - so a 5,000-post blog answers any request in milliseconds
and concurrent requests always see a consistent snapshot.

Why one module of this size: the demo's Blogger model and its request router answer a blogspot
host's whole URL space (home, search, archives, feeds, mobile pages) from one set of indexes.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import random
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from rjwatch.demo import templates
from rjwatch.demo.templates import Page, i18n
from rjwatch.demo.templates import feeds as feed_tpl
from rjwatch.demo.templates import news as news_tpl
from rjwatch.demo.templates.render import render_page

__all__ = [
    "Post",
    "Blog",
    "NewsItem",
    "NewsFeed",
    "Network",
    "Response",
    "build_blog",
    "slugify",
    "TEMPLATES",
]

#: (status, headers, body) as `render` returns it.
Response = tuple[int, dict, bytes]

TEMPLATES = templates.FAMILIES

# ---------------------------------------------------------------------------------------------
# Caps and defaults

#: Entries per feed page when the request names no `max-results`: Blogger's default.
DEFAULT_FEED_RESULTS = 25

#: The largest `max-results` a blog's feed honours unless configured otherwise. Blogger's ceiling
#: has moved over the years (500, 150, 100, now often 25 in practice); the demo caps low so that
#: clients must follow `rel=next` rather than ask for everything at once.
DEFAULT_FEED_CAP = 25

#: Posts on the home page (Blogger's "Show at most N posts on the main page", default 7).
DEFAULT_HOME_POSTS = 7

#: Posts listed on one archive or search page before an "Older Posts" link takes over. High
#: enough that a month of even a daily-posting blog fits on one page, low enough to bound the
#: size of a year archive of a 5,000-post blog.
LISTING_MAX_POSTS = 100

#: Post URLs per sitemap page; Blogger splits its sitemap in pages of 500.
SITEMAP_PAGE_SIZE = 500

#: Longest post slug. Blogger cuts the title-derived part of a post URL near 40 characters, at
#: a word boundary.
SLUG_MAX_CHARS = 39

#: Entries in the news site's RSS feed: a news feed carries its latest few dozen stories only.
NEWS_RSS_ITEMS = 50

#: Longest `q` a `/search` request is matched with; longer queries are cut (a guard, not a
#: feature: Blogger's own search box truncates as well).
SEARCH_QUERY_MAX_CHARS = 200

#: Fixed UTC offsets used as each locale's blog time zone (post URLs, date headers and feed
#: timestamps are in the blog's zone). Fixed offsets keep the demo independent of tz data.
LOCALE_UTC_OFFSET_HOURS = {"en": -8, "es": 1, "fr": 1, "de": 1, "ru": 10, "ja": 9}

#: Words Blogger leaves out of post slugs (after the first word).
SLUG_STOP_WORDS = frozenset({"a", "an", "the"})

_ITEM_RE = re.compile(r"^/(\d{4})/(\d{2})/([^/]+)\.html$")
_MONTH_RE = re.compile(r"^/(\d{4})/(\d{2})/?$")
_YEAR_RE = re.compile(r"^/(\d{4})/?$")
_FEED_RE = re.compile(r"^/feeds/posts/(default|full|summary)(?:/-/(.+))?/?$")
_ENTRY_RE = re.compile(r"^/feeds/posts/(?:default|full|summary)/(\d{1,20})/?$")
_COMMENTS_RE = re.compile(r"^/feeds/(?:(\d{1,20})/)?comments/(?:default|full|summary)/?$")
_DIGITS_RE = re.compile(r"^\d{1,19}$")
_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")

HTML_TYPE = "text/html; charset=UTF-8"
ATOM_TYPE = "application/atom+xml; charset=UTF-8"
RSS_TYPE = "application/rss+xml; charset=UTF-8"
XML_TYPE = "application/xml; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"


# ---------------------------------------------------------------------------------------------
# Helpers


def slugify(title: str) -> str:
    """The slug Blogger derives from a post title: ASCII words joined by '-', about 40 characters,
    articles dropped after the first word; "blog-post" when nothing ASCII remains (e.g. Cyrillic
    or Japanese titles)."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in _NON_SLUG_RE.split(folded) if w]
    words = words[:1] + [w for w in words[1:] if w not in SLUG_STOP_WORDS]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX_CHARS:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:SLUG_MAX_CHARS]
    return slug or "blog-post"


def _header(headers, name: str) -> str | None:
    """A request header, case-insensitively, from a dict, an `email.message.Message` or None."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and isinstance(headers, Mapping):
        low = name.lower()
        for key, val in headers.items():
            if str(key).lower() == low:
                return val
    return value


def _parse_time(value: str, tz: tzinfo) -> datetime:
    """An RFC 3339 / ISO 8601 query parameter; naive values are read in the blog's time zone.
    Raises ValueError when unparseable."""
    value = value.strip().replace(" ", "+")  # an unescaped '+' in a query string decodes to ' '
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:24] + '"'


def _http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def _conditional(
    body: bytes, content_type: str, last_modified: datetime, request_headers, ignore_validators: bool
) -> Response:
    """A 200 with validators, or 304 when the request's validators match (RFC 9110 rules:
    If-None-Match wins over If-Modified-Since)."""
    etag = _etag(body)
    headers = {
        "Content-Type": content_type,
        "ETag": etag,
        "Last-Modified": _http_date(last_modified),
        "Cache-Control": "public, max-age=0, must-revalidate",
    }
    if not ignore_validators:
        inm = _header(request_headers, "If-None-Match")
        ims = _header(request_headers, "If-Modified-Since")
        not_modified = False
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            not_modified = "*" in tags or etag in tags or f"W/{etag}" in tags
        elif ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                since = None
            if since is not None:
                if since.tzinfo is None:
                    since = since.replace(tzinfo=UTC)
                not_modified = last_modified.replace(microsecond=0) <= since
        if not_modified:
            return 304, {k: v for k, v in headers.items() if k != "Content-Type"}, b""
    return 200, headers, body


def _text(status: int, message: str) -> Response:
    return status, {"Content-Type": TEXT_TYPE}, (message + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Posts and blogs


@dataclass(frozen=True)
class Post:
    """One blog post. Immutable: `Blog.edit` replaces it with an edited copy.

    `path` is assigned by the blog that publishes the post (`/YYYY/MM/slug.html`, in the blog's
    time zone, with a `_DD` suffix when the slug is taken that month, as Blogger does).
    """

    post_id: str
    title: str
    slug: str
    published: datetime
    updated: datetime | None = None
    author: str = ""
    labels: tuple = ()
    body_html: str = ""
    lang: str | None = None
    path: str = ""

    def __post_init__(self):
        if not _DIGITS_RE.match(self.post_id or ""):
            raise ValueError(f"post_id must be 1-19 digits, got {self.post_id!r}")
        if self.published.tzinfo is None:
            raise ValueError("published must be a timezone-aware datetime")
        if self.updated is None:
            object.__setattr__(self, "updated", self.published)
        elif self.updated.tzinfo is None:
            raise ValueError("updated must be a timezone-aware datetime")
        object.__setattr__(self, "labels", tuple(self.labels))
        if not self.slug:
            object.__setattr__(self, "slug", slugify(self.title))


@dataclass(frozen=True)
class _Index:
    """A consistent, read-only snapshot of a blog's posts and the orders requests need."""

    version: int
    posts: list  # newest published first
    pos: dict  # post_id -> position in `posts`
    by_path: dict
    by_id: dict
    pub_keys: list  # -published timestamp, ascending (aligned with `posts`)
    by_updated: list  # newest updated first
    upd_keys: list
    months: dict  # (year, month) -> posts, newest first
    years: dict  # year -> posts, newest first
    archive: list  # [(year, count, [(month, count, posts)])] newest first
    labels: dict  # label -> posts, newest first
    label_counts: list  # [(label, count)] by label
    newest_updated: datetime
    search_text: dict = field(default_factory=dict)  # post_id -> lower-cased text, filled lazily

    def text(self, post: Post) -> str:
        """A post's searchable text (title and body), computed once per snapshot."""
        cached = self.search_text.get(post.post_id)
        if cached is None:
            cached = (post.title + " " + templates.text_of(post.body_html)).lower()
            self.search_text[post.post_id] = cached
        return cached


def _build_index(posts: list, version: int) -> _Index:
    by_pub = sorted(posts, key=lambda p: (p.published, p.post_id), reverse=True)
    by_upd = sorted(posts, key=lambda p: (p.updated, p.post_id), reverse=True)
    months: dict = {}
    years: dict = {}
    labels: dict = {}
    for p in by_pub:
        y, m = int(p.path[1:5]), int(p.path[6:8])
        months.setdefault((y, m), []).append(p)
        years.setdefault(y, []).append(p)
        for label in p.labels:
            labels.setdefault(label, []).append(p)
    archive = []
    for y in sorted(years, reverse=True):
        month_rows = [(m, len(months[(y, m)]), months[(y, m)]) for m in range(12, 0, -1) if (y, m) in months]
        archive.append((y, len(years[y]), month_rows))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return _Index(
        version=version,
        posts=by_pub,
        pos={p.post_id: i for i, p in enumerate(by_pub)},
        by_path={p.path: p for p in by_pub},
        by_id={p.post_id: p for p in by_pub},
        pub_keys=[-p.published.timestamp() for p in by_pub],
        by_updated=by_upd,
        upd_keys=[-p.updated.timestamp() for p in by_upd],
        months=months,
        years=years,
        archive=archive,
        labels=labels,
        label_counts=sorted(((k, len(v)) for k, v in labels.items()), key=lambda kv: kv[0].lower()),
        newest_updated=by_upd[0].updated if by_upd else epoch,
    )


def _window(seq: list, keys: list, lo: datetime | None, hi: datetime | None) -> list:
    """Posts of `seq` (newest first, `keys` = -timestamp ascending) with lo <= t < hi."""
    start = bisect.bisect_right(keys, -hi.timestamp()) if hi is not None else 0
    end = bisect.bisect_right(keys, -lo.timestamp()) if lo is not None else len(seq)
    return seq[start:end]


@dataclass(eq=False)
class Blog:
    """A Blogger blog served at the root of its own host, like `name.blogspot.com`.

    Options: `feed_enabled` (feeds answer 404 when False), `feed_mode` ('full' or 'summary': what
    `/feeds/posts/default` carries), `feed_max_results_cap` (larger `max-results` are silently
    capped), `disallow_search` (robots.txt keeps crawlers out of `/search`),
    `ignore_validators` (feeds never answer 304), `home_max_results` (posts on the home page),
    `canonical_host` (host[:port] written in canonical URLs; defaults to the request's host -
    the server sets it so that every alias host of a blog names one canonical host, as
    `blogspot.<cc>` pages name `blogspot.com`). Dynamic Views is implied by
    `template == 'dynamicviews'`.
    """

    key: str
    title: str
    blog_id: str
    template: str = "simple"
    locale: str = "en"
    posts: list = field(default_factory=list, repr=False)  # newest first; change via publish/edit
    description: str = ""
    author: str = "Blog Author"
    about: str = ""
    profile_id: str = ""
    feed_enabled: bool = True
    feed_mode: str = "full"
    feed_max_results_cap: int = DEFAULT_FEED_CAP
    disallow_search: bool = True
    ignore_validators: bool = False
    home_max_results: int = DEFAULT_HOME_POSTS
    tz: tzinfo | None = None
    canonical_host: str | None = None

    def __post_init__(self):
        if self.template not in templates.FAMILIES:
            known = ", ".join(templates.FAMILIES)
            raise ValueError(f"unknown template {self.template!r}; expected one of {known}")
        if self.feed_mode not in ("full", "summary"):
            raise ValueError("feed_mode must be 'full' or 'summary'")
        if not _DIGITS_RE.match(self.blog_id or ""):
            raise ValueError(f"blog_id must be 1-19 digits, got {self.blog_id!r}")
        if self.tz is None:
            offset = LOCALE_UTC_OFFSET_HOURS.get(self.locale.split("-")[0], 0)
            self.tz = timezone(timedelta(hours=offset))
        if not self.profile_id:
            self.profile_id = str(10**19 // 3 + templates.stable_number(self.blog_id) * 7919)[:20]
        self._lock = threading.RLock()
        self._version = 0
        placed: list = []
        taken: set = set()
        ids: set = set()
        for post in sorted(self.posts, key=lambda p: (p.published, p.post_id)):
            if post.post_id in ids:
                raise ValueError(f"duplicate post_id {post.post_id} in blog {self.key}")
            ids.add(post.post_id)
            placed.append(self._place(post, taken))
        self._idx = _build_index(placed, self._version)
        self.posts = self._idx.posts

    # --- properties ---

    @property
    def dynamic_views(self) -> bool:
        return self.template == "dynamicviews"

    @property
    def version(self) -> int:
        """Bumped on every publish/edit/delete."""
        return self._idx.version

    def post(self, post_id: str) -> Post | None:
        return self._idx.by_id.get(post_id)

    def post_at(self, path: str) -> Post | None:
        return self._idx.by_path.get(path)

    # --- mutations (thread-safe) ---

    def _place(self, post: Post, taken: set) -> Post:
        local = post.published.astimezone(self.tz)
        prefix = f"/{local.year:04d}/{local.month:02d}/"
        slug = post.slug
        path = prefix + slug + ".html"
        if path in taken:
            slug = f"{post.slug}_{local.day:02d}"
            n = 2
            while prefix + slug + ".html" in taken:
                slug = f"{post.slug}_{local.day:02d}_{n}"
                n += 1
            path = prefix + slug + ".html"
        taken.add(path)
        return dataclasses.replace(post, slug=slug, path=path)

    def _commit(self, posts: list) -> None:
        self._version += 1
        self._idx = _build_index(posts, self._version)
        self.posts = self._idx.posts

    def publish(self, post: Post) -> Post:
        """Add a post; returns it with its assigned `path`. Raises ValueError on a duplicate id."""
        with self._lock:
            idx = self._idx
            if post.post_id in idx.by_id:
                raise ValueError(f"post {post.post_id} already exists in blog {self.key}")
            placed = self._place(post, set(idx.by_path))
            self._commit(idx.posts + [placed])
            return placed

    def edit(
        self,
        post_id: str,
        new_body_html: str | None = None,
        *,
        updated: datetime | None = None,
        title: str | None = None,
        labels=None,
    ) -> Post:
        """Replace a post's body (and optionally title/labels); `updated` defaults to now.
        The URL does not change, as on Blogger. Raises KeyError for an unknown id."""
        with self._lock:
            idx = self._idx
            old = idx.by_id[post_id]
            when = updated or datetime.now(UTC).replace(microsecond=0)
            changes = {"updated": when}
            if new_body_html is not None:
                changes["body_html"] = new_body_html
            if title is not None:
                changes["title"] = title
            if labels is not None:
                changes["labels"] = tuple(labels)
            new = dataclasses.replace(old, **changes)
            self._commit([new if p.post_id == post_id else p for p in idx.posts])
            return new

    def delete(self, post_id: str) -> None:
        """Remove a post (its URL then answers 404). Raises KeyError for an unknown id."""
        with self._lock:
            idx = self._idx
            idx.by_id[post_id]  # KeyError for unknown ids
            self._commit([p for p in idx.posts if p.post_id != post_id])

    # --- rendering ---

    def render(self, path_with_query: str, host: str, request_headers=None) -> Response:
        """Answer one GET for `path_with_query` sent to `host` (the Host header, `name:port`).

        `request_headers` (any mapping, case-insensitive lookups) supplies If-None-Match and
        If-Modified-Since for feeds. Returns (status, headers, body).
        """
        parts = urlsplit(path_with_query)
        path = parts.path or "/"
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        idx = self._idx  # one consistent snapshot for the whole request
        base = "http://" + host
        canonical_base = "http://" + (self.canonical_host or host)
        mobile = params.get("m") == "1"

        def page(**kw) -> Page:
            return Page(
                blog=self,
                base=base,
                canonical_base=canonical_base,
                path=path,
                query=parts.query,
                mobile=mobile,
                tz=self.tz,
                archive=idx.archive,
                labels=idx.label_counts,
                **kw,
            )

        if path == "/robots.txt":
            body = feed_tpl.robots(canonical_base, self.disallow_search).encode()
            return 200, {"Content-Type": TEXT_TYPE}, body
        if path == "/sitemap.xml":
            return self._sitemap(idx, canonical_base, params)
        if path in ("/atom.xml", "/rss.xml"):
            target = base + "/feeds/posts/default" + ("?alt=rss" if path == "/rss.xml" else "")
            return 301, {"Location": target, "Content-Type": HTML_TYPE}, b""
        if path.startswith("/feeds/"):
            return self._feeds(idx, path, parts.query, params, page, request_headers)
        m = _ITEM_RE.match(path)
        if m:
            post = idx.by_path.get(path)
            if post is None:
                return self._not_found(page)
            i = idx.pos[post.post_id]
            newer = idx.posts[i - 1] if i > 0 else None
            older = idx.posts[i + 1] if i + 1 < len(idx.posts) else None
            pg = page(page_type="item", posts=[post], page_name=post.title, expanded=(int(m.group(1)), int(m.group(2))))
            pg.newer_url = pg.post_url(newer) if newer else None
            pg.older_url = pg.post_url(older) if older else None
            return self._html(pg)
        if path == "/":
            shown = idx.posts[: self.home_max_results]
            pg = page(page_type="index", posts=shown)
            if len(idx.posts) > len(shown):
                pg.older_url = self._search_link(pg, "/search", shown[-1].published, self.home_max_results)
            if shown:
                local = shown[0].published.astimezone(self.tz)
                pg.expanded = (local.year, local.month)
            return self._html(pg)
        m = _MONTH_RE.match(path)
        if m:
            return self._archive(idx, page, int(m.group(1)), int(m.group(2)))
        m = _YEAR_RE.match(path)
        if m:
            return self._archive(idx, page, int(m.group(1)), None)
        if path == "/search" or path.startswith("/search/label/"):
            return self._search(idx, page, path, params)
        return self._not_found(page)

    def _html(self, pg: Page, status: int = 200) -> Response:
        body = render_page(pg).encode("utf-8")
        return (
            status,
            {"Content-Type": HTML_TYPE, "Cache-Control": "private, max-age=0", "X-Content-Type-Options": "nosniff"},
            body,
        )

    def _not_found(self, page) -> Response:
        return self._html(page(page_type="error", posts=[]), status=404)

    def _search_link(self, pg: Page, path: str, before: datetime, max_results: int, extra=None) -> str:
        iso = before.astimezone(self.tz).isoformat(timespec="seconds")
        query = [("updated-max", iso), ("max-results", str(max_results))] + list(extra or [])
        return pg.link(path + "?" + urlencode(query, safe=":"))

    def _archive(self, idx: _Index, page, year: int, month: int | None) -> Response:
        if month is not None:
            posts = idx.months.get((year, month), []) if 1 <= month <= 12 else []
            name = f"{i18n.month_name(month, self.locale)} {year}" if posts else None
        else:
            posts = idx.years.get(year, [])
            name = str(year)
        if not posts:
            return self._not_found(page)
        shown = posts[:LISTING_MAX_POSTS]
        newest_local = shown[0].published.astimezone(self.tz)
        pg = page(page_type="archive", posts=shown, page_name=name, expanded=(year, month or newest_local.month))
        if len(posts) > len(shown):
            pg.older_url = self._search_link(pg, "/search", shown[-1].published, LISTING_MAX_POSTS)
        # "Newer Posts" on an archive points at the next period through /search, as Blogger does.
        if month is not None:
            start = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=self.tz)
            end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=self.tz)
        else:
            start = datetime(year + 1, 1, 1, tzinfo=self.tz)
            end = datetime(year + 2, 1, 1, tzinfo=self.tz)
        if idx.posts and idx.posts[0].published >= start:
            query = urlencode(
                [
                    ("updated-min", start.isoformat()),
                    ("updated-max", end.isoformat()),
                    ("max-results", str(LISTING_MAX_POSTS)),
                ],
                safe=":",
            )
            pg.newer_url = pg.link("/search?" + query)
        return self._html(pg)

    def _search(self, idx: _Index, page, path: str, params: dict) -> Response:
        label = unquote(path[len("/search/label/") :]) if path.startswith("/search/label/") else None
        if label is not None:
            candidates = idx.labels.get(label)
            if candidates is None:  # Blogger label URLs are matched case-insensitively
                low = label.lower()
                candidates = next((v for k, v in idx.labels.items() if k.lower() == low), [])
        else:
            candidates = idx.posts
        try:
            hi = _parse_time(params["updated-max"], self.tz) if params.get("updated-max") else None
            lo = _parse_time(params["updated-min"], self.tz) if params.get("updated-min") else None
            limit = int(params.get("max-results") or self.home_max_results)
        except ValueError:
            return _text(400, "Bad Request: invalid search parameter")
        limit = max(1, min(limit, LISTING_MAX_POSTS))
        query = (params.get("q") or "").strip()[:SEARCH_QUERY_MAX_CHARS]
        # On /search, Blogger's updated-min/max bound the *published* time.
        results = [p for p in candidates if (hi is None or p.published < hi) and (lo is None or p.published >= lo)]
        if query:
            q = query.lower()
            results = [p for p in results if q in idx.text(p)]
        shown = results[:limit]
        s = i18n.strings(self.locale)
        message = None
        if label is not None:
            message = s["showing_label"].format(label=label)
        elif query:
            message = s["showing_query"].format(query=query)
        pg = page(page_type="index", posts=shown, page_name=label or None, status_message=message)
        if len(results) > len(shown):
            extra = [("q", query)] if query else []
            pg.older_url = self._search_link(pg, path, shown[-1].published, limit, extra)
        return self._html(pg)

    # --- machine-readable documents ---

    def _sitemap(self, idx: _Index, canonical_base: str, params: dict) -> Response:
        pages = max(1, -(-len(idx.posts) // SITEMAP_PAGE_SIZE))
        if "page" not in params:
            body = feed_tpl.sitemap_index(canonical_base, pages, idx.newest_updated)
            return 200, {"Content-Type": XML_TYPE}, body.encode("utf-8")
        try:
            n = int(params["page"])
        except ValueError:
            return _text(400, "Bad Request: invalid page")
        if not 1 <= n <= pages:
            return _text(404, "Not Found")
        chunk = idx.posts[(n - 1) * SITEMAP_PAGE_SIZE : n * SITEMAP_PAGE_SIZE]
        return 200, {"Content-Type": XML_TYPE}, feed_tpl.sitemap_page(canonical_base, chunk).encode("utf-8")

    def _feeds(self, idx: _Index, path: str, raw_query: str, params: dict, page, request_headers) -> Response:
        if not self.feed_enabled:
            return _text(404, "Not Found")
        pg = page(page_type="index", posts=[])
        self_url = pg.base + path + (f"?{raw_query}" if raw_query else "")
        m = _COMMENTS_RE.match(path)
        if m:
            post = None
            if m.group(1):
                post = idx.by_id.get(m.group(1))
                if post is None:
                    return _text(404, "Not Found")
            body = feed_tpl.comments_feed(pg, self_url, idx.newest_updated, post).encode("utf-8")
            return _conditional(body, ATOM_TYPE, idx.newest_updated, request_headers, self.ignore_validators)
        m = _ENTRY_RE.match(path)
        if m:
            post = idx.by_id.get(m.group(1))
            if post is None:
                return _text(404, "Not Found")
            body = feed_tpl.atom(
                pg,
                [post],
                total=1,
                start=1,
                per_page=1,
                self_url=self_url,
                next_url=None,
                summary=False,
                updated=post.updated,
                all_labels=[],
            )
            return _conditional(body.encode("utf-8"), ATOM_TYPE, post.updated, request_headers, self.ignore_validators)
        m = _FEED_RE.match(path)
        if not m:
            return _text(404, "Not Found")
        kind, label_part = m.group(1), m.group(2)
        alt = params.get("alt", "atom") or "atom"
        if alt not in ("atom", "rss"):
            return _text(400, f"Bad Request: unsupported alt={alt}")
        try:
            start = int(params.get("start-index") or 1)
            asked = int(params.get("max-results") or DEFAULT_FEED_RESULTS)
            pub_min = _parse_time(params["published-min"], self.tz) if params.get("published-min") else None
            pub_max = _parse_time(params["published-max"], self.tz) if params.get("published-max") else None
            by_updated = params.get("orderby") == "updated"
            # Blogger ignores updated-min/updated-max unless the feed is ordered by updated.
            upd_min = upd_max = None
            if by_updated and params.get("updated-min"):
                upd_min = _parse_time(params["updated-min"], self.tz)
            if by_updated and params.get("updated-max"):
                upd_max = _parse_time(params["updated-max"], self.tz)
        except ValueError as exc:
            return _text(400, f"Bad Request: {exc}")
        start = max(1, start)
        per_page = max(1, min(asked, self.feed_max_results_cap))

        if label_part:
            labels = [unquote(x) for x in label_part.strip("/").split("/") if x]
            sets = [set(p.post_id for p in idx.labels.get(lab, [])) for lab in labels]
            wanted = set.intersection(*sets) if sets else set()
            seq = [p for p in (idx.by_updated if by_updated else idx.posts) if p.post_id in wanted]
            if by_updated:
                seq = [
                    p
                    for p in seq
                    if (upd_min is None or p.updated >= upd_min) and (upd_max is None or p.updated < upd_max)
                ]
            seq = [
                p
                for p in seq
                if (pub_min is None or p.published >= pub_min) and (pub_max is None or p.published < pub_max)
            ]
        elif by_updated:
            seq = _window(idx.by_updated, idx.upd_keys, upd_min, upd_max)
            if pub_min is not None or pub_max is not None:
                seq = [
                    p
                    for p in seq
                    if (pub_min is None or p.published >= pub_min) and (pub_max is None or p.published < pub_max)
                ]
        else:
            seq = _window(idx.posts, idx.pub_keys, pub_min, pub_max)
        total = len(seq)
        entries = seq[start - 1 : start - 1 + per_page]
        next_url = None
        if start - 1 + per_page < total:
            keep = [
                (k, v)
                for k, v in parse_qsl(raw_query, keep_blank_values=True)
                if k not in ("start-index", "max-results")
            ]
            keep += [("start-index", str(start + per_page)), ("max-results", str(per_page))]
            next_url = pg.base + path + "?" + urlencode(keep, safe=":")
        summary = kind == "summary" or (kind == "default" and self.feed_mode == "summary")
        render = feed_tpl.rss if alt == "rss" else feed_tpl.atom
        body = render(
            pg,
            entries,
            total=total,
            start=start,
            per_page=per_page,
            self_url=self_url,
            next_url=next_url,
            summary=summary,
            updated=idx.newest_updated,
            all_labels=[label for label, _ in idx.label_counts],
        )
        return _conditional(
            body.encode("utf-8"),
            RSS_TYPE if alt == "rss" else ATOM_TYPE,
            idx.newest_updated,
            request_headers,
            self.ignore_validators,
        )


# ---------------------------------------------------------------------------------------------
# The news site


@dataclass(frozen=True)
class NewsItem:
    """One story of the news site, served at `/news/<slug>.html`."""

    slug: str
    title: str
    published: datetime
    updated: datetime | None = None
    author: str = ""
    labels: tuple = ()
    body_html: str = ""
    lang: str | None = None

    def __post_init__(self):
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", self.slug):
            raise ValueError(f"news slug must be lowercase letters, digits and '-': {self.slug!r}")
        if self.published.tzinfo is None:
            raise ValueError("published must be a timezone-aware datetime")
        if self.updated is None:
            object.__setattr__(self, "updated", self.published)
        object.__setattr__(self, "labels", tuple(self.labels))


@dataclass(eq=False)
class NewsFeed:
    """A small news site: RSS 2.0 at `/rss.xml`, plain HTML stories at `/news/<slug>.html`."""

    key: str
    title: str
    description: str = ""
    locale: str = "en"
    items: list = field(default_factory=list, repr=False)  # newest first; change via publish/edit
    feed_enabled: bool = True
    ignore_validators: bool = False

    def __post_init__(self):
        self._lock = threading.RLock()
        self._set(list(self.items))

    def _set(self, items: list) -> None:
        ordered = sorted(items, key=lambda i: (i.published, i.slug), reverse=True)
        slugs = [i.slug for i in ordered]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"duplicate news slugs in {self.key}")
        self._snapshot = (ordered, {i.slug: i for i in ordered})
        self.items = ordered

    def publish(self, item: NewsItem) -> NewsItem:
        with self._lock:
            ordered, by_slug = self._snapshot
            if item.slug in by_slug:
                raise ValueError(f"story {item.slug} already exists")
            self._set(ordered + [item])
            return item

    def edit(self, slug: str, new_body_html: str, *, updated: datetime | None = None) -> NewsItem:
        with self._lock:
            ordered, by_slug = self._snapshot
            when = updated or datetime.now(UTC).replace(microsecond=0)
            new = dataclasses.replace(by_slug[slug], body_html=new_body_html, updated=when)
            self._set([new if i.slug == slug else i for i in ordered])
            return new

    def render(self, path_with_query: str, host: str, request_headers=None) -> Response:
        parts = urlsplit(path_with_query)
        path = parts.path or "/"
        ordered, by_slug = self._snapshot
        base = "http://" + host
        html_headers = {"Content-Type": HTML_TYPE}
        if path == "/robots.txt":
            robots = f"User-agent: *\nAllow: /\n\nSitemap: {base}/rss.xml\n"
            return 200, {"Content-Type": TEXT_TYPE}, robots.encode()
        if path in ("/rss.xml", "/feed", "/feed/"):
            if not self.feed_enabled:
                return _text(404, "Not Found")
            newest = max((i.updated for i in ordered), default=datetime(1970, 1, 1, tzinfo=UTC))
            body = news_tpl.rss(self, base, ordered[:NEWS_RSS_ITEMS], newest).encode("utf-8")
            return _conditional(
                body, "application/rss+xml; charset=UTF-8", newest, request_headers, self.ignore_validators
            )
        if path == "/":
            return 200, html_headers, news_tpl.front(self, base, ordered[:NEWS_RSS_ITEMS]).encode("utf-8")
        m = re.match(r"^/news/([a-z0-9-]+)\.html$", path)
        item = by_slug.get(m.group(1)) if m else None
        if item is None:
            return 404, html_headers, news_tpl.not_found(self, base).encode("utf-8")
        related = [i for i in ordered if i.slug != item.slug][:3]
        return 200, html_headers, news_tpl.article(self, base, item, related).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Networks


@dataclass
class Network:
    """The blogs and news sites of a demo network, by key."""

    blogs: dict = field(default_factory=dict)
    news: dict = field(default_factory=dict)

    def apps(self) -> dict:
        """Every site of the network (blogs and news sites) by key."""
        out = dict(self.blogs)
        out.update(self.news)
        return out

    def __getitem__(self, key: str):
        return self.apps()[key]


# ---------------------------------------------------------------------------------------------
# Synthetic blogs for benchmarks

#: Date range synthetic posts are spread over.
SYNTHETIC_START = datetime(2017, 1, 1, tzinfo=UTC)
SYNTHETIC_END = datetime(2024, 12, 31, tzinfo=UTC)

#: Word counts of synthetic post bodies (like the curated posts: short notes to long essays).
SYNTHETIC_MIN_WORDS, SYNTHETIC_MAX_WORDS = 150, 600

_SUBJECTS = [
    "I",
    "We",
    "My neighbour",
    "The club",
    "Our reading group",
    "The council",
    "A friend of mine",
    "The bakery on the corner",
    "Half the street",
    "The new volunteer",
    "My sister",
    "The ferry crew",
]
_VERBS = [
    "spent an afternoon on",
    "finally finished",
    "started planning",
    "wrote a long note about",
    "argued for an hour about",
    "took photos of",
    "made a list for",
    "kept coming back to",
    "had second thoughts about",
    "asked around about",
]
_THINGS = [
    "the allotment",
    "the bicycle route along the river",
    "the library book sale",
    "the old harbour",
    "the choir's spring concert",
    "the flea market",
    "a broken radio",
    "the bus timetable",
    "the school fundraiser",
    "a box of letters from 1978",
    "the community garden",
    "the hiking map",
    "a sourdough starter",
    "the rooftop beehives",
    "the chess tournament",
    "the winter coat drive",
]
_WHEN = [
    "on Saturday",
    "last week",
    "this morning",
    "after work",
    "over the holidays",
    "before the rain",
    "at the weekend",
    "in the early evening",
    "during the long weekend",
    "yesterday",
]
_AFTER = [
    "and it went better than expected.",
    "which took longer than anyone admitted.",
    "and now I have more questions than answers.",
    "so the photos will follow in the next post.",
    "and the notes are below for anyone who asked.",
    "mostly because nobody else volunteered.",
    "while the kettle boiled twice.",
    "with a lot of help from the comments here.",
    "and I would do it again.",
    "even though the weather did not cooperate.",
]
_EXTRA = [
    "Prices have gone up again, but not by much.",
    "Someone suggested we start earlier next time.",
    "The map on the noticeboard is out of date.",
    "I counted fourteen people, which is a record.",
    "There was tea, and there were opinions.",
    "The shortcut is not actually shorter.",
    "Next month the plan is to try the other side of town.",
    "It rained exactly when the forecast said it would.",
    "My notes from last year turned out to be useful after all.",
    "The best idea came from the youngest person there.",
]
_TITLE_FORMS = [
    "Notes on {thing}",
    "{When}: {thing}",
    "Another look at {thing}",
    "What I learned from {thing}",
    "A short report on {thing}",
    "{thing}, part {n}",
    "Weekend notes: {thing}",
    "Back to {thing}",
]
_SYNTH_LABELS = [
    "notes",
    "local",
    "weekend",
    "books",
    "garden",
    "cycling",
    "food",
    "photos",
    "community",
    "travel",
    "music",
    "history",
]


def _synthetic_body(rng: random.Random) -> str:
    target = rng.randint(SYNTHETIC_MIN_WORDS, SYNTHETIC_MAX_WORDS)
    paragraphs, words = [], 0
    while words < target:
        sentences = []
        for _ in range(rng.randint(3, 6)):
            if rng.random() < 0.6:
                sentence = (
                    f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_THINGS)} "
                    f"{rng.choice(_WHEN)}, {rng.choice(_AFTER)}"
                )
            else:
                sentence = rng.choice(_EXTRA)
            sentences.append(sentence)
            words += sentence.count(" ") + 1
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    return "\n".join(paragraphs)


def build_blog(key: str, n_posts: int, template: str = "simple", locale: str = "en", seed: int = 0, **options) -> Blog:
    """A deterministic synthetic blog of `n_posts` posts spread over 2017-2024 (for crawl and
    render benchmarks). Same arguments, same blog: ids, titles, bodies, dates and labels.

    `options` are passed to `Blog` (e.g. `feed_mode='summary'`, `feed_max_results_cap=50`).
    """
    rng = random.Random(f"{key}:{seed}")
    blog_id = str(rng.randrange(10**18, 10**19))
    span = (SYNTHETIC_END - SYNTHETIC_START).total_seconds()
    posts = []
    ids = set()
    for n in range(n_posts):
        post_id = str(rng.randrange(10**18, 10**19))
        while post_id in ids:
            post_id = str(rng.randrange(10**18, 10**19))
        ids.add(post_id)
        # Evenly spread with jitter, at whole minutes like real posting times.
        offset = span * (n + rng.random() * 0.9) / max(1, n_posts)
        published = (SYNTHETIC_START + timedelta(seconds=offset)).replace(second=0, microsecond=0)
        updated = published + timedelta(minutes=rng.randint(1, 90))
        if rng.random() < 0.1:
            updated += timedelta(days=rng.randint(1, 400))
        thing = rng.choice(_THINGS)
        title = rng.choice(_TITLE_FORMS).format(thing=thing, When=rng.choice(_WHEN).capitalize(), n=n % 7 + 2)
        title = title[0].upper() + title[1:]
        posts.append(
            Post(
                post_id=post_id,
                title=title,
                slug="",
                published=published,
                updated=updated,
                author=options.get("author", "Blog Author"),
                labels=tuple(sorted(rng.sample(_SYNTH_LABELS, rng.randint(1, 3)))),
                body_html=_synthetic_body(rng),
                lang="en",
            )
        )
    options.setdefault("title", f"Synthetic blog {key}")
    options.setdefault("description", "Generated posts for crawl benchmarks.")
    return Blog(key=key, blog_id=blog_id, template=template, locale=locale, posts=posts, **options)
