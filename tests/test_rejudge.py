"""`rjwatch rejudge`: stored posts judged again under the current seeds and profile, on real database
files, through the real CLI (in-process and as subprocesses), including a kill -9 in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import FIXTURES, item, news_feed, q, rows, run_cli, tuples, wait_job_passes, wait_until
from reliability import Daemon, assert_consistent, record, write_config
from rjwatch.demo.site import NewsItem
from storage.db import connect
from storage.ingest import Ingestor
from storage.rejudge import current_rules

#: How many posts the kill -9 scenario stores: several batches (storage.rejudge.BATCH_SIZE = 500), so
#: that the kill lands between commits.
KILL_POSTS = 4000


def _article(name: str) -> tuple[str, str]:
    title, _, body = (FIXTURES / "classify" / name).read_text("utf-8").partition("\n\n")
    return title.strip(), body.strip()


TITLE, BODY = _article("new__de_japan_sanktionen_sachalin.txt")


def _seed_file(tmp: Path, body: str = BODY, title: str = TITLE) -> Path:
    path = tmp / "seed.txt"
    path.write_text(f"{title}\n\n{body}\n", "utf-8")
    return path


def _alerts(db_path: Path) -> list[tuple]:
    return tuples(db_path, "SELECT key, status FROM alerts ORDER BY id")


def test_seed_identical_to_a_stored_post_makes_it_a_copy_after_rejudge(db_path: Path, tmp_path: Path):
    post = tmp_path / "post.txt"
    post.write_text(f"{TITLE}\n\n{BODY}\n", "utf-8")
    res = run_cli("--db", str(db_path), "ingest", str(post), "--url", "https://blog.example.org/2024/05/post.html")
    assert res.exit_code == 0, res.output
    assert q(db_path, "SELECT status FROM posts") == "new"
    alerts_before = _alerts(db_path)

    res = run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    assert res.exit_code == 0, res.output
    assert "rjwatch rejudge" in res.output  # says how to re-judge
    assert q(db_path, "SELECT status FROM posts") == "new"  # nothing changes on its own

    res = run_cli("--db", str(db_path), "rejudge", "--dry-run")
    assert res.exit_code == 0, res.output
    assert "1 would change" in res.output and "new        copy" in res.output
    assert q(db_path, "SELECT status FROM posts") == "new"  # the dry run wrote nothing

    res = run_cli("--db", str(db_path), "rejudge")
    assert res.exit_code == 0, res.output
    assert q(db_path, "SELECT status FROM posts") == "copy"
    ev = json.loads(q(db_path, "SELECT evidence FROM posts"))
    assert ev["seed"] == 2 and "seed #2" in ev["reasons"][0]
    assert q(db_path, "SELECT judged_with FROM posts") == current_rules(connect(db_path))
    # no --alert: nothing to send (the alert is kept as suppressed, so the outbox accounts for it)
    assert _alerts(db_path) == [*alerts_before, ("post-1-copy", "suppressed")]

    # the same rules again: nothing left to do
    res = run_cli("--db", str(db_path), "rejudge")
    assert "re-judged 0 post(s)" in res.output

    # the seed goes: the post is new again, and being new was alerted at ingest already
    res = run_cli("--db", str(db_path), "seed", "remove", "2")
    assert res.exit_code == 0 and "rjwatch rejudge" in res.output
    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert res.exit_code == 0 and q(db_path, "SELECT status FROM posts") == "new"
    assert "0 alert(s) queued" in res.output
    assert len(_alerts(db_path)) == len(alerts_before) + 1


def test_alert_queues_one_alert_per_newly_qualifying_post(db_path: Path, tmp_path: Path):
    post = tmp_path / "post.txt"
    post.write_text(f"{TITLE}\n\n{BODY}\n", "utf-8")
    run_cli("--db", str(db_path), "ingest", str(post), "--url", "https://blog.example.org/2024/05/post.html")
    before = _alerts(db_path)
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert "1 alert(s) queued" in res.output
    assert _alerts(db_path) == [*before, ("post-1-copy", "pending")]
    res = run_cli("--db", str(db_path), "rejudge", "--alert", "--force")
    assert "0 alert(s) queued" in res.output
    assert _alerts(db_path) == [*before, ("post-1-copy", "pending")]


def _bhutan_topic(tmp: Path) -> Path:
    """A topic profile about Russia and Bhutan (the packaged one with another second side): an
    article on Russia and Japan is off the topic under it."""
    profile = (Path(__file__).resolve().parent.parent / "judge" / "profiles" / "russia_japan.toml").read_text("utf-8")
    head, rest = profile.split("[concepts.side_b]", 1)
    other = (
        head
        + '[concepts.side_b]\nlabel = "Bhutan"\nterms = ["bhutan*"]\n\n[concepts.dispute]'
        + rest.split("[concepts.dispute]", 1)[1]
    )
    topic = tmp / "other.toml"
    topic.write_text(other, "utf-8")
    return topic


def test_posts_that_stop_qualifying_send_nothing(db_path: Path, tmp_path: Path):
    db = connect(db_path)
    Ingestor(db).ingest(item("https://a.example.org/p", text=BODY, title=TITLE))
    before = _alerts(db_path)
    assert before  # alerted as new at ingest
    # a topic profile about Russia and Bhutan: the post is off the topic now
    config = tmp_path / "rjwatch.toml"
    config.write_text(f"topic = {json.dumps(str(_bhutan_topic(tmp_path)))}\n", "utf-8")
    res = run_cli("--db", str(db_path), "--config", str(config), "init")
    assert res.exit_code == 0, res.output
    assert "rjwatch rejudge" in run_cli("--db", str(db_path), "status").output
    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert res.exit_code == 0, res.output
    assert q(db_path, "SELECT status FROM posts") == "off_topic"
    assert _alerts(db_path) == before
    assert "rjwatch rejudge" not in run_cli("--db", str(db_path), "status").output


def test_filters_choose_the_posts(db_path: Path, tmp_path: Path):
    db = connect(db_path)
    ing = Ingestor(db)
    for i, pub in enumerate(("2019-01-05T00:00:00+00:00", "2020-06-01T00:00:00+00:00", "2021-03-01T00:00:00+00:00")):
        ing.ingest(item(f"https://b{i}.example.org/p", text=f"Bericht {i}. {BODY}", title=TITLE, published=pub))
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    res = run_cli("--db", str(db_path), "rejudge", "--since", "2020-01-01", "--until", "2021-01-01")
    assert res.exit_code == 0, res.output
    assert [s for (s,) in tuples(db_path, "SELECT status FROM posts ORDER BY id")][1] == "copy"
    res = run_cli("--db", str(db_path), "rejudge", "--id", "3", "--format", "json")
    assert [p["post_id"] for p in json.loads(res.output)["posts"]] == [3]
    res = run_cli("--db", str(db_path), "rejudge", "--status", "off_topic")
    assert "re-judged 0 post(s)" in res.output
    res = run_cli("--db", str(db_path), "rejudge")
    assert "re-judged 1 post(s)" in res.output
    assert {s for (s,) in tuples(db_path, "SELECT status FROM posts")} == {"copy"}
    res = run_cli("--db", str(db_path), "rejudge", "--source", "99")
    assert res.exit_code != 0 and "Traceback" not in res.output


def test_the_earliest_published_post_stays_the_original(db_path: Path, tmp_path: Path):
    """Two reposts of a seed (copies, stored without a duplicate link); once the seed is gone, the
    earlier-published one is the original and the other its duplicate, whatever the order stored."""
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    db = connect(db_path)
    ing = Ingestor(db)
    later = ing.ingest(
        item(
            "https://later.example.org/p",
            text=BODY + " Quelle: Agenturen.",
            title=TITLE,
            published="2024-05-09T00:00:00+00:00",
        )
    ).post_id
    earlier = ing.ingest(
        item("https://earlier.example.org/p", text=BODY, title=TITLE, published="2024-05-02T00:00:00+00:00")
    ).post_id
    assert {s for (s,) in tuples(db_path, "SELECT status FROM posts")} == {"copy"}
    run_cli("--db", str(db_path), "seed", "remove", "2")
    res = run_cli("--db", str(db_path), "rejudge", "--alert")
    assert res.exit_code == 0, res.output
    got = {r["id"]: r for r in rows(db_path, "SELECT id, status, duplicate_of FROM posts")}
    assert got[earlier]["status"] == "new" and got[earlier]["duplicate_of"] is None
    assert got[later]["status"] == "duplicate" and got[later]["duplicate_of"] == earlier
    # one alert for the story: the original's
    assert [k for k, _ in _alerts(db_path) if k.endswith("-new")] == [f"post-{earlier}-new"]


def _variants(n: int) -> list[dict]:
    """`n` distinct posts: reposts of the seed-to-be (every other one) and other relevant articles."""
    others = [_article(p.name) for p in sorted((FIXTURES / "classify").glob("new__en_*.txt"))[:8]]
    out = []
    for i in range(n):
        title, body = (TITLE, BODY) if i % 2 == 0 else others[i % len(others)]
        out.append(item(f"https://v{i}.example.org/p", text=f"Beitrag {i}: {body}", title=title))
    return out


@pytest.mark.reliability
@pytest.mark.slow
def test_kill_9_mid_rejudge_leaves_no_post_half_changed_and_a_rerun_finishes(db_path: Path, tmp_path: Path):
    db = connect(db_path)
    Ingestor(db).ingest_many(_variants(KILL_POSTS))
    alerts_before = len(_alerts(db_path))
    old = dict(tuples(db_path, "SELECT id, status FROM posts"))
    old_rules = current_rules(db)
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    new_rules = current_rules(db)
    assert new_rules != old_rules
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "rejudge", "--workers", "0", "--alert"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert wait_until(
            lambda: proc.poll() is not None or q(db_path, "SELECT count(*) FROM posts WHERE judged_with = ?", new_rules)
        )
        done_at_kill = q(db_path, "SELECT count(*) FROM posts WHERE judged_with = ?", new_rules)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < done_at_kill < KILL_POSTS, "the kill must land mid-run"
    # every post is either as it was (old rules, old status) or fully re-judged
    for pid, status, rules, ev in tuples(db_path, "SELECT id, status, judged_with, evidence FROM posts"):
        if rules == new_rules:
            assert "rejudged" in json.loads(ev)
            assert status == ("copy" if pid % 2 == 1 else old[pid])
        else:
            assert rules == old_rules and status == old[pid] and "rejudged" not in json.loads(ev)
    half = q(db_path, "SELECT count(*) FROM posts WHERE judged_with = ?", new_rules)
    assert half % 500 == 0 or half == KILL_POSTS  # whole batches only
    assert_consistent(db_path)
    # a second run carries on with the rest only
    res = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "rejudge", "--alert", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["judged"] == KILL_POSTS - half
    assert q(db_path, "SELECT count(*) FROM posts WHERE judged_with IS NOT ?", new_rules) == 0
    statuses = dict(tuples(db_path, "SELECT id, status FROM posts"))
    assert all(statuses[p] == "copy" for p in statuses if p % 2 == 1)
    keys = [k for k, _ in _alerts(db_path)]
    doubled = len(keys) - len(set(keys))
    # one copy alert per repost that was not a copy before, across both runs
    assert doubled == 0 and len(keys) == alerts_before + sum(1 for p in statuses if p % 2 == 1 and old[p] != "copy")
    assert_consistent(db_path)
    record(
        "27 rejudge killed -9 between batches",
        runs=2,
        posts=KILL_POSTS,
        faults=1,
        lost=0,
        doubled=doubled,
    )


@pytest.mark.reliability
@pytest.mark.slow
def test_rejudge_while_another_process_writes(db_path: Path, tmp_path: Path):
    """A re-judge and an ingest in another process on one file: neither fails on a locked database."""
    db = connect(db_path)
    Ingestor(db).ingest_many(_variants(1500))
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    feed = tmp_path / "more.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from storage.db import connect; from storage.ingest import Ingestor;"
            "from helpers import item;"
            "ing = Ingestor(connect(sys.argv[1]));"
            "[ing.ingest(item(f'https://w{i}.example.org/p', text=f'Notiz {i}. ' + sys.argv[2])) for i in range(300)]",
            str(db_path),
            BODY,
        ],
        env={**env, "PYTHONPATH": env["PYTHONPATH"] + os.pathsep + str(Path(__file__).parent)},
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "rjwatch", "--db", str(db_path), "rejudge", "--workers", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    _, err = writer.communicate(timeout=300)
    assert res.returncode == 0, res.stderr
    assert writer.returncode == 0, err[-2000:]
    assert q(db_path, "SELECT count(*) FROM posts") == 1800
    del feed, started
    assert_consistent(db_path)
    record("27 rejudge beside a writing process", runs=1, posts=1800, faults=0, lost=0, doubled=0)


def test_a_seed_id_is_never_given_twice_and_stored_comparisons_are_kept(db_path: Path, tmp_path: Path):
    db = connect(db_path)
    pid = Ingestor(db).ingest(item("https://c.example.org/p", text=BODY, title=TITLE)).post_id
    run_cli("--db", str(db_path), "seed", "add", str(_seed_file(tmp_path)))
    run_cli("--db", str(db_path), "rejudge")
    assert q(db_path, "SELECT status FROM posts") == "copy"
    run_cli("--db", str(db_path), "seed", "remove", "2")
    # another article as the next seed: it gets id 3, so the post's comparison under "2" cannot pass for it
    title, body = _article("new__en_2plus2_tokyo_2019_quotes_seed_sentence.txt")
    other = tmp_path / "other"
    other.mkdir()
    res = run_cli("--db", str(db_path), "seed", "add", str(_seed_file(other, body, title)))
    assert "seed #3" in res.output, res.output
    res = run_cli("--db", str(db_path), "rejudge")
    assert res.exit_code == 0, res.output
    assert q(db_path, "SELECT status FROM posts") == "new"
    sim = json.loads(q(db_path, "SELECT seed_similarity FROM posts WHERE id = ?", pid))
    assert "2" not in sim and "3" in sim and sim["3"]["containment"] < 0.1
    # --force judges again from the text, with the same result
    res = run_cli("--db", str(db_path), "rejudge", "--force")
    assert "re-judged 1 post(s): 0 changed" in res.output


@pytest.mark.slow
def test_the_daemon_notices_a_new_profile_and_judges_new_posts_under_it(db_path: Path, tmp_path: Path, served):
    """`rjwatch run` as a real process, a real feed on 127.0.0.1: the profile changes the way a user
    changes it (`topic` in the config, `rjwatch init`, SIGHUP). The daemon says once how many stored
    posts wait for `rjwatch rejudge`, `status` says so until it has run, and a post that arrives
    after the change is judged under the new profile at once."""
    feed = news_feed(3)
    srv = served(feed)
    cfg = write_config(tmp_path / "rj.toml", "console")
    run_cli("--db", str(db_path), "source", "add", f"{srv.base_url}/rss.xml", "--kind", "feed")
    # the first collection, stored under the packaged profile
    run_cli("--db", str(db_path), "--config", str(cfg), "poll", "--all")
    stored = q(db_path, "SELECT count(*) FROM posts")
    assert stored == 3 and q(db_path, "SELECT count(*) FROM posts WHERE status = 'new'") == 3
    old_rules = current_rules(connect(db_path))
    d = Daemon(db_path, cfg).start()
    try:
        assert wait_job_passes(db_path, "reload", 1)  # the daemon knows the rules in force

        # The user points `topic` at another profile, stores it with `rjwatch init`, and reloads the daemon.
        cfg.write_text(f"topic = {json.dumps(str(_bhutan_topic(tmp_path)))}\n" + cfg.read_text("utf-8"), "utf-8")
        # A reload before `init` changes nothing, and says so instead of looking as if it had.
        d.proc.send_signal(signal.SIGHUP)
        assert wait_job_passes(db_path, "reload", 2)
        assert current_rules(connect(db_path)) == old_rules
        res = run_cli("--db", str(db_path), "--config", str(cfg), "init")
        assert res.exit_code == 0, res.output
        new_rules = current_rules(connect(db_path))
        assert new_rules.split("/")[0] != old_rules.split("/")[0]  # the profile half changed
        d.proc.send_signal(signal.SIGHUP)
        assert wait_job_passes(db_path, "reload", 2)

        st = json.loads(run_cli("--db", str(db_path), "status", "--format", "json").stdout)
        assert st["rejudge_needed"] == stored
        text = run_cli("--db", str(db_path), "status").output
        assert f"rejudge: {stored} post(s)" in text and "run `rjwatch rejudge`" in text

        # A post published now is judged under the new profile by the daemon's next poll.
        feed.publish(
            NewsItem(
                "sachalin",
                TITLE,
                datetime.now(UTC).replace(microsecond=0),
                body_html="".join(f"<p>{p}</p>" for p in BODY.split("\n\n")),
            )
        )
        assert wait_until(lambda: q(db_path, "SELECT count(*) FROM posts") == stored + 1)
        fresh = rows(db_path, "SELECT id, status, judged_with FROM posts ORDER BY id DESC LIMIT 1")[0]
        assert fresh["judged_with"] == new_rules and fresh["status"] == "off_topic"
        assert q(db_path, "SELECT count(*) FROM alerts WHERE post_id = ?", fresh["id"]) == 0
        assert (
            json.loads(run_cli("--db", str(db_path), "status", "--format", "json").stdout)["rejudge_needed"] == stored
        )

        # rejudge while the daemon runs: nothing waits any more, and the daemon has nothing more to say
        res = run_cli("--db", str(db_path), "rejudge", "--format", "json")
        assert res.exit_code == 0, res.output
        report = json.loads(res.output)
        assert report["judged"] == stored
        # those of the stored posts that the new profile puts off the topic (the others name the dispute itself)
        assert report["changed"] >= 1 and {(t["from"], t["to"]) for t in report["transitions"]} == {
            ("new", "off_topic")
        }
        assert not json.loads(run_cli("--db", str(db_path), "status", "--format", "json").stdout).get("rejudge_needed")
        assert "rjwatch rejudge" not in run_cli("--db", str(db_path), "status").output
        assert wait_job_passes(db_path, "reload", 2)
    finally:
        assert d.stop() == 0
    assert {r for (r,) in tuples(db_path, "SELECT judged_with FROM posts")} == {new_rules}
    notices = [line for line in d.output.splitlines() if "judged under other rules" in line]
    assert len(notices) == 1, d.output[-3000:]
    assert f"{stored} stored post(s) were judged under other rules" in notices[0]
    assert "run `rjwatch rejudge`" in notices[0]
    unstored = [line for line in d.output.splitlines() if "is not the stored topic profile" in line]
    assert len(unstored) == 1 and "run `rjwatch init`" in unstored[0], d.output[-3000:]
