"""Per-site extraction rules: CSS or XPath selectors for a site's title, date and body.

The `extract_rules` setting maps a host (or `host:port`) to selectors, for sites where the generic
extraction (trafilatura) picks the wrong block:

    [extract_rules."news.example.com"]
    title = "h1.headline"          # CSS
    date = "//time/@datetime"      # XPath: starts with / or (
    body = "div.article-body"

This module owns checking them (`compile_rules`: a bad selector is a one-line error naming the host
and the field) and applying them with parsel (`extract_with_rules`: the page is extracted as usual,
then what a rule's selectors find replaces the generic title, date and body; a selector that finds
nothing leaves the generic result, and the page's `extraction` note says so).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from judge.errors import RjwatchError

#: The fields a rule may give, in the order they are reported.
RULE_FIELDS = ("title", "date", "body")
#: What starts an XPath selector; anything else is CSS.
XPATH_PREFIXES = ("/", "(", "./")
#: Longest title a rule's match is taken as: a selector that matches a whole article by mistake
#: does not give a 50 KB title.
MAX_TITLE_CHARS = 500


class RuleError(ValueError, RjwatchError):
    """A rule that cannot be used, explained in one line naming its host and field."""


@dataclass(frozen=True)
class SiteRule:
    """One site's selectors: field -> (kind "css" | "xpath", expression)."""

    site: str
    selectors: tuple[tuple[str, str, str], ...]  # (field, kind, expression)

    def describe(self, fields: list[str] | tuple[str, ...] | None = None) -> str:
        names = list(fields if fields is not None else (f for f, _, _ in self.selectors))
        return f"rule for {self.site} ({', '.join(names)})"


@dataclass(frozen=True)
class ExtractRules:
    """The rules of every configured site, looked up by `host:port`, then by host."""

    rules: tuple[SiteRule, ...] = ()

    def for_url(self, url: str | None) -> SiteRule | None:
        if not url or not self.rules:
            return None
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower().rstrip("."), parts.port
        except ValueError:
            return None
        by_site = {r.site: r for r in self.rules}
        return (by_site.get(f"{host}:{port}") if port else None) or by_site.get(host)

    def __bool__(self) -> bool:
        return bool(self.rules)


def _kind(expression: str) -> str:
    return "xpath" if expression.lstrip().startswith(XPATH_PREFIXES) else "css"


def compile_rules(raw: Mapping | None) -> ExtractRules:
    """The `extract_rules` table checked: each key a host, each value a table of the RULE_FIELDS,
    each selector valid CSS or XPath. Raises RuleError in one line naming the host and the field."""
    if not raw:
        return ExtractRules()
    if not isinstance(raw, Mapping):
        raise RuleError('extract_rules must be a table of sites, e.g. [extract_rules."news.example.com"]')
    from parsel import Selector

    probe = Selector(text="<html><body></body></html>")
    out = []
    for site, table in raw.items():
        name = str(site).strip().lower().rstrip(".")
        where = f'extract_rules."{site}"'
        if not name or "/" in name:
            raise RuleError(f"{where}: the key must be a host name (news.example.com) or host:port")
        if not isinstance(table, Mapping) or not table:
            raise RuleError(f"{where}: must be a table of selectors ({', '.join(RULE_FIELDS)})")
        selectors = []
        for field in RULE_FIELDS:
            if field not in table:
                continue
            expression = table[field]
            if not isinstance(expression, str) or not expression.strip():
                raise RuleError(f"{where}.{field}: must be a CSS or XPath selector (text), got {expression!r}")
            kind = _kind(expression)
            try:
                probe.xpath(expression) if kind == "xpath" else probe.css(expression)
            except Exception as exc:  # cssselect's SelectorError, lxml's XPath errors (ValueError)
                detail = " ".join(str(exc).split())[:120]
                raise RuleError(
                    f"{where}.{field}: {expression!r} is not a valid {kind.upper()} selector ({detail})"
                ) from None
            selectors.append((field, kind, expression.strip()))
        unknown = [k for k in table if k not in RULE_FIELDS]
        if unknown:
            raise RuleError(f"{where}: unknown field {unknown[0]!r} (one of {', '.join(RULE_FIELDS)})")
        out.append(SiteRule(name, tuple(selectors)))
    return ExtractRules(tuple(out))


def _select(sel, kind: str, expression: str):
    return sel.xpath(expression) if kind == "xpath" else sel.css(expression)


def _first_text(found) -> str | None:
    """The first non-empty text of the matches: an attribute or text node as it is, an element's
    whole text content."""
    for match in found:
        root = match.root
        value = root if isinstance(root, str) else match.xpath("string()").get()
        value = " ".join(str(value or "").split())
        if value:
            return value
    return None


def _apply(rule: SiteRule, text: str, page: dict) -> tuple[list[str], list[str]]:
    """Replace the page's title, date and body with what the rule finds; (fields used, fields missed)."""
    from lxml import etree
    from parsel import Selector

    from crawler.extract.body import _clean_body
    from judge import dates
    from judge.htmltext import html_to_text, links_from_html

    sel = Selector(text=text)
    used, missed = [], []
    for field, kind, expression in rule.selectors:
        found = _select(sel, kind, expression)
        if field == "title":
            value = _first_text(found)
            if value:
                page["title"] = value[:MAX_TITLE_CHARS]
                used.append(field)
                continue
        elif field == "date":
            value = dates.normalize(_first_text(found))
            if value:
                page["published"] = value
                used.append(field)
                continue
        else:
            wrapper = etree.Element("div", {"class": "rule-body"})
            for match in found:
                if isinstance(match.root, str):
                    if match.root.strip():
                        etree.SubElement(wrapper, "p").text = match.root.strip()
                    continue
                element = etree.fromstring(match.get(), etree.HTMLParser()).find(".//body/*")
                if element is not None:
                    element.tail = None
                    wrapper.append(element)
            _clean_body(wrapper, set())
            body_text = html_to_text(wrapper)
            if body_text:
                page["html"] = etree.tostring(wrapper, method="html", encoding="unicode")
                page["text"] = body_text
                page["links"] = links_from_html(wrapper, page.get("url"))
                page["extractor"] = "rule"
                used.append(field)
                continue
        missed.append(field)
    return used, missed


def extraction_note(rule: SiteRule, used: list[str], missed: list[str]) -> str:
    """One line saying which rule gave what, and what was left to the generic extraction."""
    if not used:
        return f"rule for {rule.site} matched nothing: generic extraction used"
    note = rule.describe(used)
    if missed:
        note += (
            f"; {', '.join(missed)} matched nothing: generic extraction used for {'it' if len(missed) == 1 else 'them'}"
        )
    return note


@lru_cache(maxsize=8)
def _compiled(table_json: str) -> ExtractRules:
    return compile_rules(json.loads(table_json))


def extract_with_rules(data, url: str | None, rules: ExtractRules | Mapping | None) -> dict:
    """`extract_page`, then the site's rule (if `rules`, compiled or the setting's table, has one for
    `url`). The result's `extraction` is None without a rule, else the note of `extraction_note`;
    `rule_fields` lists the fields the rule gave."""
    from crawler.extract.decode import _decode
    from crawler.extract.page import extract_page

    if rules and not isinstance(rules, ExtractRules):
        rules = _compiled(json.dumps(rules, sort_keys=True))
    page = extract_page(data, url)
    page["extraction"], page["rule_fields"] = None, []
    rule = rules.for_url(url) if rules else None
    if rule is None:
        return page
    used, missed = _apply(rule, _decode(data), page)
    page["extraction"], page["rule_fields"] = extraction_note(rule, used, missed), used
    return page
