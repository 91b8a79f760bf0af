"""The demo news site: an RSS 2.0 feed and plain, non-Blogger article pages.

This module owns that markup: `/rss.xml` (channel with items carrying guid, pubDate, link,
description, categories), the article page (`article.story` with `h1.headline`,
`time[datetime]`, `div.story-body`, NewsArticle JSON-LD, canonical link, site chrome with
navigation, a related-stories box and a footer) and the front page listing the stories.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

from rjwatch.demo.templates import esc, snippet


def rss(site, base: str, items: list, updated: datetime) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{esc(site.title)}</title>\n<link>{esc(base)}/</link>\n"
        f"<description>{esc(site.description)}</description>\n<language>{esc(site.locale)}</language>\n"
        f"<lastBuildDate>{format_datetime(updated.astimezone(UTC))}</lastBuildDate>\n"
        f'<atom:link href="{esc(base)}/rss.xml" rel="self" type="application/rss+xml"/>\n'
        "<ttl>15</ttl>\n"
    ]
    for item in items:
        url = f"{base}/news/{item.slug}.html"
        cats = "".join(f"<category>{esc(label)}</category>" for label in item.labels)
        out.append(
            "<item>\n"
            f"<title>{esc(item.title)}</title>\n<link>{esc(url)}</link>\n"
            f'<guid isPermaLink="true">{esc(url)}</guid>\n'
            f"<pubDate>{format_datetime(item.published.astimezone(UTC))}</pubDate>\n"
            f"<dc:creator>{esc(item.author)}</dc:creator>\n{cats}\n"
            f"<description>{esc(snippet(item.body_html, 280))}</description>\n"
            "</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _chrome(site, base: str, title: str, head_extra: str, main: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="{esc(site.locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<link rel="alternate" type="application/rss+xml" title="{esc(site.title)}" href="{esc(base)}/rss.xml">
{head_extra}
<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<header class="site-header">
<a class="brand" href="{esc(base)}/">{esc(site.title)}</a>
<nav class="sections"><a href="{esc(base)}/">Latest</a> <a href="{esc(base)}/rss.xml">RSS</a></nav>
</header>
<main id="content">
{main}
</main>
<footer class="site-footer">
<p>&#169; {esc(site.title)}. Stories may be republished with a link back.</p>
</footer>
</body>
</html>"""


def article(site, base: str, item, related: list) -> str:
    url = f"{base}/news/{item.slug}.html"
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "datePublished": item.published.isoformat(timespec="seconds"),
        "dateModified": item.updated.isoformat(timespec="seconds"),
        "author": {"@type": "Person", "name": item.author},
        "publisher": {"@type": "Organization", "name": site.title},
        "mainEntityOfPage": url,
    }
    head = (
        f'<link rel="canonical" href="{esc(url)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{esc(item.title)}">\n'
        f'<meta property="og:url" content="{esc(url)}">\n'
        f'<meta property="article:published_time" content="{item.published.isoformat(timespec="seconds")}">\n'
        f'<meta name="author" content="{esc(item.author)}">\n'
        '<script type="application/ld+json">' + json.dumps(data, ensure_ascii=False).replace("</", "<\\/") + "</script>"
    )
    rel = "\n".join(f'<li><a href="{esc(base)}/news/{r.slug}.html">{esc(r.title)}</a></li>' for r in related)
    main = f"""<article class="story">
<h1 class="headline">{esc(item.title)}</h1>
<p class="byline">By <span class="author">{esc(item.author)}</span> &#183; <time datetime="{item.published.isoformat(timespec="seconds")}">{item.published.strftime("%B %d, %Y")}</time></p>
<div class="story-body">
{item.body_html}
</div>
</article>
<aside class="related">
<h2>More stories</h2>
<ul>
{rel}
</ul>
</aside>"""
    return _chrome(site, base, f"{item.title} | {site.title}", head, main)


def front(site, base: str, items: list) -> str:
    cards = "\n".join(
        f'<li class="teaser"><a href="{esc(base)}/news/{i.slug}.html">{esc(i.title)}</a> '
        f'<time datetime="{i.published.isoformat(timespec="seconds")}">{i.published.strftime("%B %d, %Y")}</time>'
        f"<p>{esc(snippet(i.body_html))}</p></li>"
        for i in items
    )
    return _chrome(
        site,
        base,
        site.title,
        f'<link rel="canonical" href="{esc(base)}/">',
        f'<section class="latest"><h1>Latest</h1>\n<ul>\n{cards}\n</ul></section>',
    )


def not_found(site, base: str) -> str:
    return _chrome(
        site,
        base,
        f"Page not found | {site.title}",
        "",
        "<h1>Page not found</h1><p>The story you asked for is not here.</p>",
    )
