"""A post's metadata on its page: title, dates (machine-readable and as printed, in any language),
author, labels and the JSON-LD description, each from the post's own container first, then the head.
"""

from __future__ import annotations

import functools
import html as html_lib
import json
import re
from datetime import date, datetime
from urllib.parse import urlsplit

from crawler.extract.locate import _outside
from crawler.extract.markup import (
    _CJK_DATE_RE,
    _ISO_DATE_RE,
    X_AUTHOR,
    X_DATE_HEADER,
    X_ITEMPROP_PUBLISHED,
    X_JSONLD,
    X_LABEL_LINKS,
    X_LABELS,
    X_PRECEDING_DATE_HEADER,
    X_PUBLISHED_ATTR,
    X_TITLE_IN_SCOPE,
    X_UPDATED_ATTR,
    X_VISIBLE_DATE,
    _clean,
    _text,
)

#: Plausible years for a Blogger post date (Blogger opened in 1999); anything outside is a
#: mis-parse (a price, a phone number) and is dropped.
MIN_POST_YEAR = 1995
MAX_FUTURE_YEARS = 1

#: Longest author string kept: a byline, not a paragraph that happened to match.
MAX_AUTHOR_CHARS = 200

#: Longest date-bearing text handed to dateparser (date headers are short; long text is prose).
MAX_DATE_TEXT_CHARS = 80


#: Longest text of an element read as a date line ("Posted on 5 March 2017"): a line, not a paragraph
#: that mentions a date.
MAX_DATE_LINE_CHARS = 100
#: Elements looked at for a date line, in document order: a page's bylines come early, and a huge
#: page must not cost a dateparser call per element.
MAX_DATE_LINE_ELEMENTS = 5000

#: The words that introduce a publication date on a page, per language of the topic profile (en, ru,
#: ja, es, de, fr, zh, ko): the only printed dates trusted outside a blog's own date markup. The
#: date after them is read in that language (and English).
DATE_LINE_PREFIXES = {
    "en": r"posted(?: by [^:]{1,60}?)? on|posted|published(?: on)?|date published|publication date|first published",
    "ru": r"опубликовано|дата публикации|размещено|дата",
    "ja": r"投稿日時?|公開日時?|掲載日時?|配信日時?",
    "es": r"publicado(?: el)?|fecha de publicación",
    "de": r"veröffentlicht(?: am)?|erschienen am|datum",
    "fr": r"publiée?(?: le)?|date de publication|mis en ligne le",
    "zh": r"发布时间|發佈時間|發布時間|发布日期|發布日期|发表于|發表於|日期",
    "ko": r"게시일|작성일|등록일|발행일",
}
_DATE_LINE_RE = re.compile(
    r"^\s*(?:" + "|".join(f"(?P<{lang}>{words})" for lang, words in DATE_LINE_PREFIXES.items()) + r")"
    r"\s*[:：]?\s*(?P<rest>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
#: Words after a date line's prefix tried as its date, longest first ("Tuesday, 5 March 2017 10:00 AM").
DATE_LINE_MAX_WORDS = 6
#: Head metadata that names a publication date (`<meta name=...>` or `property=...`), most specific first.
PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date.issued",
    "dc.date",
    "dcterms.issued",
    "dcterms.created",
    "citation_publication_date",
    "parsely-pub-date",
    "sailthru.date",
)
#: A full date in a URL path (`/2017/03/05/`, `/2017-03-05-title`); a year and month alone
#: (Blogger's `/2017/03/post.html`) give no day, so no date.
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:[/-]|\.html?$|$)")
#: Elements whose text is never a date line.
_NOT_TEXT = {"script", "style", "noscript", "template", "head", "title"}


#: Legacy language codes Blogger still uses in locales, mapped to what dateparser knows.
_LEGACY_LANG = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}


def _find_title(scope, body, head, dc, jsonld, blog_name, page_type) -> str | None:
    for el in _outside(X_TITLE_IN_SCOPE, scope, body):
        title = _clean(_text(el))
        if title:
            return title
    for candidate in (
        head.meta_prop.get("og:title"),
        jsonld.get("headline") if isinstance(jsonld.get("headline"), str) else None,
        html_lib.unescape(dc.get("pageName", "")) if page_type == "item" else None,
    ):
        title = _clean(candidate)
        if title:
            return title
    return _strip_blog_name(head.title, blog_name)


