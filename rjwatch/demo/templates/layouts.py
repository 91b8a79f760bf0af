"""Classic Blogger Layouts templates: Simple, Minima, Watermark, Awesome Inc. and Travel.

This module owns the markup of those five families, desktop and `?m=1` mobile: the `date-outer`
/ `date-header` grouping by day, `div.post hentry` with `post-body entry-content`,
`abbr.published` in the footer timestamp link, labels, share buttons, comments, the Blog pager,
the sidebar (search, profile, Blog Archive hierarchy, labels) and the Attribution footer.
Minima is the older, flatter v1 skeleton (no ids on the body, `dl` comments).

Why one module of this size: each template family's skeleton is a block of markup modelled on real
Blogger output; splitting them would separate families that share helpers.
"""

from __future__ import annotations

from rjwatch.demo.templates import (
    Page,
    archive_widget,
    authorization_css,
    comments_for,
    cookie_notice,
    data_context,
    esc,
    head_meta,
    i18n,
    label_path,
    labels_widget,
    navbar,
    profile_url,
    profile_widget,
    search_widget,
    share_links,
    threaded_comments,
)

#: Per-family details: display name, body class variant, skin CSS highlights.
SKINS = {
    "simple": ("Simple", "variant-simplysimple", "#66bbdd"),
    "minima": ("Minima", "", "#5588aa"),
    "watermark": ("Watermark", "variant-birds", "#c1cfd9"),
    "awesomeinc": ("Awesome Inc.", "variant-light", "#3778cd"),
    "travel": ("Travel", "variant-road", "#ff9900"),
}


def _skin_css(name: str, color: str) -> str:
    return f"""<style id='page-skin-1' type='text/css'><!--
/*
-----------------------------------------------
Blogger Template Style
Name:     {name}
Designer: Blogger
URL:      www.blogger.com
----------------------------------------------- */
/* Variable definitions
   ====================
   <Variable name="keycolor" description="Main Color" type="color" default="{color}"/>
*/
body {{
  font: normal normal 12px Arial, Tahoma, Helvetica, FreeSans, sans-serif;
  color: #222222;
  background: #ffffff;
}}
a:link {{ text-decoration: none; color: {color}; }}
h2.date-header {{ font: normal bold 11px Arial, Tahoma, Helvetica, FreeSans, sans-serif; }}
.date-header span {{ background-color: transparent; color: #666666; letter-spacing: .1em; }}
.post {{ margin: 0 0 25px 0; }}
h3.post-title, .comments h4 {{ font: normal normal 22px Arial, Tahoma, Helvetica, FreeSans, sans-serif; margin: .75em 0 0; }}
.post-body {{ font-size: 110%; line-height: 1.4; position: relative; }}
.post-footer {{ margin: 20px -2px 0; padding: 5px 10px; color: #666666; background-color: #f9f9f9; line-height: 1.6; font-size: 90%; }}
.blog-pager {{ background: transparent none no-repeat scroll top center; }}
.footer-outer {{ border-top: 0 dashed #bbbbbb; }}
--></style>
<style id='template-skin-1' type='text/css'><!--
body {{ min-width: 960px; }}
.content-outer, .content-fauxcolumn-outer, .region-inner {{ min-width: 960px; max-width: 960px; }}
.main-inner .columns {{ padding-left: 0px; padding-right: 310px; }}
--></style>"""


def _head(page: Page, family: str) -> str:
    name, _variant, color = SKINS[family]
    bundle = "2975350028-widget_css_bundle.css" if family == "minima" else "3416767676-css_bundle_v2.css"
    viewport = "" if family == "minima" else "<meta content='width=1100' name='viewport'/>\n"
    if page.mobile:
        viewport = "<meta content='width=device-width,initial-scale=1.0,minimum-scale=1.0,maximum-scale=1.0' name='viewport'/>\n"
    return f"""<head>
<link href='https://www.blogger.com/static/v1/widgets/{bundle}' rel='stylesheet' type='text/css'/>
{viewport}<meta content='text/html; charset=UTF-8' http-equiv='Content-Type'/>
{head_meta(page)}
<title>{esc(page.html_title)}</title>
{_skin_css(name, color)}
{authorization_css(page)}
<script type="text/javascript" language="javascript">
  // Supply ads personalization default for EEA readers
  adsbygoogle = window.adsbygoogle || [];
  if (typeof adsbygoogle.requestNonPersonalizedAds === 'undefined') {{
    adsbygoogle.requestNonPersonalizedAds = 1;
  }}
</script>
</head>"""


