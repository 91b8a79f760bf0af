"""HTML and XML templates of the demo network: what each Blogger template family prints.

This package owns the markup. `site.py` decides *which* page to show (routing, indexes, query
parameters, conditional GET) and hands a `Page` to `render.render_page`; the modules here turn it
into the bytes a real Blogger host would send for that template family:

- `layouts`: classic Layouts templates - Simple, Minima, Watermark, Awesome Inc., Travel
  (`date-header`, `post hentry`, `abbr.published`, Blog Archive hierarchy).
- `themes`: 2017+ themes - Contempo, Soho, Notable (`article.post-outer-container`,
  `time.published`, JSON-LD, snippet listings).
- `thirdparty`: a commercial "magazine" template (double-quoted attributes, extra wrappers).
- `dynamicviews`: the Dynamic Views script shell with no post content at all.
- `feeds`: Atom / RSS 2.0 feeds, sitemap and robots.txt.
- `news`: the non-Blogger news site (RSS 2.0 and plain article pages).
- `i18n`: the localised chrome strings and date formats.

Markup structure follows real Blogger output as recorded in tests/fixtures/pages; every text in it
is the demo's own.

Why one module of this size: the markup shared by every Blogger template family lives in one place,
so the families differ only in templates/layouts.py.
"""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from urllib.parse import quote

from rjwatch.demo.templates import i18n

#: Template families the demo can render, by the name used in `Blog.template`.
CLASSIC_FAMILIES = ("simple", "minima", "watermark", "awesomeinc", "travel")
THEME_FAMILIES = ("contempo", "soho", "notable")
FAMILIES = CLASSIC_FAMILIES + THEME_FAMILIES + ("thirdparty", "dynamicviews")

#: Characters of post text in `og:description` and listing snippets: Blogger cuts both near 150
#: characters and appends "...".
SNIPPET_CHARS = 150

_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_END_RE = re.compile(r"</(?:p|div|h[1-6]|li|blockquote)>|<br\s*/?>", re.I)
_WS_RE = re.compile(r"\s+")


def esc(value) -> str:
    """HTML-escape text for element content and (single- or double-quoted) attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def js(value) -> str:
    """A string as Blogger writes it inside a single-quoted JS literal (`\\x3d`-style escapes)."""
    out = []
    for ch in "" if value is None else str(value):
        if ch in "\\'\"<>=&":
            out.append("\\\\" if ch == "\\" else f"\\x{ord(ch):02x}")
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def text_of(body_html: str) -> str:
    """Plain text of a post body: tags dropped, entities decoded, whitespace collapsed."""
    spaced = _BLOCK_END_RE.sub(" ", body_html)
    return _WS_RE.sub(" ", html.unescape(_TAG_RE.sub("", spaced))).strip()


def snippet(body_html: str, limit: int = SNIPPET_CHARS) -> str:
    """The first `limit` characters of the text, cut at a word boundary, with "..." appended."""
    text = text_of(body_html)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "..."


def label_path(label: str) -> str:
    return "/search/label/" + quote(label, safe="")


def stable_number(text: str) -> int:
    """A deterministic small number derived from an id (comment counts, profile ids)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass
class Page:
    """Everything a template needs to print one page of one blog."""

    blog: object  # rjwatch.demo.site.Blog (title, description, blog_id, locale, author, ...)
    page_type: str  # "item" | "archive" | "index" | "error"
    base: str  # scheme://host[:port] the request came in on (links are written against it)
    canonical_base: str  # scheme://host[:port] of the canonical host
    path: str  # the page's path, no query
    query: str = ""  # the query string as requested (kept in `url`, dropped from canonical)
    mobile: bool = False
    posts: list = field(default_factory=list)
    page_name: str | None = None  # post title, "March 2017", the label, ...
    newer_url: str | None = None
    older_url: str | None = None
    archive: list = field(default_factory=list)  # [(year, count, [(month, count, [posts])])]
    expanded: tuple | None = None  # (year, month) the archive widget shows open
    labels: list = field(default_factory=list)  # [(label, count)]
    status_message: str | None = None  # "Showing posts with the label ..."
    tz: tzinfo | None = None

    # --- URLs ---

    def link(self, path: str) -> str:
        """Absolute URL on the request host; `?m=1` carried along on mobile renderings."""
        if not self.mobile:
            return self.base + path
        return self.base + path + ("&m=1" if "?" in path else "?m=1")

    def post_url(self, post) -> str:
        return self.link(post.path)

    def canonical_post_url(self, post) -> str:
        return self.canonical_base + post.path

    @property
    def url(self) -> str:
        return self.base + self.path + (f"?{self.query}" if self.query else "")

    @property
    def canonical_url(self) -> str:
        return self.canonical_base + self.path

    @property
    def home_url(self) -> str:
        return self.link("/")

    @property
    def feed_url(self) -> str:
        return self.base + "/feeds/posts/default"

    # --- text ---

    @property
    def s(self) -> dict:
        return i18n.strings(self.blog.locale)

    @property
    def lang(self) -> str:
        return self.blog.locale.split("-")[0]

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz) if self.tz is not None else dt

    def iso(self, dt: datetime) -> str:
        return self.local(dt).isoformat(timespec="seconds")

    def date_header(self, post) -> str:
        return i18n.date_header(self.local(post.published), self.blog.locale)

    def short_date(self, post) -> str:
        return i18n.short_date(self.local(post.published), self.blog.locale)

    def clock(self, post) -> str:
        return i18n.clock(self.local(post.published), self.blog.locale)

    @property
    def item(self):
        return self.posts[0] if self.page_type == "item" and self.posts else None

    @property
    def html_title(self) -> str:
        if self.page_name:
            return f"{self.blog.title}: {self.page_name}"
        return self.blog.title

    @property
    def description(self) -> str:
        item = self.item
        return snippet(item.body_html) if item is not None else (self.blog.description or "")


# ---------------------------------------------------------------------------------------------
# Pieces shared by the Blogger families.


def feed_links(page: Page) -> str:
    """The autodiscovery `<link>`s Blogger's `all-head-content` emits (none when feeds are off)."""
    if not page.blog.feed_enabled:
        return ""
    t = esc(page.blog.title)
    out = [
        f'<link rel="alternate" type="application/atom+xml" title="{t} - Atom" '
        f'href="{page.base}/feeds/posts/default" />',
        f'<link rel="alternate" type="application/rss+xml" title="{t} - RSS" '
        f'href="{page.base}/feeds/posts/default?alt=rss" />',
        f'<link rel="service.post" type="application/atom+xml" title="{t} - Atom" '
        f'href="https://www.blogger.com/feeds/{page.blog.blog_id}/posts/default" />',
    ]
    if page.item is not None:
        out.append(
            f'\n<link rel="alternate" type="application/atom+xml" title="{t} - Atom" '
            f'href="{page.base}/feeds/{page.item.post_id}/comments/default" />'
        )
    return "\n".join(out)


def head_meta(page: Page, quote_char: str = "'") -> str:
    """generator, favicon, canonical, feed links and Open Graph tags, Blogger style."""
    q = quote_char
    item = page.item
    og_title = item.title if item is not None else page.blog.title
    return "\n".join(
        [
            f"<meta content={q}blogger{q} name={q}generator{q}/>",
            f"<link href={q}{page.canonical_base}/favicon.ico{q} rel={q}icon{q} type={q}image/x-icon{q}/>",
            f"<link href={q}{esc(page.canonical_url)}{q} rel={q}canonical{q}/>",
            feed_links(page),
            f"<meta content={q}{esc(page.canonical_url)}{q} property={q}og:url{q}/>",
            f"<meta content={q}{esc(og_title)}{q} property={q}og:title{q}/>",
            f"<meta content={q}{esc(page.description)}{q} property={q}og:description{q}/>",
        ]
    )


def authorization_css(page: Page) -> str:
    href = f"https://www.blogger.com/dyn-css/authorization.css?targetBlogID={page.blog.blog_id}"
    return (
        f"<link href='{href}' media='none' onload='if(media!=&#39;all&#39;)media=&#39;all&#39;' "
        f"rel='stylesheet'/><noscript><link href='{href}' rel='stylesheet'/></noscript>"
    )


