"""Blogger's 2017+ responsive themes: Contempo, Soho and Notable.

This module owns their markup: `body.item-view` / `feed-view`, the item's
`article.post-outer-container` with a JSON-LD BlogPosting block, `h3.post-title entry-title`,
the byline with `time.published` (its text is the blog's localised date format),
`div.post-body entry-content float-container`, label and share blocks, threaded comments,
snippet listings with a jump link on the home page and archives, the pager and the sidebar.
The same HTML serves `?m=1` (these themes are responsive); only the data context and the
`?m=1` on internal links differ.
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
    i18n,
    label_path,
    labels_widget,
    profile_url,
    profile_widget,
    snippet,
    threaded_comments,
)

#: Per-theme details: display name and variant class.
THEMES = {
    "contempo": ("Contempo", "variant-indie_light"),
    "soho": ("Soho", "variant-fancy_light"),
    "notable": ("Notable", "variant-baked_goods"),
}

#: Characters of text in a listing snippet (Contempo/Soho cut index snippets near 250).
LISTING_SNIPPET_CHARS = 250


def _jsonld(page: Page, post) -> str:
    data = {
        "@context": "http://schema.org",
        "@type": "BlogPosting",
        "mainEntityOfPage": {"@type": "WebPage", "@id": page.canonical_post_url(post)},
        "headline": post.title,
        "description": snippet(post.body_html),
        "datePublished": page.iso(post.published),
        "dateModified": page.iso(post.updated),
        "publisher": {"@type": "Organization", "name": "Blogger"},
        "author": {"@type": "Person", "name": post.author},
    }
    return (
        "<script type='application/ld+json'>"
        + json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
        + "</script>"
    )


def _share(page: Page, post, where: str) -> str:
    s = page.s
    items = []
    for key, label in (
        ("link", s["get_link"]),
        ("facebook", s["share_facebook"]),
        ("twitter", s["share_twitter"]),
        ("pinterest", s["share_pinterest"]),
        ("email", s["share_email"]),
    ):
        href = (
            f"https://www.blogger.com/share-post.g?blogID={page.blog.blog_id}&postID={post.post_id}"
            f"&target={'' if key == 'link' else key}"
        )
        items.append(
            f"<li>\n<span aria-label='{esc(label)}' class='sharing-platform-button sharing-element-{key}' "
            f"data-href='{esc(href)}' data-url='{page.canonical_post_url(post)}' role='menuitem' tabindex='-1' "
            f"title='{esc(label)}'>\n<span class='platform-sharing-text'>{esc(label)}</span>\n</span>\n</li>"
        )
    popup = f"sharing-popup-Blog1-{where}-{post.post_id}"
    return f"""<div class='post-share-buttons post-share-buttons-{"top" if where == "byline" else "bottom invisible"}'>
<div class='byline post-share-buttons goog-inline-block'>
<div aria-owns='{popup}' class='sharing' data-title='{esc(post.title)}'>
<button aria-controls='{popup}' aria-label='Share' class='sharing-button touch-icon-button' role='button'>
<div class='flat-icon-button ripple'>
<svg class='svg-icon-24'><use xlink:href='/responsive/sprite_v1_6.css.svg#ic_share_black_24dp' xmlns:xlink='http://www.w3.org/1999/xlink'></use></svg>
</div>
</button>
<div class='share-buttons-container'>
<ul aria-hidden='true' class='share-buttons hidden' id='{popup}' role='menu'>
{"".join(items)}
</ul>
</div>
</div>
</div>
</div>"""


def _byline(page: Page, post) -> str:
    s = page.s
    return f"""<div class='post-header'>
<div class='post-header-line-1'>
<span class='byline post-author vcard'>
<span class='byline-label'>{esc(s["by"])}</span>
<span class='fn'>
<meta content='{profile_url(page)}'/>
<a class='g-profile' href='{profile_url(page)}' rel='author' title='author profile'>
<span>{esc(post.author)}</span>
</a>
</span>
</span>
<span class='byline post-timestamp'>
<meta content='{page.canonical_post_url(post)}'/>
<a class='timestamp-link' href='{page.post_url(post)}' rel='bookmark' title='permanent link'>
<time class='published' datetime='{page.iso(post.published)}' title='{page.iso(post.published)}'>
{esc(page.date_header(post) if page.blog.template == "soho" else page.short_date(post))}
</time>
</a>
</span>
</div>
</div>"""


def _labels(page: Page, post) -> str:
    if not post.labels:
        return ""
    links = "\n".join(
        f"<a href='{page.link(label_path(label))}' rel='tag'>\n{esc(label)}\n</a>" for label in post.labels
    )
    return f"<span class='byline post-labels'>\n<span class='byline-label'>\n</span>\n{links}\n</span>"


def _item(page: Page, post) -> str:
    return f"""<article class='post-outer-container'>