def _title(page: Page, post) -> str:
    if page.page_type == "item" and page.blog.template != "minima":
        return esc(post.title)
    return f"<a href='{page.post_url(post)}'>{esc(post.title)}</a>"


def _footer(page: Page, post) -> str:
    s = page.s
    url = page.post_url(post)
    comment_link = ""
    if page.page_type != "item":
        n = len(comments_for(page, post))
        comment_link = (
            f"<a class='comment-link' href='{url}#comment-form' onclick=''>\n"
            f"{esc(i18n.comment_count(n, page.blog.locale))}\n</a>"
        )
    labels = ""
    if post.labels:
        links = ",\n".join(
            f"<a href='{page.link(label_path(label))}' rel='tag'>{esc(label)}</a>" for label in post.labels
        )
        labels = f"<span class='post-labels'>\n{esc(s['labels'])}\n{links}\n</span>"
    edit = f"https://www.blogger.com/post-edit.g?blogID={page.blog.blog_id}&postID={post.post_id}&from=pencil"
    return f"""<div class='post-footer'>
<div class='post-footer-line post-footer-line-1'>
<span class='post-author vcard'>
{esc(s["posted_by"])}
<span class='fn' itemprop='author' itemscope='itemscope' itemtype='http://schema.org/Person'>
<meta content='{profile_url(page)}' itemprop='url'/>
<a class='g-profile' href='{profile_url(page)}' rel='author' title='author profile'>
<span itemprop='name'>{esc(post.author)}</span>
</a>
</span>
</span>
<span class='post-timestamp'>
{esc(s["at"])}
<meta content='{page.canonical_post_url(post)}' itemprop='url'/>
<a class='timestamp-link' href='{url}' rel='bookmark' title='permanent link'><abbr class='published' itemprop='datePublished' title='{page.iso(post.published)}'>{esc(page.clock(post))}</abbr></a>
</span>
<span class='reaction-buttons'>
</span>
<span class='post-comment-link'>
{comment_link}
</span>
<span class='post-icons'>
<span class='item-control blog-admin pid-1403762193'>
<a href='{esc(edit)}' title='{esc(s["edit"])}'>
<img alt='' class='icon-action' height='18' src='https://resources.blogblog.com/img/icon18_edit_allbkg.gif' width='18'/>
</a>
</span>
</span>
{share_links(page, post)}
</div>
<div class='post-footer-line post-footer-line-2'>
{labels}
</div>
<div class='post-footer-line post-footer-line-3'>
<span class='post-location'>
</span>
</div>
</div>"""


def _minima_comments(page: Page, post) -> str:
    s = page.s
    rows = []
    for cid, author, text in comments_for(page, post):
        rows.append(
            f"<dt class='comment-author ' id='c{cid}'>\n<a name='c{cid}'></a>\n{esc(author)}\n</dt>\n"
            f"<dd class='comment-body' id='Blog1_cmt-{cid}'>\n<p>\n{esc(text)}\n</p>\n</dd>\n"
            f"<dd class='comment-footer'>\n<span class='comment-timestamp'>\n"
            f"<a href='{page.post_url(post)}{'&' if page.mobile else '?'}showComment={cid}#c{cid}' title='comment permalink'>"
            f"{esc(page.short_date(post))}</a>\n</span>\n</dd>"
        )
    n = len(rows)
    return f"""<div class='comments' id='comments'>
<a name='comments'></a>
<h4>{esc(i18n.comment_count(n, page.blog.locale))}</h4>
<div id='Blog1_comments-block-wrapper'>
<dl class='avatar-comment-indent' id='comments-block'>
{chr(10).join(rows)}
</dl>
</div>
<p class='comment-footer'>
<a href='https://www.blogger.com/comment/fullpage/post/{page.blog.blog_id}/{post.post_id}' onclick=''>{esc(s["post_comment"])}</a>
</p>
</div>"""


