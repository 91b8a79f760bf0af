"""The `rjwatch` command line, run in-process against real database files and a local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import FIXTURES, SEED_FILE, run_cli
from rjwatch.commands.query import POSTS_COLUMNS, POSTS_MORE_COLUMNS


def test_init_is_idempotent(db_path):
    again = run_cli("--db", str(db_path), "init")
    assert again.exit_code == 0
    assert "already loaded" in again.output and "schema up to date" in again.output
    listed = run_cli("--db", str(db_path), "seed", "list", "--format", "json")
    seeds = json.loads(listed.output)
    assert len(seeds) == 1 and seeds[0]["published"] == "2017-03-20"


def test_db_defaults_to_env_then_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RJWATCH_CONFIG", raising=False)
    monkeypatch.delenv("RJWATCH_DB", raising=False)
    assert run_cli("init").exit_code == 0
    assert (tmp_path / "data" / "rjwatch.db").exists()
    monkeypatch.setenv("RJWATCH_DB", str(tmp_path / "env.db"))
    assert run_cli("init").exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_classify_seed_is_a_copy_with_full_json(db_path):
    result = run_cli("--db", str(db_path), "classify", str(SEED_FILE), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in (
        "title",
        "author",
        "published",
        "lang",
        "text",
        "canonical_url",
        "blogger",
        "status",
        "relevance",
        "matched_terms",
        "seed_similarity",
        "duplicate_of",
    ):
        assert key in data, key
    assert data["status"] == "copy"
    assert data["published"] == "2017-03-20" and data["lang"] == "en"
    assert data["seed_similarity"]["1"]["containment"] == 1.0
    # a dry run stores nothing
    posts = json.loads(run_cli("--db", str(db_path), "posts", "--format", "json").output)
    assert posts == []


def test_classify_reads_standard_input(db_path):
    text = FIXTURES / "classify" / "off_topic__volleyball_russia_beat_japan.txt"
    if not text.exists():
        pytest.skip("fixture missing")
    result = run_cli("--db", str(db_path), "classify", "-", "--format", "json", input=text.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "off_topic"


def test_classify_text_output_explains_the_verdict(db_path):
    result = run_cli("--db", str(db_path), "classify", str(SEED_FILE))
    assert result.exit_code == 0
    assert "COPY" in result.output and "territorial dispute" in result.output and "seed #1" in result.output


def test_ingest_posts_show_roundtrip(db_path, tmp_path):
    page = tmp_path / "post.txt"
    page.write_text(SEED_FILE.read_text("utf-8"), "utf-8")
    url = "https://reposter.blogspot.com/2017/03/what-russia-wants.html"
    result = run_cli("--db", str(db_path), "ingest", str(page), "--url", url)
    assert result.exit_code == 0, result.output
    assert "1 stored (copy 1)" in result.output
    again = run_cli("--db", str(db_path), "ingest", str(page), "--url", url + "?m=1")
    assert "1 seen before" in again.output
    posts = json.loads(run_cli("--db", str(db_path), "posts", "--format", "json").output)
    assert len(posts) == 1 and list(posts[0]) == list(POSTS_COLUMNS)
    # every column of a post can be asked for by name
    more = ",".join(POSTS_COLUMNS + POSTS_MORE_COLUMNS)
    posts = json.loads(run_cli("--db", str(db_path), "posts", "--format", "json", "--columns", more).output)
    p = posts[0]
    for key in (
        "id",
        "url",
        "canonical_url",
        "title",
        "author",
        "published",
        "lang",
        "source",
        "status",
        "relevance",
        "matched_terms",
        "seed_similarity",
        "duplicate_of",
        "first_seen",
        "sightings",
    ):
        assert key in p, key
    assert p["status"] == "copy" and p["sightings"] == 2 and p["canonical_url"] == url
    shown = run_cli("--db", str(db_path), "show", str(p["id"]))
    assert shown.exit_code == 0
    assert "COPY" in shown.output and "containment 1.00" in shown.output and "sightings (2)" in shown.output
    for fmt in ("jsonl", "csv", "tsv"):
        out = run_cli("--db", str(db_path), "posts", "--status", "copy", "--format", fmt)
        assert out.exit_code == 0 and "reposter.blogspot.com" in out.output, fmt
    table = run_cli("--db", str(db_path), "posts", "--format", "table", env={"COLUMNS": "160"})
    assert table.exit_code == 0 and "What Russia" in table.output and "copy" in table.output
    header = "\t".join(POSTS_COLUMNS) + "\n"
    assert run_cli("--db", str(db_path), "posts", "--status", "new", "--format", "tsv").output == header
    assert run_cli("--db", str(db_path), "posts", "--status", "new", "--format", "tsv", "--no-headers").output == ""


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty input"),
        (b"\x00\x01\x02\xff\xfe" * 200, "binary"),
        (b"caf\xe9 sin UTF-8 " * 20, "not valid UTF-8"),
    ],
)
def test_bad_input_files_fail_with_one_line(db_path, tmp_path, content, message):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content)
    for cmd in (["classify", str(bad)], ["ingest", str(bad), "--url", "https://x.example.org/a"]):
        result = run_cli("--db", str(db_path), *cmd)
        assert result.exit_code != 0
        assert message in result.stderr and "Traceback" not in result.output + result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_oversized_input_is_refused(db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("RJWATCH_MAX_BYTES", "1000")
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    result = run_cli("--db", str(db_path), "classify", str(big))
    assert result.exit_code == 1 and "cap" in result.stderr


def test_missing_file_and_bad_options(db_path):
    missing = run_cli("--db", str(db_path), "classify", "nope.html")
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    unknown = run_cli("--db", str(db_path), "posts", "--colour")
    assert unknown.exit_code == 2 and "No such option" in unknown.output
    bad_status = run_cli("--db", str(db_path), "posts", "--status", "maybe")
    assert bad_status.exit_code == 2
    no_post = run_cli("--db", str(db_path), "show", "999")
    assert no_post.exit_code == 1 and "no post #999" in no_post.stderr
    bad_url = run_cli("--db", str(db_path), "ingest", str(SEED_FILE), "--url", "ftp://x")
    assert bad_url.exit_code == 1 and "--url" in bad_url.stderr


def test_ingest_text_without_url_is_refused_but_others_are_kept(db_path, tmp_path):
    result = run_cli("--db", str(db_path), "ingest", str(SEED_FILE), str(tmp_path / "missing.html"))
    assert result.exit_code == 1
    assert "pass --url" in result.stderr and "no such file" in result.stderr


def test_control_characters_never_reach_the_terminal(db_path, tmp_path):
    evil = tmp_path / "evil.txt"
    body = SEED_FILE.read_text("utf-8")
    evil.write_text("Title \x1b[2J\x1b]0;pwned\x07 with escapes\n\n" + body.split("\n", 4)[-1], "utf-8")
    run_cli("--db", str(db_path), "ingest", str(evil), "--url", "https://evil.example.org/x")
    for args in (["posts", "--format", "tsv"], ["posts", "--format", "json"], ["show", "1"]):
        out = run_cli("--db", str(db_path), *args).output
        assert "\x1b" not in out and "\x07" not in out


class _Pages(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self):
        status, ctype, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if status in (301, 302):
            self.send_header("Location", body.decode())
            body = b""
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Pages.routes
    httpd.shutdown()
    _Pages.routes.clear()


def test_classify_and_seed_add_from_a_url(db_path, server):
    base, routes = server
    routes["/seed2.txt"] = (
        200,
        "text/plain; charset=utf-8",
        (
            "Another reference\n\n" + "Japan and Russia agreed on a fisheries deal near the Kuril "
            "Islands after long talks in Tokyo. " * 20
        ).encode(),
    )
    routes["/loop"] = (302, "", b"/loop")
    routes["/gone"] = (404, "text/plain", b"")
    added = run_cli("--db", str(db_path), "seed", "add", f"{base}/seed2.txt")
    assert added.exit_code == 0 and "seed #2" in added.output
    seeds = json.loads(run_cli("--db", str(db_path), "seed", "list", "--format", "json").output)
    assert [s["id"] for s in seeds] == [1, 2]
    result = run_cli("--db", str(db_path), "classify", f"{base}/seed2.txt", "--format", "json")
    data = json.loads(result.output)
    assert set(data["seed_similarity"]) == {"1", "2"} and data["status"] == "copy"
    loop = run_cli("--db", str(db_path), "classify", f"{base}/loop")
    assert loop.exit_code == 1 and "redirects" in loop.stderr
    gone = run_cli("--db", str(db_path), "classify", f"{base}/gone")
    assert gone.exit_code == 1 and "HTTP 404" in gone.stderr


def test_settings_doc_matches_the_table():
    from rjwatch.settings import markdown_table

    doc = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    assert doc.read_text("utf-8") == markdown_table(), "regenerate with: rjwatch settings --markdown > docs/settings.md"


def test_bad_config_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rjwatch.toml").write_text("fetch_timeout = 'soon'\n")
    result = run_cli("--db", str(tmp_path / "x.db"), "init")
    assert result.exit_code == 1 and "fetch_timeout must be float" in result.stderr
    (tmp_path / "rjwatch.toml").write_text("this is = = not toml")
    result = run_cli("--db", str(tmp_path / "x.db"), "init")
    assert result.exit_code == 1 and "not valid TOML" in result.stderr


def test_config_sources_are_registered_by_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rjwatch.toml").write_text(
        '[[sources]]\nurl = "https://someblog.blogspot.com/"\nkind = "blogger"\n\n'
        '[[sources]]\nurl = "https://news.example.org/rss.xml"\nevery = "30m"\nname = "News"\n'
    )
    db = str(tmp_path / "c.db")
    first = run_cli("--db", db, "init")
    assert first.exit_code == 0 and "sources from the config: 2 (2 new)" in first.output
    again = run_cli("--db", db, "init")
    assert "sources from the config: 2 (0 new)" in again.output
    rows = json.loads(run_cli("--db", db, "source", "list", "--format", "json").output)
    assert [(r["kind"], r["name"]) for r in rows] == [("blogger", None), ("feed", "News")]
    assert rows[1]["settings"]["every"] == 1800
    (tmp_path / "rjwatch.toml").write_text('[[sources]]\nkind = "feed"\n')
    bad = run_cli("--db", db, "init")
    assert bad.exit_code == 1 and "needs a url" in bad.stderr


def test_the_example_config_is_valid(tmp_path):
    from rjwatch.settings import load
    from scheduler.alerts import channels_from_config

    cfg = load(Path(__file__).resolve().parents[1] / "rjwatch.toml.example")
    assert [c.name for c in channels_from_config(cfg)] == ["console", "archive"]
    assert len(cfg.section("sources")) == 2
