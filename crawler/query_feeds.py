"""Query sources: the RSS URLs of a search engine's news search per language, and Google Alerts feed URLs.

A *query source* is a `feed` source whose settings hold `"query": {"engine": ..., "q": ..., "lang": ...}`.
This module owns what such a source is made of, as pure functions (no fetching, no database):

- `query_feed_url(engine, q, lang, base)`: the feed URL of a query in one language. Google News:
  `<base>/rss/search?q=<q>&hl=<hl>&gl=<GL>&ceid=<GL>:<lang>`, with `hl`, `gl` and `ceid` taken
  together from one row of `GOOGLE_NEWS_LOCALES` (mismatched ones give odd or empty results).
  Bing News: `<base>/news/search?q=<q>&format=rss&setlang=<lang>&cc=<CC>&mkt=<lang>-<cc>`; Bing's RSS output was
  never documented and may change or stop without notice.
- `query_settings(engine, q, lang)` / `query_of(settings)`: the settings a query source is stored
  with, and the query a source's settings hold (None for an ordinary feed).
- `google_alerts_ids(url, base)`: the (user id, alert id) of a Google Alerts feed URL
  (`https://www.google.<tld>/alerts/feeds/<digits>/<digits>`, or the same path under a configured
  base), kept as strings: the user id is 20 digits and may start with zeros.
- `MIN_EVERY_S`: how often each engine's feeds may be polled at most.

The base URLs come from the `query_engines` setting (mirrors, and local fakes in tests).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from judge.errors import RjwatchError

GOOGLE_NEWS = "google-news"
BING_NEWS = "bing-news"
GOOGLE_ALERTS = "google-alerts"
#: Engines whose feed URL rjwatch builds from a query (`source add --query --engine`).
QUERY_ENGINES = (GOOGLE_NEWS, BING_NEWS)
#: Every engine a query source may name (Google Alerts feeds are pasted, not built).
ENGINES = (GOOGLE_NEWS, BING_NEWS, GOOGLE_ALERTS)
#: Where each engine answers, unless the `query_engines` setting names a mirror.
DEFAULT_BASES = {
    GOOGLE_NEWS: "https://news.google.com",
    BING_NEWS: "https://www.bing.com",
    GOOGLE_ALERTS: "https://www.google.com",
}

#: Shortest polling interval per engine, in seconds, and the default of a new query source. None of
#: them documents a limit. Google News: one feed per query and language, refreshed within the hour;
#: users report 403/429 from news.google.com for frequent polling, so no more than every 30 minutes.
#: Bing News: an undocumented output served for "personal, non-commercial use" in an aggregator; once
#: an hour keeps well clear of its blocking. Google Alerts: a feed has no frequency of its own and
#: 20 entries cover about half a day of a busy query, so hourly misses nothing and asks little.
MIN_EVERY_S = {GOOGLE_NEWS: 30 * 60, BING_NEWS: 60 * 60, GOOGLE_ALERTS: 60 * 60}

#: Google News edition per language: (hl, gl, ceid language). `hl` is the interface language, `gl`
#: the country and `ceid` `<gl>:<lang>`; one row is one edition Google News serves. Spanish is the
#: Spain edition (`es`/`ES`), not Latin America's (`es-419`), so that the three agree on one country;
#: Portuguese is Brazil's edition, Chinese mainland China's (simplified script).
GOOGLE_NEWS_LOCALES = {
    "en": ("en-US", "US", "en"),
    "ru": ("ru", "RU", "ru"),
    "ja": ("ja", "JP", "ja"),
    "es": ("es", "ES", "es"),
    "de": ("de", "DE", "de"),
    "fr": ("fr", "FR", "fr"),
    "it": ("it", "IT", "it"),
    "pt": ("pt-BR", "BR", "pt-419"),
    "uk": ("uk", "UA", "uk"),
    "ko": ("ko", "KR", "ko"),
    "zh": ("zh-CN", "CN", "zh-Hans"),
}
#: Bing News market per language: (setlang, cc), the same countries as the Google News editions.
BING_MARKETS = {
    "en": ("en", "US"),
    "ru": ("ru", "RU"),
    "ja": ("ja", "JP"),
    "es": ("es", "ES"),
    "de": ("de", "DE"),
    "fr": ("fr", "FR"),
    "it": ("it", "IT"),
    "pt": ("pt", "BR"),
    "uk": ("uk", "UA"),
    "ko": ("ko", "KR"),
    "zh": ("zh-hans", "CN"),
}
LANGUAGES = {GOOGLE_NEWS: GOOGLE_NEWS_LOCALES, BING_NEWS: BING_MARKETS}
#: Longest query taken: engines cut a search at 2,048 characters of URL, and a query this long in
#: percent-encoded UTF-8 (up to 9 bytes a character in Japanese) keeps the feed URL under that.
MAX_QUERY_CHARS = 200
#: How a query source is named in listings: engine label, query, language.
ENGINE_LABELS = {GOOGLE_NEWS: "Google News", BING_NEWS: "Bing News", GOOGLE_ALERTS: "Google Alerts"}

#: A Google Alerts feed path: two decimal ids (user: 20 digits, alert: 16-20; allow some slack).
_ALERTS_PATH_RE = re.compile(r"^/alerts/feeds/(\d{1,30})/(\d{1,30})/?$")
#: Google's own hosts that serve Alerts feeds: www.google.com and the country hosts.
_GOOGLE_HOST_RE = re.compile(r"^www\.google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ValueError, RjwatchError):
    """A query source that cannot be built (unknown engine, empty query, unsupported language)."""


def check_engine(engine: str) -> str:
    """The engine name if rjwatch builds its feed URLs, else a QueryError naming the ones it does."""
    if engine not in QUERY_ENGINES:
        raise QueryError(f"unknown engine {engine!r} (one of {', '.join(QUERY_ENGINES)})")
    return engine


def check_query(q: str | None) -> str:
    """The query with its runs of white space made one space; empty, over-long or control characters: an error."""
    text = " ".join((q or "").split())
    if not text:
        raise QueryError("--query is empty: give the words to search for")
    if _CONTROL_RE.search(text):  # tabs and newlines were made spaces above
        raise QueryError("--query holds control characters")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"--query is {len(text)} characters long; at most {MAX_QUERY_CHARS}")
    return text


def parse_langs(engine: str, value: str | None) -> list[str]:
    """The languages of `--lang en,ru,ja` (in order, each once); an unsupported one is an error naming
    the supported ones. None or empty: English only."""
    table = LANGUAGES[check_engine(engine)]
    out: list[str] = []
    for part in (value or "en").split(","):
        lang = part.strip().lower()
        if not lang:
            continue
        if lang not in table:
            raise QueryError(f"--lang {part.strip()!r} is not supported for {engine} (one of {', '.join(table)})")
        if lang not in out:
            out.append(lang)
    if not out:
        raise QueryError("--lang is empty: give languages such as en,ru,ja")
    return out


def check_base(engine: str, base: str) -> str:
    """A base URL of the `query_engines` setting: absolute http(s), no query; returned without a final slash."""
    parts = urlsplit(str(base).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise QueryError(f"query_engines: {engine} must be an http(s) URL without a query, got {str(base)[:200]!r}")
    return str(base).strip().rstrip("/")


def query_feed_url(engine: str, q: str, lang: str, base: str | None = None) -> str:
    """The RSS URL of query `q` in language `lang` on `engine` (at `base`, default the engine's own site)."""
    check_engine(engine)
    q = check_query(q)
    lang = parse_langs(engine, lang)[0]
    root = check_base(engine, base or DEFAULT_BASES[engine])
    if engine == GOOGLE_NEWS:
        hl, gl, ceid_lang = GOOGLE_NEWS_LOCALES[lang]
        params = {"q": q, "hl": hl, "gl": gl, "ceid": f"{gl}:{ceid_lang}"}
        return f"{root}/rss/search?{urlencode(params, safe=':')}"
    setlang, cc = BING_MARKETS[lang]
    # setlang + cc as Bing's own links carry them, and mkt (the market searx and SearXNG ask with):
    # Bing honours them unevenly, so all three name the same market
    params = {"q": q, "format": "rss", "setlang": setlang, "cc": cc, "mkt": f"{lang}-{cc.lower()}"}
    return f"{root}/news/search?{urlencode(params, safe=':')}"


def query_settings(engine: str, q: str | None, lang: str | None, every_s: float | None = None) -> dict:
    """The settings a query source is stored with: its query, full text always (entries are teasers),
    and its polling interval (the engine's MIN_EVERY_S unless a longer one is given)."""
    return {
        "query": {"engine": engine, "q": q, "lang": lang},
        "full_text": "always",
        "every": every_s if every_s is not None else MIN_EVERY_S[engine],
    }


def check_every(engine: str, every_s: float | None, option: str = "--every") -> float | None:
    """A polling interval for an engine's feed: None (the engine's default) or at least MIN_EVERY_S."""
    if every_s is not None and every_s < MIN_EVERY_S[engine]:
        least = MIN_EVERY_S[engine]
        shown = f"{least // 3600} hour(s)" if least % 3600 == 0 else f"{least // 60} minutes"
        raise QueryError(f"{option}: {ENGINE_LABELS[engine]} feeds are polled at most every {shown}")
    return every_s


def query_name(engine: str, q: str, lang: str) -> str:
    """`Google News: Kuril OR "Northern Territories" (ru)`."""
    return f"{ENGINE_LABELS[engine]}: {q} ({lang})"


def query_of(settings: dict | None) -> dict | None:
    """The query of a source's settings ({"engine", "q", "lang"}), or None for an ordinary source."""
    value = (settings or {}).get("query")
    if isinstance(value, dict) and value.get("engine") in ENGINES:
        return value
    return None


def query_label(settings: dict | None) -> str | None:
    """How listings show a query source's kind: `query (google-news, ru)`, `query (google-alerts)`."""
    query = query_of(settings)
    if query is None:
        return None
    inside = ", ".join(x for x in (query["engine"], query.get("lang")) if x)
    return f"query ({inside})"


def google_alerts_ids(url: str, base: str | None = None) -> tuple[str, str] | None:
    """(user id, alert id) of a Google Alerts feed URL, as strings, or None for any other URL. The host
    is www.google.com or a country host (www.google.co.jp), or the host and port of `base` (the
    `query_engines` setting's google-alerts entry, for a mirror or a local fake)."""
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError:
        return None
    m = _ALERTS_PATH_RE.match(parts.path)
    if not m or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    ours = parts.scheme == "https" and port in (None, 443) and bool(_GOOGLE_HOST_RE.match(host))
    if not ours and base:
        b = urlsplit(base)
        ours = (b.hostname or "").lower() == host and (b.port or None) == port and b.scheme == parts.scheme
    return (m.group(1), m.group(2)) if ours else None