def _post(page: Page, post) -> str:
    pid = post.post_id
    minima = page.blog.template == "minima"
    if minima:
        opening = "<div class='post hentry'>"
        metas = ""
        body_open = "<div class='post-body entry-content'>"
        header = "<div class='post-header-line-1'></div>"
    else:
        opening = (
            "<div class='post hentry uncustomized-post-template' itemprop='blogPost' "
            "itemscope='itemscope' itemtype='http://schema.org/BlogPosting'>"
        )
        metas = f"<meta content='{page.blog.blog_id}' itemprop='blogId'/>\n<meta content='{pid}' itemprop='postId'/>\n"
        body_open = f"<div class='post-body entry-content' id='post-body-{pid}' itemprop='description articleBody'>"
        header = "<div class='post-header'>\n<div class='post-header-line-1'></div>\n</div>"
    comments = ""
    if page.page_type == "item":
        comments = _minima_comments(page, post) if minima else threaded_comments(page, post)
    return f"""<div class='post-outer'>
{opening}
{metas}<a name='{pid}'></a>
<h3 class='post-title entry-title' itemprop='name'>
{_title(page, post)}
</h3>
{header}
{body_open}
{post.body_html}
<div style='clear: both;'></div>
</div>
{_footer(page, post)}
</div>
{comments}
</div>"""


def _posts(page: Page) -> str:
    """Posts grouped under one `date-header` per calendar day, as Blogger prints them."""
    out = []
    current = None
    for post in page.posts:
        day = page.local(post.published).date()
        if day != current:
            if current is not None:
                out.append("\n        </div></div>\n      ")
            out.append(
                '\n          <div class="date-outer">\n        \n'
                f"<h2 class='date-header'><span>{esc(page.date_header(post))}</span></h2>\n"
                '\n          <div class="date-posts">\n        \n'
            )
            current = day
        out.append(_post(page, post))
    if current is not None:
        out.append("\n        </div></div>\n      ")
    return "".join(out)


def _pager(page: Page) -> str:
    s = page.s
    item = page.page_type == "item"
    newer_label = s["newer_post"] if item else s["newer_posts"]
    older_label = s["older_post"] if item else s["older_posts"]
    parts = []
    if page.mobile:
        if page.newer_url:
            parts.append(
                f"<div class='mobile-link-button' id='blog-pager-newer-link'>\n"
                f"<a class='blog-pager-newer-link' href='{esc(page.newer_url)}' id='Blog1_blog-pager-newer-link' "
                f"title='{esc(newer_label)}'>&lsaquo;</a>\n</div>"
            )
        if page.older_url:
            parts.append(
                f"<div class='mobile-link-button' id='blog-pager-older-link'>\n"
                f"<a class='blog-pager-older-link' href='{esc(page.older_url)}' id='Blog1_blog-pager-older-link' "
                f"title='{esc(older_label)}'>&rsaquo;</a>\n</div>"
            )
        parts.append(
            f"<div class='mobile-link-button' id='blog-pager-home-link'>\n"
            f"<a class='home-link' href='{page.home_url}'>{esc(s['home'])}</a>\n</div>"
        )
        return "<div class='blog-pager' id='blog-pager'>\n" + "\n".join(parts) + "\n</div>"
    if page.newer_url:
        parts.append(
            f"<span id='blog-pager-newer-link'>\n<a class='blog-pager-newer-link' href='{esc(page.newer_url)}' "
            f"id='Blog1_blog-pager-newer-link' title='{esc(newer_label)}'>{esc(newer_label)}</a>\n</span>"
        )
    if page.older_url:
        parts.append(
            f"<span id='blog-pager-older-link'>\n<a class='blog-pager-older-link' href='{esc(page.older_url)}' "
            f"id='Blog1_blog-pager-older-link' title='{esc(older_label)}'>{esc(older_label)}</a>\n</span>"
        )
    parts.append(f"<a class='home-link' href='{page.home_url}'>{esc(s['home'])}</a>")
    return "<div class='blog-pager' id='blog-pager'>\n" + "\n".join(parts) + "\n</div>"


def _post_feeds(page: Page) -> str:
    s = page.s
    if not page.blog.feed_enabled:
        return ""
    if page.item is not None:
        href = f"{page.base}/feeds/{page.item.post_id}/comments/default"
        label = s["post_comments_atom"]
    else:
        href = page.feed_url
        label = s["posts_atom"]
    return (
        "<div class='post-feeds'>\n<div class='feed-links'>\n"
        f"{esc(s['subscribe'])}\n<a class='feed-link' href='{href}' target='_blank' "
        f"type='application/atom+xml'>{esc(label)}</a>\n</div>\n</div>"
    )


