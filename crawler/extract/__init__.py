"""Page extraction: one Blogger-rendered HTML page to the post it carries (or the posts it lists).

This package owns turning a fetched page into a record: ids (blog, post), page type, title, dates,
author, labels, language hint, canonical URL, feed links, the main post body (HTML fragment and
text) and, for archive/index pages, the list of posts to follow; and turning that record into the
post it carries (`post_from_page`, the one mapping crawls and `rjwatch ingest` share).

Strategy: Blogger's own markers first (the `_WidgetManager._SetDataContext` blog data, the Blog
widget's `post-body`, `post-title`, `abbr.published`, the localised `date-header`, ...; the
markup is described in shared/docs/blogger-format.md), trafilatura only as the fallback when no
Blogger body is found, and trafilatura's metadata only for title/date/author the markers did
not give. Archive and index pages yield the posts they list (to be followed) and, as body, the
listed posts' bodies; they have no single title, date, author or post id. Dynamic Views pages
carry no post body at all (it is loaded by script): for those `html`/`text` are None and the
blog's feed must be read instead.

Bad input (empty, binary, oversized, not HTML) raises `ExtractError` with a one-line message;
truncated or malformed HTML is extracted as far as it goes.

One concern a module: `decode` (input checks, decoding, parsing), `head` (page-level facts and
Blogger's blog data), `locate` (the post body and its container), `metadata` (title, dates, author,
labels), `body` (cleaning, trafilatura fallbacks), `listing` (archive and index pages), `markup`
(Blogger's markup as XPaths and patterns), `page` (`extract_page`, stage by stage), `post`, `rules`
(per-site CSS/XPath selectors of the `extract_rules` setting, applied over `extract_page`).
"""

from crawler.extract.decode import ExtractError
from crawler.extract.page import extract_page
from crawler.extract.post import post_from_page
from crawler.extract.rules import ExtractRules, RuleError, compile_rules, extract_with_rules

__all__ = [
    "ExtractError",
    "ExtractRules",
    "RuleError",
    "compile_rules",
    "extract_page",
    "extract_with_rules",
    "post_from_page",
]