def _strip_blog_name(title: str | None, blog_name: str | None) -> str | None:
    if not title:
        return None
    if not blog_name:
        return title
    low, name = title.lower(), blog_name.lower()
    if low.startswith(name):
        rest = title[len(blog_name) :].lstrip()
        if rest[:1] in (":", "|", "-", "~", "»", "–", "—", "·"):
            return _clean(rest[1:]) or title
    if low.endswith(name):
        rest = title[: len(title) - len(blog_name)].rstrip()
        if rest[-1:] in (":", "|", "-", "~", "»", "–", "—", "·"):
            return _clean(rest[:-1]) or title
    return title


def _find_published(scope, body, head, jsonld, lang) -> str | None:
    for xp, attr in X_PUBLISHED_ATTR:
        for el in _outside(xp, scope, body):
            value = _iso(el.get(attr))
            if value:
                return value
    for el in _outside(X_ITEMPROP_PUBLISHED, scope, body):
        value = _iso(el.get("content") or el.get("datetime") or el.get("title"))
        value = value or _parse_date_text(_text(el), lang)
        if value:
            return value
    for candidate in (jsonld.get("datePublished"), head.meta_prop.get("article:published_time")):
        value = _iso(candidate) if isinstance(candidate, str) else None
        if value:
            return value
    header = _date_header_for(scope, body) if scope is not None else None
    if header is not None:
        value = _parse_date_text(_text(header), lang)
        if value:
            return value
    for el in _outside(X_VISIBLE_DATE, scope, body):
        value = _parse_date_text(_text(el), lang)
        if value:
            return value
    return None


def _date_header_for(scope, body):
    """The `date-header` Blogger prints above the day's posts that contain this post."""
    anchor = body if body is not None else scope
    for anc in anchor.iterancestors():
        cls = anc.get("class") or ""
        if "date-outer" in cls.split():
            found = X_DATE_HEADER(anc)
            return found[0] if found else None
        if "Blog" in cls.split() or anc.get("id") == "Blog1":
            break
    found = X_DATE_HEADER(scope)
    if found:
        return found[0]
    found = X_PRECEDING_DATE_HEADER(anchor)
    return found[0] if found else None


def _find_updated(scope, body, head, jsonld) -> str | None:
    for xp, attr in X_UPDATED_ATTR:
        for el in _outside(xp, scope, body):
            value = _iso(el.get(attr))
            if value:
                return value
    for candidate in (jsonld.get("dateModified"), head.meta_prop.get("article:modified_time")):
        value = _iso(candidate) if isinstance(candidate, str) else None
        if value:
            return value
    return None


def _find_author(scope, body, head, jsonld) -> str | None:
    for xp in X_AUTHOR:
        for el in _outside(xp, scope, body):
            author = _clean_author(el.get("content") or _text(el))
            if author:
                return author
    author = jsonld.get("author")
    if isinstance(author, list) and author:
        author = author[0]
    if isinstance(author, dict):
        author = author.get("name")
    if isinstance(author, str) and _clean_author(author):
        return _clean_author(author)
    return _clean_author(head.meta_name.get("author"))


def _clean_author(value: str | None) -> str | None:
    value = _clean(value)
    if not value or len(value) > MAX_AUTHOR_CHARS:
        return None
    return value


def _find_labels(scope, body) -> list[str]:
    labels: list[str] = []
    links = _outside(X_LABELS, scope, body) or _outside(X_LABEL_LINKS, scope, body)
    for a in links:
        label = _clean(_text(a))
        if label and label not in labels:
            labels.append(label)
    return labels


def _jsonld_post(root) -> dict:
    """The first JSON-LD object describing a post/article, or {}."""
    for script in X_JSONLD(root):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and ("Posting" in k or "Article" in k) for k in kinds):
                    return item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return {}


# ---------------------------------------------------------------------------------------------
# Dates.