def navbar(page: Page) -> str:
    b = page.blog
    target = f"&targetPostID={page.item.post_id}" if page.item is not None else ""
    src = (
        f"https://www.blogger.com/navbar.g?targetBlogID={b.blog_id}&blogName={quote(b.title)}"
        f"&publishMode=PUBLISH_MODE_BLOGSPOT&navbarType=LIGHT&layoutType=LAYOUTS"
        f"&searchRoot={page.base}/search&blogLocale={b.locale}&v=2"
        f"&homepageUrl={page.base}/{target}"
    )
    return f"""<div class='navbar section' id='navbar' name='Navbar'><div class='widget Navbar' data-version='1' id='Navbar1'><script type="text/javascript">
    function setAttributeOnload(object, attribute, val) {{
      if(window.addEventListener) {{
        window.addEventListener('load', function(){{ object[attribute] = val; }}, false);
      }} else {{
        window.attachEvent('onload', function(){{ object[attribute] = val; }});
      }}
    }}
  </script>
<div id="navbar-iframe-container"></div>
<script type="text/javascript" src="https://apis.google.com/js/platform.js"></script>
<script type="text/javascript">
      gapi.load("gapi.iframes:gapi.iframes.style.bubble", function() {{
        if (gapi.iframes && gapi.iframes.getContext) {{
          gapi.iframes.getContext().openChild({{
              url: '{js(src)}',
              where: document.getElementById("navbar-iframe-container"),
              id: "navbar-iframe"
          }});
        }}
      }});
    </script></div></div>"""


def share_links(page: Page, post) -> str:
    """The classic footer's share buttons (links to blogger.com's share endpoint)."""
    s = page.s
    base = f"https://www.blogger.com/share-post.g?blogID={page.blog.blog_id}&postID={post.post_id}"
    out = []
    for target, label in (
        ("email", s["share_email"]),
        ("blog", "BlogThis!"),
        ("twitter", s["share_twitter"]),
        ("facebook", s["share_facebook"]),
        ("pinterest", s["share_pinterest"]),
    ):
        out.append(
            f"<a class='goog-inline-block share-button sb-{target}' href='{esc(base)}&target={target}' "
            f"target='_blank' title='{esc(label)}'><span class='share-button-link-text'>{esc(label)}</span></a>"
        )
    return "<div class='post-share-buttons goog-inline-block'>\n" + "".join(out) + "\n</div>"


def profile_url(page: Page) -> str:
    return f"https://www.blogger.com/profile/{page.blog.profile_id}"


#: Canned reader comments per language; a post gets 0-2 of them, chosen from its id.
COMMENTS = {
    "en": [
        ("Hiro K.", "Thanks for putting this together, it is hard to find a calm summary."),
        ("Anonymous", "Interesting. I would like to read more about the fishing side of this."),
        ("Dana", "Bookmarked. The timeline at the end is useful."),
    ],
    "es": [
        ("Lucía", "Muy buen resumen, gracias por compartirlo."),
        ("Anónimo", "¿Hay alguna fuente en español sobre este tema?"),
        ("Jorge M.", "Lo guardo para leerlo con calma este fin de semana."),
    ],
    "fr": [("Claire", "Merci pour ce résumé très clair."), ("Anonyme", "Intéressant, j'attends la suite.")],
    "de": [("Birgit", "Danke für die Zusammenfassung!"), ("Anonym", "Spannend, bitte mehr davon.")],
    "ru": [
        ("Ирина", "Спасибо, очень понятно изложено."),
        ("Анонимный", "Интересно, что будет дальше с переговорами."),
        ("Павел", "Сохранил себе, хорошая подборка фактов."),
    ],
    "ja": [("たかし", "わかりやすいまとめをありがとうございます。"), ("匿名", "続報を楽しみにしています。")],
}


def comments_for(page: Page, post) -> list[tuple[str, str, str]]:
    """(comment id, author, text) of the post's canned comments."""
    pool = COMMENTS.get(page.lang, COMMENTS["en"])
    n = stable_number(post.post_id) % 3
    out = []
    for i in range(min(n, len(pool))):
        author, text = pool[(stable_number(post.post_id) + i) % len(pool)]
        cid = str(10**18 + stable_number(post.post_id + str(i)) * 1000003 % (9 * 10**18))
        out.append((cid, author, text))
    return out


