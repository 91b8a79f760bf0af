"""A third-party "magazine" Blogger template, of the kind sold for news-style blogs.

This module owns its markup: double-quoted attributes, extra wrappers (`#outer-wrapper`,
`.item-post-wrap`), a breadcrumb, `h1.post-title` without `entry-title`, the date in
`span.post-date published` with a `datetime` attribute, in-article ad slots, the body in
`div.post-body entry-content` inside `.post-body-inner`, tag links, share links, a related-posts
placeholder, and a sidebar whose Blog Archive is a drop-down (month URLs only in `<option>`
values, so crawlers cannot follow them as links). Listings are `div.blog-post hentry index-post`
cards with `p.post-snippet`.
"""

from __future__ import annotations

import json

from rjwatch.demo.templates import (
    Page,
    archive_widget,
    authorization_css,
    cookie_notice,
    data_context,
    esc,
    head_meta,
    label_path,
    profile_url,
    snippet,
    threaded_comments,
)

#: Characters of text in a listing card's snippet.
CARD_SNIPPET_CHARS = 180

THEME_NAME = "NewsBox Magazine"


def _jsonld(page: Page, post) -> str:
    data = {
        "@context": "http://schema.org",
        "@type": "BlogPosting",
        "mainEntityOfPage": {"@type": "WebPage", "@id": page.canonical_post_url(post)},
        "headline": post.title,
        "datePublished": page.iso(post.published),
        "dateModified": page.iso(post.updated),
        "author": {"@type": "Person", "name": post.author},
    }
    return (
        '<script type="application/ld+json">' + json.dumps(data, ensure_ascii=False).replace("</", "<\\/") + "</script>"
    )


def _ad() -> str:
    return (
        '<div class="inline-ad">\n<ins class="adsbygoogle" data-ad-client="ca-pub-0000000000000000" '
        'data-ad-format="auto" style="display: block;"></ins>\n</div>'
    )


def _item(page: Page, post) -> str:
    first_label = post.labels[0] if post.labels else None
    crumb = (
        f'<em class="delimiter"></em><a class="b-label" href="{page.link(label_path(first_label))}">'
        f"{esc(first_label)}</a>"
        if first_label
        else ""
    )
    tags = "\n".join(
        f'<a class="label-link" href="{page.link(label_path(label))}" rel="tag">{esc(label)}</a>'
        for label in post.labels
    )
    url = page.canonical_post_url(post)
    return f"""<div class="blog-post hentry item-post">
{_jsonld(page, post)}
<nav id="breadcrumb"><a href="{page.home_url}">{esc(page.s["home"])}</a>{crumb}<em class="delimiter"></em><span class="current">{esc(post.title)}</span></nav>
<h1 class="post-title">
{esc(post.title)}
</h1>
<div class="post-meta">
<span class="post-author"><a href="{profile_url(page)}" target="_blank" title="{esc(post.author)}">{esc(post.author)}</a></span>
<span class="post-date published" datetime="{page.iso(post.published)}">{esc(page.short_date(post))}</span>
</div>
{_ad()}
<div class="entry-wrap">
<div class="post-body-inner">
<div class="post-body entry-content" id="post-body-{post.post_id}">
{post.body_html}
</div>
</div>
</div>
{_ad()}
<div class="post-footer">
<div class="post-labels">
<span>Tags:</span>
<div class="label-head Label">
{tags}
</div>
</div>
<div class="post-share">
<ul class="share-links social social-color">
<li class="facebook"><a class="facebook" href="https://www.facebook.com/sharer.php?u={esc(url)}" rel="nofollow" target="_blank"><span>Facebook</span></a></li>
<li class="twitter"><a class="twitter" href="https://twitter.com/intent/tweet?url={esc(url)}" rel="nofollow" target="_blank"><span>X</span></a></li>
<li class="email"><a class="email" href="mailto:?subject={esc(post.title)}&amp;body={esc(url)}" rel="nofollow" target="_blank"><span>Email</span></a></li>
</ul>
</div>
<div id="related-wrap">
<div class="title-wrap related-title"><h3>You may like these posts</h3></div>
<div class="related-ready"><div class="related-tag" data-label="{esc(first_label or "")}"></div></div>
</div>
</div>
</div>
<div class="comments-wrap">
{threaded_comments(page, post).replace("'", '"')}
</div>"""


def _card(page: Page, post) -> str:
    url = page.post_url(post)
    return f"""<div class="blog-post hentry index-post">
<div class="post-image-wrap"><a class="post-image-link" href="{url}"><span class="post-thumb"></span></a></div>
<div class="post-info">
<h2 class="post-title"><a href="{url}">{esc(post.title)}</a></h2>
<div class="post-meta"><span class="post-author">{esc(post.author)}</span>
<span class="post-date published" datetime="{page.iso(post.published)}">{esc(page.short_date(post))}</span></div>
<p class="post-snippet">{esc(snippet(post.body_html, CARD_SNIPPET_CHARS))}</p>
</div>
</div>"""


def _pager(page: Page) -> str:
    s = page.s
    item = page.page_type == "item"
    parts = []
    if page.newer_url:
        label = s["newer_post"] if item else s["newer_posts"]
        parts.append(
            f'<a class="blog-pager-newer-link" href="{esc(page.newer_url)}" id="Blog1_blog-pager-newer-link" '
            f'title="{esc(label)}"><div class="pager-title">{esc(label)}</div></a>'
        )
    if page.older_url:
        label = s["older_post"] if item else s["older_posts"]
        parts.append(
            f'<a class="blog-pager-older-link" href="{esc(page.older_url)}" id="Blog1_blog-pager-older-link" '
            f'title="{esc(label)}"><div class="pager-title">{esc(label)}</div></a>'
        )
    parts.append(f'<a class="home-link" href="{page.home_url}">{esc(s["home"])}</a>')
    return '<div class="blog-pager container" id="blog-pager">\n' + "\n".join(parts) + "\n</div>"


