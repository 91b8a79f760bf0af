"""One page, one post: a Blogger post page gives the same stored post whether a crawl fetched it or
`rjwatch ingest` / `rjwatch classify` read it from a file (crawler.extract.post_from_page is the one
mapping both use).

A real `rjwatch crawl` subprocess walks a Blogger-style blog served on 127.0.0.1 (its feed turned off,
so the post pages are fetched); the same pages, saved to files, go through real `rjwatch ingest` and
`rjwatch classify` subprocesses into a second database. The stored rows are compared field by field.
One post is only a photograph with its caption (no text in the body): it is a post either way, judged
on its title and picture and flagged media only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reliability import StaticSite, assert_consistent, crawl, record, rjwatch_cmd, rows, run_measured

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

BLOG_ID = "7301459128476543210"

#: (path, post id, title, body HTML) of the blog's posts.
POSTS = [
    (
        "/2024/05/kuril-talks.html",
        "1111111111111111111",
        "Kuril talks resume in Moscow",
        "<p>Japanese and Russian diplomats met in Moscow on Tuesday to discuss the Kuril Islands, the "
        "peace treaty and fishing rights near Etorofu and Kunashir.</p><p>The foreign ministry in Tokyo "
        "said the talks on the Northern Territories would continue next month.</p>",
    ),
    (
        "/2024/05/snow-on-kunashir.html",
        "2222222222222222222",
        "Snow on Kunashir",
        '<div class="separator"><a href="https://images.example/kunashir.jpg"><img '
        'src="https://images.example/kunashir.jpg" alt="Snow on Kunashir island seen from Nemuro across '
        'the strait" title="Kunashir from Nemuro"></a></div>',
    ),
]

FIELDS = (
    "canonical_url",
    "title",
    "author",
    "published",
    "lang",
    "text",
    "summary_only",
    "media_only",
    "content_hash",
    "status",
    "labels",
    "blog_id",
    "post_id",
)


def post_page(base: str, path: str, post_id: str, title: str, body: str) -> bytes:
    url = base + path
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><meta content="blogger" name="generator">
<title>Harbour notes: {title}</title><link href="{url}" rel="canonical">
<script type="text/javascript">_WidgetManager._SetDataContext([{{'name': 'blog', 'data': {{'blogId': '{BLOG_ID}',
'title': 'Harbour notes', 'url': '{url}', 'canonicalUrl': '{url}', 'homepageUrl': '{base}/',
'pageType': 'item', 'postId': '{post_id}', 'locale': 'en'}}}}]);</script></head>
<body class="item-view"><div class="widget Blog" id="Blog1"><div class="date-outer">
<h2 class="date-header"><span>Tuesday, May 7, 2024</span></h2>
<div class="post-outer"><div class="post hentry">
<h3 class="post-title entry-title">{title}</h3>
<div class="post-header"><abbr class="published" title="2024-05-07T09:00:00+09:00">9:00 AM</abbr></div>
<div class="post-body entry-content" id="post-body-{post_id}">{body}</div>
<div class="post-footer"><span class="post-author vcard">Posted by <span class="fn">Aiko Tanaka</span></span>
<span class="post-labels"><a href="{base}/search/label/Kuril" rel="tag">Kuril</a></span></div>
</div></div></div></div></body></html>""".encode()


def home_page(base: str) -> bytes:
    links = "".join(f'<h3 class="post-title"><a href="{base}{path}">{title}</a></h3>' for path, _, title, _ in POSTS)
    return f"""<!DOCTYPE html><html lang="en"><head><meta content="blogger" name="generator">
<title>Harbour notes</title>
<script type="text/javascript">_WidgetManager._SetDataContext([{{'name': 'blog', 'data': {{'blogId': '{BLOG_ID}',
'title': 'Harbour notes', 'url': '{base}/', 'homepageUrl': '{base}/', 'pageType': 'index'}}}}]);</script>
</head><body><div class="widget Blog" id="Blog1">{links}</div></body></html>""".encode()


def stored(db_path: Path) -> dict[str, dict]:
    found = rows(db_path, f"SELECT {', '.join(FIELDS)}, evidence FROM posts")
    for row in found:
        row["flags"] = json.loads(row.pop("evidence"))["flags"]
    return {row["post_id"]: row for row in found}


def test_a_page_gives_the_same_post_by_crawl_and_by_ingest(db_path, served, tmp_path):
    site = StaticSite()
    srv = served(site)
    base = srv.base_url
    site.put("/", home_page(base))
    files = []
    for path, post_id, title, body in POSTS:
        site.put(path, post_page(base, path, post_id, title, body))
        files.append((tmp_path / Path(path).name, base + path))
        files[-1][0].write_bytes(site.pages[path][1])

    res = crawl(db_path, base + "/")
    assert res.code == 0, res.stderr[-3000:]
    crawled = stored(db_path)

    ingest_db = tmp_path / "ingest.db"
    assert run_measured(rjwatch_cmd(ingest_db, "init")).code == 0
    classified = {}
    for file, url in files:
        res = run_measured(rjwatch_cmd(ingest_db, "ingest", str(file), "--url", url))
        assert res.code == 0, res.stderr[-3000:]
        res = run_measured(rjwatch_cmd(ingest_db, "classify", str(file), "--url", url, "--format", "json"))
        assert res.code == 0, res.stderr[-3000:]
        classified[url] = json.loads(res.stdout)
    ingested = stored(ingest_db)

    # Both posts are stored both ways, once, and every field the page gave is the same.
    assert set(crawled) == set(ingested) == {post_id for _, post_id, _, _ in POSTS}
    for post_id in crawled:
        assert crawled[post_id] == ingested[post_id], post_id
    photo = crawled[POSTS[1][1]]
    assert photo["media_only"] == 1 and "media_only" in photo["flags"]
    assert "Nemuro" in photo["text"]  # judged on what its picture says of itself
    assert crawled[POSTS[0][1]]["media_only"] == 0 and crawled[POSTS[0][1]]["author"] == "Aiko Tanaka"
    # `rjwatch classify` (a dry run over the same mapping) gives each page the status it was stored with.
    for (_file, url), (_, post_id, _, _) in zip(files, POSTS):
        assert classified[url]["status"] == crawled[post_id]["status"], classified[url]
    assert_consistent(db_path)
    assert_consistent(ingest_db)
    doubled = sum(
        len(rows(db, "SELECT id FROM posts")) - len(found) for db, found in ((db_path, crawled), (ingest_db, ingested))
    )
    assert doubled == 0
    record(
        "26 a page gives the same post by crawl and by ingest",
        runs=1 + 2 * len(POSTS),
        posts=len(POSTS),
        faults=0,
        lost=2 * len(POSTS) - len(crawled) - len(ingested),
        doubled=doubled,
    )