def threaded_comments(page: Page, post) -> str:
    """The comments section of Layouts and 2017+ templates (threaded markup, comment form)."""
    s = page.s
    comments = comments_for(page, post)
    items = []
    for cid, author, text in comments:
        permalink = esc(page.post_url(post) + ("&" if page.mobile else "?") + f"showComment={cid}#c{cid}")
        items.append(
            f'<li class="comment" id="c{cid}"><div class="avatar-image-container">'
            f'<img src="//www.blogger.com/img/blogger_logo_round_35.png" alt=""/></div>'
            f'<div class="comment-block"><div class="comment-header"><cite class="user">{esc(author)}</cite>'
            f'<span class="icon user"></span><span class="datetime secondary-text">'
            f'<a rel="nofollow" href="{permalink}">{esc(page.short_date(post))}</a></span></div>'
            f'<p class="comment-content">{esc(text)}</p><span class="comment-actions secondary-text">'
            f'<a class="comment-reply" target="_self" data-comment-id="{cid}">{esc(s["reply"])}</a></span>'
            f"</div></li>"
        )
    frame = (
        f"https://www.blogger.com/comment/frame/{page.blog.blog_id}?po={post.post_id}"
        f"&hl={page.blog.locale}&origin={page.base}"
    )
    return f"""<div class='comments' id='comments'>
<a name='comments'></a>
<h4>{esc(i18n.comment_count(len(comments), page.blog.locale))}</h4>
<div class='comments-content'>
<div id='comment-holder'>
<div class="comment-thread toplevel-thread"><ol id="top-ra">{"".join(items)}</ol></div>
</div>
</div>
<p class='comment-footer'>
<div class='comment-form'>
<a name='comment-form'></a>
<h4 id='comment-post-message'>{esc(s["post_comment"])}</h4>
<p></p>
<a href='{esc(frame)}' id='comment-editor-src'></a>
<iframe allowtransparency='true' class='blogger-iframe-colorize blogger-comment-from-post' frameborder='0' height='410px' id='comment-editor' name='comment-editor' src='' width='100%'></iframe>
<script src='https://www.blogger.com/static/v1/jsbin/2830521187-comment_from_post_iframe.js' type='text/javascript'></script>
<script type='text/javascript'>
      BLOG_CMT_createIframe('https://www.blogger.com/rpc_relay.html');
    </script>
</div>
</p>
</div>"""


def archive_widget(page: Page, hierarchy: bool = True) -> str:
    """The Blog Archive widget: years and months with counts, the open month's post titles.

    `hierarchy=False` gives the drop-down flavour (month URLs only in `<option value>`).
    """
    s = page.s
    loc = page.blog.locale
    if not hierarchy:
        options = [f'<option value="">{esc(s["blog_archive"])}</option>']
        for year, _count, months in page.archive:
            for month, mcount, _posts in months:
                name = f"{i18n.month_name(month, loc)} {year}"
                options.append(
                    f'<option value="{page.link(f"/{year:04d}/{month:02d}/")}">{esc(name)} ({mcount})</option>'
                )
        return (
            '<div class="widget BlogArchive" data-version="2" id="BlogArchive1">\n'
            f'<div class="widget-title"><h3 class="title">{esc(s["blog_archive"])}</h3></div>\n'
            '<div class="widget-content">\n<select id="BlogArchive1_ArchiveMenu">\n'
            + "\n".join(options)
            + "\n</select>\n</div>\n</div>"
        )
    out = [
        "<div class='widget BlogArchive' data-version='1' id='BlogArchive1'>",
        f"<h2>{esc(s['blog_archive'])}</h2>",
        "<div class='widget-content'>\n<div id='ArchiveList'>\n<div id='BlogArchive1_ArchiveList'>",
    ]
    open_year, open_month = page.expanded or (None, None)
    for year, count, months in page.archive:
        state = "expanded" if year == open_year else "collapsed"
        out.append(
            f"<ul class='hierarchy'>\n<li class='archivedate {state}'>\n"
            f"<a class='toggle' href='javascript:void(0)'><span class='zippy'>&#9658;&#160;</span></a>\n"
            f"<a class='post-count-link' href='{page.link(f'/{year:04d}/')}'>{year}</a>\n"
            f"<span class='post-count' dir='ltr'>({count})</span>"
        )
        for month, mcount, posts in months:
            mstate = "expanded" if (year, month) == (open_year, open_month) else "collapsed"
            out.append(
                f"<ul class='hierarchy'>\n<li class='archivedate {mstate}'>\n"
                f"<a class='toggle' href='javascript:void(0)'><span class='zippy'>&#9658;&#160;</span></a>\n"
                f"<a class='post-count-link' href='{page.link(f'/{year:04d}/{month:02d}/')}'>"
                f"{esc(i18n.month_name(month, loc))}</a>\n"
                f"<span class='post-count' dir='ltr'>({mcount})</span>"
            )
            if mstate == "expanded" and posts:
                out.append("<ul class='posts'>")
                out.extend(f"<li><a href='{page.post_url(p)}'>{esc(p.title)}</a></li>" for p in posts)
                out.append("</ul>")
            out.append("</li>\n</ul>")
        out.append("</li>\n</ul>")
    out.append("</div>\n</div>\n<div class='clear'></div>\n</div>\n</div>")
    return "\n".join(out)