<div class='post-outer'>
<div class='post'>
{_jsonld(page, post)}
<a name='{post.post_id}'></a>
<h3 class='post-title entry-title'>
{esc(post.title)}
</h3>
{_share(page, post, "byline")}
{_byline(page, post)}
<div class='post-body-container'>
<div class='post-body entry-content float-container' id='post-body-{post.post_id}'>{post.body_html}</div>
</div>
<div class='post-bottom'>
<div class='post-footer float-container'>
<div class='post-footer-line post-footer-line-1'>
</div>
<div class='post-footer-line post-footer-line-2'>
{_labels(page, post)}
</div>
<div class='post-footer-line post-footer-line-3'>
</div>
</div>
{_share(page, post, "footer-1")}
</div>
</div>
</div>
<section class='comments embed' data-num-comments='0'>
{threaded_comments(page, post)}
</section>
</article>"""


def _listed(page: Page, post) -> str:
    url = page.post_url(post)
    return f"""<div class='post-outer-container'>
<div class='post-outer'>
<div class='post'>
<a name='{post.post_id}'></a>
<h3 class='post-title entry-title'>
<a href='{url}'>{esc(post.title)}</a>
</h3>
{_byline(page, post)}
<div class='container post-body entry-content' id='post-snippet-{post.post_id}'>
<div class='snippet-container r-snippet-container'>
<div class='snippet-item r-snippetized'>
{esc(snippet(post.body_html, LISTING_SNIPPET_CHARS))}
</div>
<a class='snippet-fade r-snippet-fade hidden' href='{url}'></a>
</div>
</div>
<div class='jump-link flat-button'>
<a class='r-snippet-fade' href='{url}' title='{esc(post.title)}'>
{esc(page.s["read_more"])}
</a>
</div>
<div class='post-footer container'>
<div class='post-footer-line post-footer-line-0'>
{_labels(page, post)}
</div>
</div>
</div>
</div>
</div>"""


def _pager(page: Page) -> str:
    s = page.s
    item = page.page_type == "item"
    parts = []
    if page.newer_url:
        label = s["newer_post"] if item else s["newer_posts"]
        parts.append(
            f"<a class='blog-pager-newer-link flat-button ripple' href='{esc(page.newer_url)}' "
            f"id='Blog1_blog-pager-newer-link' title='{esc(label)}'>\n{esc(label)}\n</a>"
        )
    if page.older_url:
        label = s["older_post"] if item else s["older_posts"]
        parts.append(
            f"<a class='blog-pager-older-link flat-button ripple' href='{esc(page.older_url)}' "
            f"id='Blog1_blog-pager-older-link' title='{esc(label)}'>\n{esc(label)}\n</a>"
        )
    parts.append(f"<a class='home-link flat-button ripple' href='{page.home_url}'>{esc(s['home'])}</a>")
    return "<div class='blog-pager container' id='blog-pager'>\n" + "\n".join(parts) + "\n</div>"


def _blog_widget(page: Page) -> str:
    if page.page_type == "item":
        posts = "\n".join(_item(page, p) for p in page.posts)
    else:
        posts = "\n".join(_listed(page, p) for p in page.posts)
    status = ""
    message = page.s["not_found"] if page.page_type == "error" else page.status_message
    if message:
        status = f"<div class='status-msg-wrap'>\n<div class='status-msg-body'>\n{esc(message)}\n</div>\n</div>"
    feeds = ""
    if page.blog.feed_enabled and page.item is not None:
        feeds = (
            "<div class='post-feeds container'>\n<div class='feed-links'>\n"
            f"{esc(page.s['subscribe'])}\n<a class='feed-link' href='{page.base}/feeds/{page.item.post_id}/comments/default' "
            f"target='_blank' type='application/atom+xml'>{esc(page.s['post_comments_atom'])}</a>\n</div>\n</div>"
        )
    return f"""<div class='widget Blog' data-version='2' id='Blog1'>
{status}
<div class='blog-posts hfeed container'>
{posts}
</div>
{_pager(page)}
{feeds}
</div>"""


_WIDGETS = [
    ("BlogSearch", "BlogSearch1", "search_top"),
    ("Header", "Header1", "header"),
    ("Blog", "Blog1", "page_body"),
    ("Profile", "Profile1", "sidebar"),
    ("BlogArchive", "BlogArchive1", "sidebar"),
    ("Label", "Label1", "sidebar"),
    ("Attribution", "Attribution1", "footer"),
]


def render(page: Page) -> str:
    family = page.blog.template
    name, variant = THEMES[family]
    s = page.s
    view = {"item": "item-view", "error": "error-view"}.get(page.page_type, "feed-view")
    title = page.item.title if page.item is not None else page.html_title
    if page.mobile:
        view += " is-mobile"
    return f"""<!DOCTYPE html>
