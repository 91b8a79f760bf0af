"""Dynamic Views: the script shell Blogger serves for blogs using its Dynamic Views template.

This module owns that markup. The HTML carries the head (title, canonical, feed links,
`blogger-template` meta), empty section containers, the JS bootstrap and the
`_WidgetManager._SetDataContext` data, but no post body, date, author or comments: a browser
loads all of that from the blog's feed by script, and so must a crawler.
"""

from __future__ import annotations

from rjwatch.demo.templates import Page, authorization_css, cookie_notice, data_context, esc, head_meta

#: The versioned script folder Dynamic Views loads its code from.
SCRIPT_BASE = "//www.blogblog.com/dynamicviews/fea075cbd659c517"

_WIDGETS = [
    ("Blog", "Blog1", "main"),
    ("Header", "Header1", "sidebar-right-1"),
    ("BlogSearch", "BlogSearch1", "sidebar-right-1"),
    ("Profile", "Profile1", "sidebar-right-1"),
    ("BlogArchive", "BlogArchive1", "sidebar-right-1"),
    ("Label", "Label1", "sidebar-right-1"),
]


def render(page: Page) -> str:
    lang = page.lang
    scripts = "\n".join(
        f"<script src='{SCRIPT_BASE}/js/{name}' type='text/javascript'></script>"
        for name in ("thirdparty/jquery.js", "common.js", f"languages/lang__{lang}.js", "sidebar.js", "gadgets.js")
    )
    return f"""<!DOCTYPE html>
<html class='v2' dir='ltr' lang='{lang}' xmlns='http://www.w3.org/1999/xhtml' xmlns:b='http://www.google.com/2005/gml/b' xmlns:data='http://www.google.com/2005/gml/data' xmlns:expr='http://www.google.com/2005/gml/expr'>
<head>
<meta content='text/html; charset=UTF-8' http-equiv='Content-Type'/>
{head_meta(page)}
<title>{esc(page.html_title)}</title>
<meta content='!' name='fragment'/>
<meta content='dynamic' name='blogger-template'/>
<meta content='IE=9,chrome=1' http-equiv='X-UA-Compatible'/>
<meta content='initial-scale=1.0, maximum-scale=1.0, user-scalable=no, width=device-width' name='viewport'/>
<style id='page-skin-1' type='text/css'><!--
/*-----------------------------------------------
Blogger Template Style
Name: Dynamic Views
----------------------------------------------- */
body {{
  background: #ffffff;
}}
--></style>
{scripts}
{authorization_css(page)}
</head>
<body class='variant-sidebar'>
<div class='content'>
<div class='content-outer'>
<div class='fauxborder-left content-fauxborder-left'>
<div class='content-inner'>
<div class='main-outer'>
<div class='fauxborder-left main-fauxborder-left'>
<div class='region-inner main-inner'>
<div class='columns fauxcolumns'>
<div class='column-center-outer'>
<div class='column-center-inner'>
<div class='main section' id='main'>
</div>
</div>
</div>
<div class='column-right-outer'>
<div class='column-right-inner'>
<aside>
<div class='sidebar section' id='sidebar-right-1'>
</div>
</aside>
</div>
</div>
<div style='clear: both'></div>
</div>
</div>
</div>
</div>
</div>
</div>
</div>
</div>
<script language='javascript' type='text/javascript'>
      window.onload = function() {{
        blogger.ui().configure().view();
      }};
    </script>
<script src='https://apis.google.com/js/platform.js' type='text/javascript'></script>
{cookie_notice(page)}
{data_context(page, "Dynamic Views", _WIDGETS)}
</body>
</html>"""