def labels_widget(page: Page) -> str:
    s = page.s
    items = "\n".join(
        f"<li>\n<a dir='ltr' href='{page.link(label_path(label))}'>{esc(label)}</a>\n"
        f"<span dir='ltr'>({count})</span>\n</li>"
        for label, count in page.labels
    )
    return (
        "<div class='widget Label' data-version='1' id='Label1'>\n"
        f"<h2>{esc(s['labels_title'])}</h2>\n"
        f"<div class='widget-content list-label-widget-content'>\n<ul>\n{items}\n</ul>\n"
        "<div class='clear'></div>\n</div>\n</div>"
    )


def search_widget(page: Page) -> str:
    s = page.s
    return f"""<div class='widget BlogSearch' data-version='1' id='BlogSearch1'>
<h2 class='title'>{esc(s["search_title"])}</h2>
<div class='widget-content'>
<div id='BlogSearch1_form'>
<form action='{page.base}/search' class='gsc-search-box' target='_top'>
<input autocomplete='off' class='gsc-input' name='q' size='10' title='search' type='text' value=''/>
<input class='gsc-search-button' title='search' type='submit' value='{esc(s["search_button"])}'/>
</form>
</div>
</div>
<div class='clear'></div>
</div>"""


def profile_widget(page: Page) -> str:
    s = page.s
    b = page.blog
    return f"""<div class='widget Profile' data-version='1' id='Profile1'>
<h2>{esc(s["about_me"])}</h2>
<div class='widget-content'>
<dl class='profile-datablock'>
<dt class='profile-data'>
<a class='profile-name-link g-profile' href='{profile_url(page)}' rel='author'>
{esc(b.author)}
</a>
</dt>
<dd class='profile-textblock'>{esc(b.about)}</dd>
</dl>
<a class='profile-link' href='{profile_url(page)}' rel='author'>{esc(s["view_profile"])}</a>
<div class='clear'></div>
</div>
</div>"""


def cookie_notice(page: Page) -> str:
    return f"""<script defer='' src='/js/cookienotice.js'></script>
<script>
    document.addEventListener('DOMContentLoaded', function(event) {{
      window.cookieChoices && cookieChoices.showCookieConsentBar && cookieChoices.showCookieConsentBar(
          (window.cookieOptions && cookieOptions.msg) || '{js(page.s["cookie"])}',
          (window.cookieOptions && cookieOptions.close) || 'Ok',
          (window.cookieOptions && cookieOptions.learn) || 'Learn more',
          (window.cookieOptions && cookieOptions.link) || 'https://www.blogger.com/go/blogspot-cookies');
    }});
  </script>"""