<html dir='ltr' lang='{page.lang}'>
<head>
<meta content='width=device-width, initial-scale=1' name='viewport'/>
<title>{esc(title)}</title>
<meta content='text/html; charset=UTF-8' http-equiv='Content-Type'/>
<!-- Chrome, Firefox OS and Opera -->
<meta content='#eeeeee' name='theme-color'/>
{head_meta(page)}
<style id='page-skin-1' type='text/css'><!--
/*! normalize.css v3.0.1 | MIT License | git.io/normalize */html{{font-family:sans-serif;-ms-text-size-adjust:100%;-webkit-text-size-adjust:100%}}body{{margin:0}}
/*!************************************************
 * Blogger Template Style
 * Name: {name}
 **************************************************/
body{{overflow-wrap:break-word;word-break:break-word;word-wrap:break-word}}
.hidden{{display:none}}
.post-body{{color:#212121;font:15px Roboto, sans-serif;line-height:1.6em}}
.post-title{{font:bold 22px Roboto, sans-serif;margin:0 0 8px 0}}
.byline{{color:rgba(0,0,0,0.54);font-size:12px;margin-right:1em}}
--></style>
<script async='async' src='https://www.gstatic.com/external_hosted/clipboardjs/clipboard.min.js'></script>
{authorization_css(page)}
</head>
<body class='{view} version-1-3-3 {variant}'>
<a class='skip-navigation' href='#main' tabindex='0'>
Skip to main content
</a>
<div class='page'>
<div class='bg-photo-overlay'></div>
<div class='bg-photo-container'>
<div class='bg-photo'></div>
</div>
<div class='page_body'>
<div class='centered'>
<div class='centered-top-placeholder'></div>
<header class='centered-top-container' role='banner'>
<div class='centered-top'>
<div class='search'>
<div class='section' id='search_top' name='Search (Top)'><div class='widget BlogSearch' data-version='2' id='BlogSearch1'>
<h3 class='title'>
{esc(s["search_title"])}
</h3>
<div class='widget-content' role='search'>
<form action='{page.base}/search' target='_top'>
<div class='search-input'>
<input aria-label='{esc(s["search_title"])}' autocomplete='off' name='q' placeholder='{esc(s["search_title"])}' value=''/>
</div>
<input class='search-action flat-button' type='submit' value='{esc(s["search_button"])}'/>
</form>
</div>
</div></div>
</div>
<div class='clearboth'></div>
<div class='blog-name container'>
<div class='container section' id='header' name='Header'><div class='widget Header' data-version='2' id='Header1'>
<div class='header-widget'>
<div>
<h1>
<a href='{page.home_url}'>
{esc(page.blog.title)}
</a>
</h1>
</div>
<p>
{esc(page.blog.description)}
</p>
</div>
</div></div>
</div>
</div>
</header>
<div>
<main class='centered-bottom' id='main' role='main' tabindex='-1'>
<div class='main section' id='page_body' name='Page Body'>
{_blog_widget(page)}
</div>
</main>
</div>
</div>
</div>
<aside class='sidebar-container container sidebar-invisible' role='navigation'>
<div class='sidebar_top_wrapper'>
<div class='sidebar_top section' id='sidebar' name='Sidebar (Top)'>
{profile_widget(page)}
{archive_widget(page)}
{labels_widget(page)}
</div>
</div>
</aside>
<footer class='footer section' id='footer' name='Footer'><div class='widget Attribution' data-version='2' id='Attribution1'>
<div class='widget-content'>
<div class='blogger'>
<a href='https://www.blogger.com' rel='nofollow'>Powered by Blogger</a>
</div>
<div class='image-attribution'>{esc(name)} {esc(i18n.strings(page.blog.locale)["powered"])} Blogger</div>
</div>
</div></footer>
</div>
{cookie_notice(page)}
{data_context(page, name, _WIDGETS)}
</body>
</html>"""