_WIDGETS = [
    ("Header", "Header1", "header-logo"),
    ("Blog", "Blog1", "main"),
    ("BlogSearch", "BlogSearch1", "sidebar1"),
    ("Profile", "Profile1", "sidebar1"),
    ("Label", "Label1", "sidebar1"),
    ("BlogArchive", "BlogArchive1", "sidebar1"),
]


def render(page: Page) -> str:
    s = page.s
    b = page.blog
    if page.page_type == "item":
        posts = "\n".join(_item(page, p) for p in page.posts)
        wrap_class = "item-post-wrap"
    else:
        posts = "\n".join(_card(page, p) for p in page.posts)
        wrap_class = "index-post-wrap"
    message = s["not_found"] if page.page_type == "error" else page.status_message
    status = f'<div class="queryMessage"><span class="query-info">{esc(message)}</span></div>' if message else ""
    labels = "\n".join(
        f'<li><a class="label-name" href="{page.link(label_path(label))}">{esc(label)}'
        f'<span class="label-count">{count}</span></a></li>'
        for label, count in page.labels
    )
    body_class = "item" if page.page_type == "item" else "home" if page.path == "/" else "archive"
    title = page.item.title if page.item is not None else b.title
    return f"""<!DOCTYPE html>
<html class="no-js" dir="ltr" lang="{page.lang}">
<head>
<meta charset="utf-8">
<meta content="width=device-width, initial-scale=1, minimum-scale=1, maximum-scale=1" name="viewport">
<title>{esc(title)} - {esc(b.title)}</title>
{head_meta(page, quote_char='"')}
<meta content="article" property="og:type">
<style id="page-skin-1" type="text/css"><!--
/*
-----------------------------------------------
Blogger Template Style
Name:        {THEME_NAME}
Version:     2.4.0
----------------------------------------------- */
#outer-wrapper{{max-width:1100px;margin:0 auto}}
.post-body{{font-size:15px;line-height:1.7em}}
.post-title{{font-size:26px;font-weight:700}}
--></style>
{authorization_css(page)}
</head>
<body class="{body_class}">
<div class="site-wrap">
<div id="outer-wrapper">
<div id="top-bar">
<div class="container row">
<div class="top-bar-nav section" id="top-bar-nav" name="Top Navigation"><div class="widget LinkList" data-version="2" id="LinkList72">
<div class="widget-content"><ul><li><a href="{page.home_url}">{esc(s["home"])}</a></li></ul></div>
</div></div>
</div>
</div>
<div id="header-wrap">
<div class="container row">
<div class="header-logo section" id="header-logo" name="Header Logo"><div class="widget Header" data-version="2" id="Header1">
<div class="header-widget">
<a class="header-brand" href="{page.home_url}">{esc(b.title)}</a>
<p class="header-desc">{esc(b.description)}</p>
</div>
</div></div>
</div>
</div>
<div class="clearfix"></div>
<div id="content-wrapper">
<div class="container row">
<div id="main-wrapper">
<div class="main section" id="main" name="Main Posts"><div class="widget Blog" data-version="2" id="Blog1">
{status}
<div class="blog-posts hfeed container {wrap_class}">
{posts}
</div>
{_pager(page)}
</div></div>
</div>
<!-- Sidebar Wrapper -->
<div id="sidebar-wrapper">
<div class="sidebar section" id="sidebar1" name="Sidebar Right (A)"><div class="widget BlogSearch" data-version="2" id="BlogSearch1">
<div class="widget-title"><h3 class="title">{esc(s["search_title"])}</h3></div>
<div class="widget-content" role="search">
<form action="{page.base}/search" target="_top">
<input aria-label="{esc(s["search_title"])}" autocomplete="off" name="q" placeholder="{esc(s["search_title"])}" value="">
<input class="search-action" type="submit" value="{esc(s["search_button"])}">
</form>
</div>
</div><div class="widget Profile" data-version="2" id="Profile1">
<div class="widget-title"><h3 class="title">{esc(s["about_me"])}</h3></div>
<div class="widget-content">
<a class="profile-name-link g-profile" href="{profile_url(page)}">{esc(b.author)}</a>
<p class="profile-textblock">{esc(b.about)}</p>
<a class="profile-link" href="{profile_url(page)}" rel="author">{esc(s["view_profile"])}</a>
</div>
</div><div class="widget Label" data-version="2" id="Label1">
<div class="widget-title"><h3 class="title">{esc(s["labels_title"])}</h3></div>
<div class="widget-content list-label">
<ul>
{labels}
</ul>
</div>
</div>{archive_widget(page, hierarchy=False)}</div>
</div>
</div>
</div>
<div class="clearfix"></div>
<div id="footer-wrapper">
<div id="sub-footer-wrapper">
<div class="container row">
<div class="copyright-area">Created by <a href="{page.home_url}">{esc(THEME_NAME)}</a> | Powered by <a href="https://www.blogger.com">Blogger</a></div>
</div>
</div>
</div>
</div>
</div>
<script src="https://ajax.googleapis.com/ajax/libs/jquery/3.5.1/jquery.min.js" type="text/javascript"></script>
{cookie_notice(page)}
{data_context(page, THEME_NAME, _WIDGETS)}
</body>
</html>"""