def data_context(page: Page, template_name: str, widgets: list[tuple[str, str, str]]) -> str:
    """`_WidgetManager._Init` / `_SetDataContext` / `_RegisterWidget`: the data every Blogger page
    carries (blogId, postId, pageType, url, canonicalUrl, locale, isMobile, feedLinks, ...)."""
    b = page.blog
    item = page.item
    home = page.link("/")
    feed_links_text = (feed_links(page) + "\n") if b.feed_enabled else "\n"
    fields = [
        ("blogId", f"'{b.blog_id}'"),
        ("title", f"'{js(b.title)}'"),
        ("url", f"'{js(page.url)}'"),
        ("canonicalUrl", f"'{js(page.canonical_url)}'"),
        ("homepageUrl", f"'{js(home)}'"),
        ("searchUrl", f"'{js(page.base + '/search')}'"),
        ("canonicalHomepageUrl", f"'{js(page.canonical_base + '/')}'"),
        ("blogspotFaviconUrl", f"'{js(page.canonical_base + '/favicon.ico')}'"),
        ("bloggerUrl", "'https://www.blogger.com'"),
        ("hasCustomDomain", "false"),
        ("httpsEnabled", "true"),
        ("enabledCommentProfileImages", "true"),
        ("adultContent", "false"),
        ("encoding", "'UTF-8'"),
        ("locale", f"'{js(b.locale)}'"),
        ("localeUnderscoreDelimited", f"'{js(b.locale.replace('-', '_'))}'"),
        ("languageDirection", "'ltr'"),
        ("isPrivate", "false"),
        ("isMobile", "true" if page.mobile else "false"),
        ("isMobileRequest", "true" if page.mobile else "false"),
        ("mobileClass", "' mobile'" if page.mobile else "''"),
        ("isPrivateBlog", "false"),
        ("isDynamicViewsAvailable", "true"),
        ("feedLinks", f"'{js(feed_links_text)}'"),
        ("meTag", "''"),
        ("hasCustomJumpLinkMessage", "false"),
        ("jumpLinkMessage", f"'{js(page.s['read_more'])}'"),
        ("pageType", f"'{page.page_type if page.page_type != 'error' else 'error_page'}'"),
    ]
    if item is not None:
        fields.append(("postId", f"'{item.post_id}'"))
    if page.page_name:
        fields.append(("pageName", f"'{js(page.page_name)}'"))
    fields.append(("pageTitle", f"'{js(page.html_title)}'"))
    blog_data = ", ".join(f"'{k}': {v}" for k, v in fields)
    view = (
        f"{{'isMobile': {'true' if page.mobile else 'false'}, 'title': '{js(page.page_name or b.title)}', "
        f"'url': '{js(page.url)}', 'type': '{page.page_type}', "
        f"'isSingleItem': {'true' if item is not None else 'false'}, "
        f"'isMultipleItems': {'false' if item is not None else 'true'}, "
        f"'isError': {'true' if page.page_type == 'error' else 'false'}, 'isPage': false, "
        f"'isPost': {'true' if item is not None else 'false'}, "
        f"'isHomepage': {'true' if page.path == '/' else 'false'}, "
        f"'isArchive': {'true' if page.page_type == 'archive' else 'false'}, "
        f"'isLabelSearch': {'true' if page.path.startswith('/search/label/') else 'false'}"
        + (f", 'postId': {item.post_id}" if item is not None else "")
        + "}"
    )
    s = page.s
    register = "\n".join(
        f"_WidgetManager._RegisterWidget('_{kind}View', new _WidgetInfo('{wid}', '{section}', "
        f"document.getElementById('{wid}'), {{}}, 'displayModeFull'));"
        for kind, wid, section in widgets
    )
    return f"""<script type="text/javascript" src="https://www.blogger.com/static/v1/widgets/3845888474-widgets.js"></script>
<script type='text/javascript'>
window['__wavt'] = 'AOuZoY{stable_number(page.url) % 10**9}:{stable_number(b.blog_id)}';_WidgetManager._Init('//www.blogger.com/rearrange?blogID\\x3d{b.blog_id}','{js(page.url.split(":", 1)[1])}','{b.blog_id}');
_WidgetManager._SetDataContext([{{'name': 'blog', 'data': {{{blog_data}}}}}, {{'name': 'features', 'data': {{}}}}, {{'name': 'messages', 'data': {{'edit': '{js(s["edit"])}', 'linkCopiedToClipboard': 'Link copied to clipboard!', 'ok': 'Ok', 'postLink': 'Post Link'}}}}, {{'name': 'template', 'data': {{'name': '{js(template_name)}', 'localizedName': '{js(template_name)}', 'isResponsive': false, 'isAlternateRendering': {"true" if page.mobile else "false"}, 'isCustom': false}}}}, {{'name': 'view', 'data': {view}}}]);
{register}
</script>"""
