"""rjwatch's request settings reach Scrapy crawls: `fetch_timeout`, `max_bytes` and `max_redirects`
become DOWNLOAD_TIMEOUT, DOWNLOAD_MAXSIZE (and DOWNLOAD_WARNSIZE) and REDIRECT_MAX_TIMES, from the config
file or the environment, while `crawl_settings` and `--set` still win.

The crawl is the real `rjwatch crawl` in a subprocess against a demo blog on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rjwatch import settings as settings_mod
from rjwatch.crawling import scrapy_settings
from rjwatch.demo.site import build_blog
from storage.db import connect

REPO = Path(__file__).resolve().parent.parent
#: Politeness delays lifted so that the test stays quick; the per-site concurrency limit is kept.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "-s", "LOG_LEVEL=INFO"]
#: A cap that robots.txt fits under and no feed or post page of a demo blog does.
TINY_MAX_BYTES = 4000


def _crawl(db_path: Path, url: str, *, config: Path | None = None, timeout: float = 120):
    cmd = [sys.executable, "-m", "rjwatch", "--db", str(db_path)]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += ["crawl", "--add", "--full", "--source", url, *FAST]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def _post_count(db_path: Path) -> int:
    db = connect(db_path)
    try:
        return db.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        db.conn.close()


@pytest.mark.slow
def test_max_bytes_of_the_config_file_caps_a_crawl(db_path, served, tmp_path):
    blog = build_blog("capped", 10, template="simple", seed=41)
    srv = served(blog)
    config = tmp_path / "capped.toml"
    config.write_text(f"max_bytes = {TINY_MAX_BYTES}\n", encoding="utf-8")

    capped = _crawl(db_path, srv.base_url, config=config)
    assert "Traceback" not in capped.stderr, capped.stderr[-3000:]
    # Scrapy itself refused the bigger responses, with the configured cap
    assert f"larger than download max size ({TINY_MAX_BYTES})" in capped.stderr, capped.stderr[-3000:]
    assert _post_count(db_path) == 0

    # the same crawl under the default cap stores every post: the setting made the difference
    full = _crawl(db_path, srv.base_url)
    assert full.returncode == 0, full.stderr[-2000:]
    assert _post_count(db_path) == 10


def test_fetch_settings_map_onto_scrapy_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("RJWATCH_CONFIG", "RJWATCH_FETCH_TIMEOUT", "RJWATCH_MAX_BYTES", "RJWATCH_MAX_REDIRECTS"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "rjwatch.toml"
    config.write_text("fetch_timeout = 7.5\nmax_bytes = 1000000\nmax_redirects = 2\n", encoding="utf-8")
    s = scrapy_settings(tmp_path / "x.db", settings_mod.load(config))
    assert (s.getfloat("DOWNLOAD_TIMEOUT"), s.getint("DOWNLOAD_MAXSIZE"), s.getint("REDIRECT_MAX_TIMES")) == (
        7.5,
        1_000_000,
        2,
    )
    assert s.getint("DOWNLOAD_WARNSIZE") <= 1_000_000  # never a warning about a size that is refused anyway

    # the environment beats the file, as for every setting
    monkeypatch.setenv("RJWATCH_MAX_REDIRECTS", "0")
    assert scrapy_settings(tmp_path / "x.db", settings_mod.load(config)).getint("REDIRECT_MAX_TIMES") == 0
    monkeypatch.delenv("RJWATCH_MAX_REDIRECTS")

    # an explicit Scrapy setting (crawl_settings, `--set`) still wins over the mapped one
    config.write_text('fetch_timeout = 7.5\ncrawl_settings = ["DOWNLOAD_TIMEOUT=3"]\n', encoding="utf-8")
    s = scrapy_settings(tmp_path / "x.db", settings_mod.load(config), {"_pairs": ["REDIRECT_MAX_TIMES=9"]})
    assert (s.getfloat("DOWNLOAD_TIMEOUT"), s.getint("REDIRECT_MAX_TIMES")) == (3.0, 9)

    # the defaults are the documented ones
    config.unlink()
    s = scrapy_settings(tmp_path / "x.db", settings_mod.load())
    defaults = {x.name: x.default for x in settings_mod.SETTINGS}
    assert (s.getfloat("DOWNLOAD_TIMEOUT"), s.getint("DOWNLOAD_MAXSIZE"), s.getint("REDIRECT_MAX_TIMES")) == (
        defaults["fetch_timeout"],
        defaults["max_bytes"],
        defaults["max_redirects"],
    )