def _blog_widget(page: Page) -> str:
    status = ""
    if page.status_message:
        status = (
            "<div class='status-msg-wrap'>\n<div class='status-msg-body'>\n"
            f"{esc(page.status_message)}\n</div>\n<div class='status-msg-border'>"
            "<div class='status-msg-bg'><div class='status-msg-hidden'>"
            f"{esc(page.status_message)}</div></div></div>\n</div>\n<div style='clear: both;'></div>"
        )
    if page.page_type == "error":
        status = f"<div class='status-msg-wrap'><div class='status-msg-body'>{esc(page.s['not_found'])}</div></div>"
    return f"""<div class='main section' id='main' name='Main'><div class='widget Blog' data-version='1' id='Blog1'>
{status}
<div class='blog-posts hfeed'>
{_posts(page)}
</div>
{_pager(page)}
<div class='clear'></div>
{_post_feeds(page)}
</div></div>"""


def _header_widget(page: Page) -> str:
    return f"""<div class='header section' id='header' name='Header'><div class='widget Header' data-version='1' id='Header1'>
<div id='header-inner'>
<div class='titlewrapper'>
<h1 class='title'>
<a href='{page.home_url}'>
{esc(page.blog.title)}
</a>
</h1>
</div>
<div class='descriptionwrapper'>
<p class='description'><span>{esc(page.blog.description)}</span></p>
</div>
</div>
</div></div>"""


def _attribution(page: Page, name: str) -> str:
    return f"""<div class='foot section' id='footer-3' name='Footer'><div class='widget Attribution' data-version='1' id='Attribution1'>
<div class='widget-content' style='text-align: center;'>
{esc(name)} {esc(page.s["powered"])} <a href='https://www.blogger.com' target='_blank'>Blogger</a>.
</div>
<div class='clear'></div>
</div></div>"""


def _sidebar(page: Page) -> str:
    return (
        "<div class='sidebar section' id='sidebar-right-1'>"
        + search_widget(page)
        + profile_widget(page)
        + archive_widget(page)
        + labels_widget(page)
        + "</div>"
    )


_WIDGETS = [
    ("Navbar", "Navbar1", "navbar"),
    ("Header", "Header1", "header"),
    ("Blog", "Blog1", "main"),
    ("BlogSearch", "BlogSearch1", "sidebar-right-1"),
    ("Profile", "Profile1", "sidebar-right-1"),
    ("BlogArchive", "BlogArchive1", "sidebar-right-1"),
    ("Label", "Label1", "sidebar-right-1"),
    ("Attribution", "Attribution1", "footer-3"),
]


def _faux(name: str) -> str:
    return (
        f"<div class='fauxcolumn-outer {name}'>\n<div class='cap-top'>\n<div class='cap-left'></div>\n"
        "<div class='cap-right'></div>\n</div>\n<div class='fauxborder-left'>\n"
        "<div class='fauxborder-right'></div>\n<div class='fauxcolumn-inner'>\n</div>\n</div>\n"
        "<div class='cap-bottom'>\n<div class='cap-left'></div>\n<div class='cap-right'></div>\n</div>\n</div>"
    )


