"""Turning a CLI argument (a file, a URL or `-`) into posts: read it bounded, sniff it, extract it.

A saved HTML page goes through the page extractor (crawler.extract), a feed through the feed parser
(crawler.feeds), a Blogger export through its reader, and plain text through judge.article. Every
problem is an `InputError` with a one-line message naming the input, whatever a parser raised; what
went wrong inside an input that still gave posts (entries lost, characters repaired) is a `Note`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from crawler import feeds
from crawler.guard import allowed_sites
from crawler.http import FetchError, fetch
from judge.article import parse_text_article
from judge.errors import RjwatchError
from judge.identity import canonical_url

#: Stands in for the URL of an input that has none (a text file in a dry-run `classify`); never stored,
#: since `ingest` refuses inputs without a URL.
NO_URL = "https://unknown.invalid/"


class InputError(ValueError, RjwatchError):
    """An input that cannot be read or understood, explained in one line."""


@dataclass
class Note:
    """A problem inside an input that still gave posts: one line, and how many of its posts it lost."""

    line: str
    lost: int = 0


@dataclass
class Loaded:
    name: str  # how to refer to it in messages
    data: bytes
    url: str | None  # where it came from, when it is a URL (or --url)
    content_type: str | None = None
    via: str = "file"


def _is_url(arg: str) -> bool:
    return arg.startswith(("http://", "https://"))


def read_input(arg: str, cfg, *, url: str | None = None) -> Loaded:
    """Read FILE, URL or `-` (standard input) with the configured byte cap.

    A URL the user typed may be on a private address; a redirect from it may lead only to a public
    address, the same site, or a host of the `trusted_hosts` setting."""
    cap = int(cfg["max_bytes"])
    if _is_url(arg):
        try:
            resp = fetch(
                arg,
                timeout=float(cfg["fetch_timeout"]),
                max_bytes=cap,
                max_redirects=int(cfg["max_redirects"]),
                user_agent=cfg["user_agent"],
                allowed=allowed_sites(arg, trusted_hosts=cfg["trusted_hosts"]),
            )
        except FetchError as exc:
            raise InputError(str(exc)) from None
        return Loaded(arg, resp.body, url or resp.url, resp.content_type, via="page")
    if arg == "-":
        data = sys.stdin.buffer.read(cap + 1)
        name = "<stdin>"
        via = "cli"
    else:
        path = Path(arg)
        if not path.exists():
            raise InputError(f"{arg}: no such file")
        if path.is_dir():
            raise InputError(f"{arg}: is a folder, not a file")
        try:
            with path.open("rb") as fh:
                data = fh.read(cap + 1)
        except OSError as exc:
            raise InputError(f"{arg}: cannot read ({exc.strerror})") from None
        name, via = arg, "file"
    if len(data) > cap:
        raise InputError(f"{name}: larger than the {cap:,}-byte cap (setting max_bytes)")
    return Loaded(name, data, url, None, via)


def decode_text(loaded: Loaded) -> str:
    try:
        return loaded.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{loaded.name}: not valid UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def posts_from(
    loaded: Loaded, *, need_url: bool, notes: list[Note] | None = None, rules=None
) -> tuple[str, list[dict]]:
    """(kind, posts) of an input. `kind` is page | feed | export | text.

    Problems that did not stop the input (lost entries, repaired characters) are appended to `notes`.
    `rules`: the `extract_rules` setting (crawler.extract.ExtractRules or its table), for a page of a
    site that has one; the post's `extraction` then says what the rule gave.
    """
    try:
        return _posts_from(loaded, need_url=need_url, notes=notes if notes is not None else [], rules=rules)
    except InputError:
        raise
    except Exception as exc:  # a parser failing on odd input fails this input only
        message = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InputError(f"{loaded.name}: could not be parsed ({type(exc).__name__}: {message})") from None


def _posts_from(loaded: Loaded, *, need_url: bool, notes: list[Note], rules=None) -> tuple[str, list[dict]]:
    if not loaded.data.strip():
        raise InputError(f"{loaded.name}: empty input")
    kind = feeds.sniff_kind(loaded.data, loaded.content_type)
    if kind == "binary":
        raise InputError(f"{loaded.name}: binary data, not HTML, a feed or text")
    if kind == "feed":
        try:
            result = feeds.parse_feed(loaded.data, loaded.url)
        except feeds.FeedError as exc:
            raise InputError(f"{loaded.name}: {exc}") from None
        items = result.entries
        for it in items:
            it["seen_via"] = "feed"
            if not it.get("seen_url"):
                it["seen_url"] = loaded.url or it.get("url")
        if not items:
            raise InputError(f"{loaded.name}: feed has no entries" + (f" ({result.problem})" if result.problem else ""))
        if result.problem:
            notes.append(Note(f"{loaded.name}: {result.problem}", result.lost))
        return "feed", items
    if kind == "export":
        try:
            export = feeds.read_blogger_export(loaded.data)
        except feeds.FeedError as exc:
            raise InputError(f"{loaded.name}: {exc}") from None
        items = export.posts
        if not items:
            raise InputError(
                f"{loaded.name}: Blogger export has no published posts"
                + (f" ({export.problem})" if export.problem else "")
            )
        if export.problem:
            notes.append(Note(f"{loaded.name}: {export.problem}", export.lost))
        return "export", items
    if kind == "html":
        from crawler import extract  # imports trafilatura: only when a page needs it

        try:
            page = extract.extract_with_rules(loaded.data, loaded.url, rules)
        except extract.ExtractError as exc:
            raise InputError(f"{loaded.name}: {exc}") from None
        if page.get("page_type") in ("archive", "index") and not page.get("post_id"):
            raise InputError(
                f"{loaded.name}: an {page['page_type']} page listing {len(page.get('posts') or [])} "
                "posts, not a post (ingest the posts' own pages or the blog's feed)"
            )
        if not page.get("text") and not page.get("html"):  # a body of only pictures or embeds is kept
            raise InputError(f"{loaded.name}: no post body found (a Dynamic Views page? use the blog's feed)")
        url = loaded.url or page.get("canonical_url") or page.get("url")
        if not url and need_url:
            raise InputError(f"{loaded.name}: the page names no URL of its own; pass --url")
        item = extract.post_from_page(
            page, url or NO_URL, seen_via=loaded.via if loaded.via != "cli" else "file", seen_url=loaded.url or url
        )
        return "page", [item]
    text = decode_text(loaded)
    art = parse_text_article(text)
    if not art["text"]:
        raise InputError(f"{loaded.name}: no text")
    if not loaded.url and need_url:
        raise InputError(f"{loaded.name}: plain text has no URL; pass --url")
    item = {
        "url": loaded.url or NO_URL,
        "title": art["title"],
        "published": art["published"],
        "text": art["text"],
        "seen_via": loaded.via,
        "seen_url": loaded.url,
    }
    return "text", [item]


def check_url(url: str | None, what: str = "--url") -> str | None:
    """`url` if it is an absolute http(s) URL; else an InputError naming `what` (the option or argument)."""
    if url is None:
        return None
    try:
        canonical_url(url)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}") from None
    return url