def _iso(value: str | None) -> str | None:
    """ISO 8601 form of a machine-readable date attribute; None when it is not one."""
    if not value:
        return None
    value = value.strip()
    m = _ISO_DATE_RE.match(value)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return d.isoformat() if _plausible_year(d.year) else None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return dt.isoformat() if _plausible_year(dt.year) else None


def _plausible_year(year: int) -> bool:
    return MIN_POST_YEAR <= year <= date.today().year + MAX_FUTURE_YEARS


def _parse_date_text(value: str | None, lang: str | None) -> str | None:
    """A localised date as printed on the page ("mardi 5 juin 2018") to `YYYY-MM-DD`."""
    value = _clean(value)
    if not value or len(value) > MAX_DATE_TEXT_CHARS or not any(c.isdigit() for c in value):
        return None
    m = _CJK_DATE_RE.search(value)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return d.isoformat() if _plausible_year(d.year) else None
    iso = _iso(value)
    if iso:
        return iso
    parser = _date_parser(_date_languages(lang))
    try:
        found = parser.get_date_data(value)
    except Exception:  # dateparser raises assorted errors on odd text
        return None
    dt = found.date_obj if found else None
    if dt is None or not _plausible_year(dt.year):
        return None
    return dt.date().isoformat()


def _date_languages(lang: str | None) -> tuple[str, ...]:
    if not lang:
        return ("en",)
    code = lang.strip().replace("_", "-")
    base = code.split("-")[0].lower()
    base = _LEGACY_LANG.get(base, base)
    out = []
    for candidate in (base, "en"):
        if candidate and candidate not in out:
            out.append(candidate)
    return tuple(out)


#: dateparser settings for printed post dates: all of day, month and year must be present (a
#: bare "9:05 PM" or "May 2017" is not a publication date), and only absolute formats are
#: tried (no "2 days ago" relative to today, no digit strings read as Unix timestamps).
DATEPARSER_SETTINGS = {
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PARSERS": ["custom-formats", "absolute-time"],
}


@functools.lru_cache(maxsize=64)
def _date_parser(languages: tuple[str, ...]):
    """A dateparser parser per language set, built once (import and setup are slow)."""
    from dateparser.date import DateDataParser  # imported only when a printed date is parsed

    try:
        return DateDataParser(languages=list(languages), settings=DATEPARSER_SETTINGS)
    except ValueError:  # a language dateparser does not know
        return DateDataParser(languages=["en"], settings=DATEPARSER_SETTINGS)


def find_date_line(root) -> str | None:
    """The date of an explicit date line ("Posted on 5 March 2017", "Опубликовано: 5 марта 2017",
    "投稿日：2017年3月5日"): the first short element whose text starts with one of DATE_LINE_PREFIXES
    and goes on with a full date. None when the page has none: numbers in its text are no date."""
    for i, el in enumerate(root.iter()):
        if i >= MAX_DATE_LINE_ELEMENTS:
            break
        if not isinstance(el.tag, str) or el.tag in _NOT_TEXT:
            continue
        text = _clean(_text(el))
        if not text or len(text) > MAX_DATE_LINE_CHARS:
            continue
        m = _DATE_LINE_RE.match(text)
        if not m:
            continue
        lang = next(k for k in DATE_LINE_PREFIXES if m.group(k))
        # the date, then maybe more ("March 5, 2017 by Ivan", "5 марта 2017, 10:00 | Новости")
        words = m.group("rest").split()
        for n in range(min(len(words), DATE_LINE_MAX_WORDS), 0, -1):
            value = _parse_date_text(" ".join(words[:n]).rstrip(",.;|·-–—"), lang)
            if value:
                return value
    return None


def find_page_date(root, head, url: str | None) -> str | None:
    """A page's publication date from what states one, for pages outside Blogger's markup: its head
    metadata, a `<time datetime>` element, a full date in its URL, or an explicit date line. Never a
    date guessed from numbers in the text."""
    for key in PUBLISHED_META:
        value = _iso(head.meta_prop.get(key) or head.meta_name.get(key))
        if value:
            return value
    for el in root.iter("time"):
        value = _iso(el.get("datetime"))
        if value:
            return value
    m = _URL_DATE_RE.search(urlsplit(url).path) if url else None
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            d = None
        if d and _plausible_year(d.year):
            return d.isoformat()
    return find_date_line(root)
