"""Blogger's machine-readable documents: Atom and RSS 2.0 post feeds, sitemaps, robots.txt.

This module owns their exact shape: the Atom feed with Blogger's namespaces
(`openSearch` = `http://a9.com/-/spec/opensearchrss/1.0/`, `blogger`, `georss`, `gd`, `thr`),
`tag:blogger.com,1999:blog-B.post-P` ids, the GData kind category and label categories,
`rel=next` pagination links, per-entry `alternate`/`replies`/`self` links; the `alt=rss`
rendering; the sitemap index and its 500-URL pages; and a blogspot-style robots.txt.
Which entries go in, in which order, is decided by `site.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

from rjwatch.demo.templates import Page, esc, snippet

OPENSEARCH_NS = "http://a9.com/-/spec/opensearchrss/1.0/"
KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
KIND_POST = "http://schemas.google.com/blogger/2008/kind#post"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"

#: Characters of text in a summary-mode entry before the `#more` jump link; Blogger's short feeds
#: carry a few hundred characters.
SUMMARY_CHARS = 300


def _ts(dt: datetime, tz) -> str:
    """Blogger's feed timestamp: milliseconds and the blog's own offset."""
    local = dt.astimezone(tz) if tz is not None else dt
    return local.isoformat(timespec="milliseconds")


def summary_html(page: Page, post) -> str:
    """A summary-mode body: the first ~300 characters of text and a jump link to `#more`."""
    text = snippet(post.body_html, SUMMARY_CHARS)
    link = page.canonical_post_url(post) + "#more"
    return f'{esc(text)}<br /><a href="{esc(link)}">{esc(page.s["read_more"])} &#187;</a>'


def atom(
    page: Page,
    entries: list,
    *,
    total: int,
    start: int,
    per_page: int,
    self_url: str,
    next_url: str | None,
    summary: bool,
    updated: datetime,
    all_labels: list[str],
) -> str:
    b = page.blog
    tz = page.tz
    blog_tag = f"tag:blogger.com,1999:blog-{b.blog_id}"
    head = [
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<?xml-stylesheet href="http://www.blogger.com/styles/atom.css" type="text/css"?>'
        "<feed xmlns='http://www.w3.org/2005/Atom' "
        f"xmlns:openSearch='{OPENSEARCH_NS}' "
        "xmlns:blogger='http://schemas.google.com/blogger/2008' "
        "xmlns:georss='http://www.georss.org/georss' "
        'xmlns:gd="http://schemas.google.com/g/2005" '
        "xmlns:thr='http://purl.org/syndication/thread/1.0'>",
        f"<id>{blog_tag}</id>",
        f"<updated>{_ts(updated, tz)}</updated>",
    ]
    head.extend(f"<category term='{esc(label)}'/>" for label in all_labels)
    head.extend(
        [
            f"<title type='text'>{esc(b.title)}</title>",
            f"<subtitle type='html'>{esc(b.description)}</subtitle>",
            f"<link rel='http://schemas.google.com/g/2005#feed' type='application/atom+xml' "
            f"href='{esc(page.base)}/feeds/posts/default'/>",
            f"<link rel='self' type='application/atom+xml' href='{esc(self_url)}'/>",
            f"<link rel='alternate' type='text/html' href='{esc(page.base)}/'/>",
            "<link rel='hub' href='http://pubsubhubbub.appspot.com/'/>",
        ]
    )
    if next_url:
        head.append(f"<link rel='next' type='application/atom+xml' href='{esc(next_url)}'/>")
    head.extend(
        [
            f"<author><name>{esc(b.author)}</name><uri>https://www.blogger.com/profile/{b.profile_id}</uri>"
            "<email>noreply@blogger.com</email></author>",
            "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>",
            f"<openSearch:totalResults>{total}</openSearch:totalResults>",
            f"<openSearch:startIndex>{start}</openSearch:startIndex>",
            f"<openSearch:itemsPerPage>{per_page}</openSearch:itemsPerPage>",
        ]
    )
    out = head
    for post in entries:
        pid = post.post_id
        url = page.base + post.path
        cats = "".join(f"<category scheme='{LABEL_SCHEME}' term='{esc(label)}'/>" for label in post.labels)
        if summary:
            body = f"<summary type='html'>{esc(summary_html(page, post))}</summary>"
        else:
            body = f"<content type='html'>{esc(post.body_html)}</content>"
        out.append(
            "<entry>"
            f"<id>{blog_tag}.post-{pid}</id>"
            f"<published>{_ts(post.published, tz)}</published>"
            f"<updated>{_ts(post.updated, tz)}</updated>"
            f"<category scheme='{KIND_SCHEME}' term='{KIND_POST}'/>{cats}"
            f"<title type='text'>{esc(post.title)}</title>{body}"
            f"<link rel='replies' type='application/atom+xml' href='{esc(page.base)}/feeds/{pid}/comments/default' title='Post Comments'/>"
            f"<link rel='replies' type='text/html' href='{esc(url)}#comment-form' title='0 Comments'/>"
            f"<link rel='edit' type='application/atom+xml' href='{esc(page.base)}/feeds/posts/default/{pid}'/>"
            f"<link rel='self' type='application/atom+xml' href='{esc(page.base)}/feeds/posts/default/{pid}'/>"
            f"<link rel='alternate' type='text/html' href='{esc(url)}' title='{esc(post.title)}'/>"
            f"<author><name>{esc(post.author)}</name><uri>https://www.blogger.com/profile/{b.profile_id}</uri>"
            "<email>noreply@blogger.com</email></author>"
            "<thr:total>0</thr:total>"
            "</entry>"
        )
    out.append("</feed>")
    return "".join(out)


def rss(
    page: Page,
    entries: list,
    *,
    total: int,
    start: int,
    per_page: int,
    self_url: str,
    next_url: str | None,
    summary: bool,
    updated: datetime,
    all_labels: list[str],
) -> str:
    b = page.blog
    tz = page.tz
    blog_tag = f"tag:blogger.com,1999:blog-{b.blog_id}"
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<rss xmlns:atom='http://www.w3.org/2005/Atom' "
        f"xmlns:openSearch='{OPENSEARCH_NS}' "
        "xmlns:blogger='http://schemas.google.com/blogger/2008' "
        "xmlns:georss='http://www.georss.org/georss' "
        'xmlns:gd="http://schemas.google.com/g/2005" '
        "xmlns:thr='http://purl.org/syndication/thread/1.0' version='2.0'><channel>",
        f"<atom:id>{blog_tag}</atom:id>",
        f"<lastBuildDate>{format_datetime(updated.astimezone(UTC))}</lastBuildDate>",
    ]
    out.extend(f"<category>{esc(label)}</category>" for label in all_labels)
    out.extend(
        [
            f"<title>{esc(b.title)}</title>",
            f"<description>{esc(b.description)}</description>",
            f"<link>{esc(page.base)}/</link>",
            f"<atom:link rel='self' type='application/rss+xml' href='{esc(self_url)}'/>",
        ]
    )
    if next_url:
        out.append(f"<atom:link rel='next' type='application/rss+xml' href='{esc(next_url)}'/>")
    out.extend(
        [
            f"<managingEditor>noreply@blogger.com ({esc(b.author)})</managingEditor>",
            "<generator>Blogger</generator>",
            f"<openSearch:totalResults>{total}</openSearch:totalResults>",
            f"<openSearch:startIndex>{start}</openSearch:startIndex>",
            f"<openSearch:itemsPerPage>{per_page}</openSearch:itemsPerPage>",
        ]
    )
    for post in entries:
        url = page.base + post.path
        cats = "".join(f"<category domain='{LABEL_SCHEME}'>{esc(label)}</category>" for label in post.labels)
        body = summary_html(page, post) if summary else post.body_html
        out.append(
            "<item>"
            f"<guid isPermaLink='false'>{blog_tag}.post-{post.post_id}</guid>"
            f"<pubDate>{format_datetime(post.published.astimezone(UTC))}</pubDate>"
            f"<atom:updated>{_ts(post.updated, tz)}</atom:updated>{cats}"
            f"<title>{esc(post.title)}</title>"
            f"<description>{esc(body)}</description>"
            f"<link>{esc(url)}</link>"
            f"<author>noreply@blogger.com ({esc(post.author)})</author>"
            "<thr:total>0</thr:total>"
            "</item>"
        )
    out.append("</channel></rss>")
    return "".join(out)


def comments_feed(page: Page, self_url: str, updated: datetime, post=None) -> str:
    """An empty comments feed (the demo's comments exist only as rendered HTML)."""
    b = page.blog
    ident = f"tag:blogger.com,1999:blog-{b.blog_id}" + (f".post{post.post_id}..comments" if post else ".comments")
    title = f"{b.title}: {post.title}" if post else b.title
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<feed xmlns='http://www.w3.org/2005/Atom' xmlns:openSearch='{OPENSEARCH_NS}'>"
        f"<id>{ident}</id><updated>{_ts(updated, page.tz)}</updated>"
        f"<title type='text'>{esc(title)}</title>"
        f"<link rel='self' type='application/atom+xml' href='{esc(self_url)}'/>"
        f"<link rel='alternate' type='text/html' href='{esc(page.base)}/'/>"
        "<generator version='7.00' uri='http://www.blogger.com'>Blogger</generator>"
        "<openSearch:totalResults>0</openSearch:totalResults>"
        "<openSearch:startIndex>1</openSearch:startIndex>"
        "<openSearch:itemsPerPage>25</openSearch:itemsPerPage></feed>"
    )


def sitemap_index(base: str, pages: int, lastmod: datetime) -> str:
    rows = "".join(
        f"<sitemap><loc>{esc(base)}/sitemap.xml?page={n}</loc>"
        f"<lastmod>{lastmod.astimezone(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')}</lastmod></sitemap>"
        for n in range(1, pages + 1)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{rows}</sitemapindex>"
    )


def sitemap_page(base: str, posts: list) -> str:
    rows = "".join(
        f"<url><loc>{esc(base + p.path)}</loc>"
        f"<lastmod>{p.updated.astimezone(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')}</lastmod></url>"
        for p in posts
    )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{rows}</urlset>"
    )


def robots(base: str, disallow_search: bool) -> str:
    """robots.txt as blogspot hosts serve it: AdSense's crawler allowed everywhere, everyone else
    kept out of `/search` (label and query listings), the sitemap announced."""
    lines = ["User-agent: Mediapartners-Google", "Disallow: ", "", "User-agent: *"]
    if disallow_search:
        lines.append("Disallow: /search")
    lines += ["Allow: /", "", f"Sitemap: {base}/sitemap.xml", ""]
    return "\n".join(lines)


def label_feed_path(label: str) -> str:
    return "/feeds/posts/default/-/" + quote(label, safe="")