def _render_v2(page: Page, family: str) -> str:
    name, variant, _color = SKINS[family]
    mobile = " mobile" if page.mobile else ""
    body_class = f"loading{mobile}" + (f" {variant}" if variant else "")
    if page.mobile:
        columns = f"""<div class='columns-inner'>
<div class='column-center-outer'>
<div class='column-center-inner'>
{_blog_widget(page)}
</div>
</div>
</div>"""
        footer = "<div class='foot section' id='mobile-footer' name='Footer'>" + profile_widget(page) + "</div>"
    else:
        columns = f"""{_faux("fauxcolumn-center-outer")}
{_faux("fauxcolumn-left-outer")}
{_faux("fauxcolumn-right-outer")}
<!-- corrects IE6 width calculation -->
<div class='columns-inner'>
<div class='column-center-outer'>
<div class='column-center-inner'>
{_blog_widget(page)}
</div>
</div>
<div class='column-left-outer'>
<div class='column-left-inner'>
<aside>
</aside>
</div>
</div>
<div class='column-right-outer'>
<div class='column-right-inner'>
<aside>
{_sidebar(page)}
</aside>
</div>
</div>
</div>"""
        footer = _attribution(page, name)
    return f"""<!DOCTYPE html>
<html class='v2' dir='ltr' lang='{page.lang}' xmlns='http://www.w3.org/1999/xhtml' xmlns:b='http://www.google.com/2005/gml/b' xmlns:data='http://www.google.com/2005/gml/data' xmlns:expr='http://www.google.com/2005/gml/expr'>
{_head(page, family)}
<body class='{body_class}'>
{navbar(page)}
<div class='body-fauxcolumns'>
{_faux("body-fauxcolumn-outer")}
</div>
<div class='content'>
<div class='content-fauxcolumns'>
{_faux("content-fauxcolumn-outer")}
</div>
<div class='content-outer'>
<div class='fauxborder-left content-fauxborder-left'>
<div class='fauxborder-right content-fauxborder-right'></div>
<div class='content-inner'>
<header>
<div class='header-outer'>
<div class='fauxborder-left header-fauxborder-left'>
<div class='fauxborder-right header-fauxborder-right'></div>
<div class='region-inner header-inner'>
{_header_widget(page)}
</div>
</div>
</div>
</header>
<div class='tabs-outer'>
<div class='region-inner tabs-inner'>
<div class='tabs no-items section' id='crosscol' name='Cross-Column'></div>
</div>
</div>
<div class='main-outer'>
<div class='fauxborder-left main-fauxborder-left'>
<div class='fauxborder-right main-fauxborder-right'></div>
<div class='region-inner main-inner'>
<div class='columns fauxcolumns'>
{columns}
<div style='clear: both'></div>
<!-- columns -->
</div>
<!-- main -->
</div>
</div>
</div>
<footer>
<div class='footer-outer'>
<div class='fauxborder-left footer-fauxborder-left'>
<div class='fauxborder-right footer-fauxborder-right'></div>
<div class='region-inner footer-inner'>
<div class='foot no-items section' id='footer-1'></div>
<!-- outside of the include in order to lock Attribution widget -->
{footer}
</div>
</div>
</div>
</footer>
<!-- content -->
</div>
</div>
</div>
</div>
<script type='text/javascript'>
    window.setTimeout(function() {{
        document.body.className = document.body.className.replace('loading', '');
      }}, 10);
  </script>
{cookie_notice(page)}
{data_context(page, name, _WIDGETS)}
</body>
</html>"""


def _render_minima(page: Page) -> str:
    sidebar = (
        ""
        if page.mobile
        else ("<div id='sidebar-wrapper'>\n" + _sidebar(page).replace("sidebar-right-1", "sidebar") + "\n</div>")
    )
    return f"""<!DOCTYPE html>
<html dir='ltr' xmlns='http://www.w3.org/1999/xhtml' xmlns:b='http://www.google.com/2005/gml/b' xmlns:data='http://www.google.com/2005/gml/data' xmlns:expr='http://www.google.com/2005/gml/expr'>
{_head(page, "minima")}
<body{" class='mobile'" if page.mobile else ""}>
{navbar(page)}
<div id='outer-wrapper'><div id='wrap2'>
<!-- skip links for text browsers -->
<span id='skiplinks' style='display:none;'>
<a href='#main'>skip to main </a> |
      <a href='#sidebar'>skip to sidebar</a>
</span>
<div id='header-wrapper'>
{_header_widget(page)}
</div>
<div id='content-wrapper'>
<div id='crosscol-wrapper' style='text-align:center'>
<div class='crosscol no-items section' id='crosscol'></div>
</div>
<div id='main-wrapper'>
{_blog_widget(page)}
</div>
{sidebar}
<!-- spacer for skins that want sidebar and main to be the same height-->
<div class='clear'>&#160;</div>
</div>
<!-- end content-wrapper -->
<div id='footer-wrapper'>
{_attribution(page, "Minima")}
</div>
</div></div>
<!-- end outer-wrapper -->
{cookie_notice(page)}
{data_context(page, "Minima", _WIDGETS)}
</body>
</html>"""


def render(page: Page) -> str:
    family = page.blog.template
    if family == "minima":
        return _render_minima(page)
    return _render_v2(page, family)
