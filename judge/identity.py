"""Post identity: canonical URLs (w3lib plus Blogger's rules) and Blogger blog/post ids; and `mask_url`,
how any URL is shown to a user (credentials masked).

Two URLs that name the same post must canonicalise to the same string:
- `http` and `https` are the same post (we keep `https`);
- `name.blogspot.<cc>` (ccTLD redirects since 2012: .mx, .com.au, .tw, ...) is `name.blogspot.com`;
- `?m=1` / `?m=0` (mobile rendering), `showComment=...`, `utm_*`, `fbclid`, `gclid` and the fragment
  are dropped;
- the host is lower-cased, default ports and a leading `www.` on blogspot hosts are dropped, and the
  remaining query arguments are sorted (w3lib.url.canonicalize_url).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

#: Query arguments that never change which post a URL names.
DROP_QUERY_ARGS = frozenset(
    {
        "m",  # Blogger mobile rendering (?m=1), desktop (?m=0)
        "showcomment",  # Blogger comment permalink
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref_src",
        "spref",  # Blogger "share" links
    }
)
DROP_QUERY_PREFIXES = ("utm_",)

_BLOGSPOT_RE = re.compile(r"^(?:www\.)?([a-z0-9-]+)\.blogspot\.[a-z]{2,3}(?:\.[a-z]{2})?$")
_BLOGGER_TAG_RE = re.compile(r"tag:blogger\.com,1999:blog-(\d+)(?:\.(post|page)-(\d+))?")
_FEED_BLOG_ID_RE = re.compile(r"blogger\.com/feeds/(\d+)/")


def canonical_host(host: str) -> str:
    """Lower-case a host and fold Blogger's country aliases into `.blogspot.com`."""
    host = host.lower().rstrip(".")
    m = _BLOGSPOT_RE.match(host)
    if m:
        return f"{m.group(1)}.blogspot.com"
    return host


def canonical_url(url: str) -> str:
    """Return the canonical form of a post URL (see the module docstring for the rules).

    Raises ValueError for anything that is not an absolute http(s) URL.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url[:200]!r}")
    host = canonical_host(parts.hostname)
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path or "/"
    query = parts.query
    if query:
        query = _clean_query(query)
    cleaned = urlunsplit(("https", netloc, path, query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def _clean_query(query: str) -> str:
    keep = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = pair.split("=", 1)[0].lower()
        if key in DROP_QUERY_ARGS or key.startswith(DROP_QUERY_PREFIXES):
            continue
        keep.append(pair)
    return "&".join(keep)


def same_site(url_a: str, url_b: str) -> bool:
    """True when two URLs are on the same (canonical) host."""
    try:
        return urlsplit(canonical_url(url_a)).hostname == urlsplit(canonical_url(url_b)).hostname
    except ValueError:
        return False


def parse_blogger_tag(value: str | None) -> tuple[str | None, str | None]:
    """Blog and post id from a Blogger Atom/RSS id such as `tag:blogger.com,1999:blog-B.post-P`.

    Returns `(blog_id, post_id)`; `post_id` is None for blog ids and static pages, both are None for
    anything else. Ids are kept as digit strings (they run to 19 digits).
    """
    if not value:
        return None, None
    m = _BLOGGER_TAG_RE.search(value)
    if not m:
        return None, None
    blog_id, kind, item_id = m.groups()
    return blog_id, (item_id if kind == "post" else None)


def blog_id_from_feed_url(url: str | None) -> str | None:
    """The blog id in a `https://www.blogger.com/feeds/<blogId>/posts/default` URL, if any."""
    if not url:
        return None
    m = _FEED_BLOG_ID_RE.search(url)
    return m.group(1) if m else None


def fetchable_url(url: str) -> str:
    """A URL to request: mobile/tracking arguments and the fragment dropped, scheme and host kept.

    Crawls follow links through this, so `?m=1` twins and comment permalinks are fetched once.
    """
    parts = urlsplit(url.strip())
    query = _clean_query(parts.query) if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


# --- masking credentials -------------------------------------------------------------------------
#: What a masked credential reads as.
MASK = "***"
#: Query argument names (split at `-`, `_`, `.` and camelCase humps, compared lower-cased) whose values
#: are credentials: `?token=`, `?key=`, `?apikey=`, `?api_key=`, `?access_token=`, `?X-Api-Key=`, ...
#: Whole words only, so `?keyword=` or `?passage=` are shown as they are.
SECRET_ARG_WORDS = frozenset(
    {
        "token",
        "key",
        "apikey",
        "secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "auth",
        "authorization",
        "sig",
        "signature",
        "session",
        "sessionid",
        "sid",
        "jwt",
        "credential",
        "credentials",
        "accesstoken",
    }
)

_ARG_WORD_RE = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_QUERY_PAIR_RE = re.compile(r"(^|[&;])([^=&;]*)=([^&;]*)")
_URL_IN_TEXT_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s<>\"'()]+")


def is_secret_arg(name: str) -> bool:
    """True when a query argument (or header) name says its value is a credential."""
    name = unquote_plus(name).lstrip("+-:")
    if name.lower() in SECRET_ARG_WORDS:
        return True
    return any(w.lower() in SECRET_ARG_WORDS for w in _ARG_WORD_RE.findall(name))


def mask_url(url: str | None) -> str | None:
    """The URL as it may be shown to a user or put in an alert: the user info (`user:pass@`) and the
    values of credential query arguments (`?token=`, `?key=`, `?apikey=`, ...) become `***`.

    Anything else is returned exactly as given; a string that does not parse as a URL is returned
    with everything after its scheme masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split(":", 1)[0] + "://" + MASK if "://" in url else MASK
    changed = False
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
        changed = True

    def arg(m: re.Match[str]) -> str:
        nonlocal changed
        if m.group(3) and is_secret_arg(m.group(2)):
            changed = True
            return f"{m.group(1)}{m.group(2)}={MASK}"
        return m.group(0)

    query = _QUERY_PAIR_RE.sub(arg, parts.query)
    if not changed:
        return url
    out = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else f"//{netloc}{parts.path}"
    if query:
        out += "?" + query
    if parts.fragment:
        out += "#" + parts.fragment
    return out


def mask_urls(text: str | None) -> str | None:
    """`mask_url` applied to every URL in a free text (an error message, a log line)."""
    if not text or "://" not in text:
        return text
    return _URL_IN_TEXT_RE.sub(lambda m: mask_url(m.group(0)), text)
