"""Judging a stored post again under the current rules, from what the database kept (no fetching).

A stored post keeps its cleaned text, title and language, which is all the verdict needs: the
relevance score reads the text and title, the seed comparison reads the text's shingles, and the
near-duplicate links come from the stored MinHash signatures (storage.lsh). `reassess` redoes the
text half (pure, so it runs in the analysis pool's workers); storage.rejudge does the database half.

`rules_hash` names the rules a verdict was made under (the topic profile, the seeds and the
thresholds): it is stored with each verdict, so a post judged under other rules can be found, and
its two halves say what to make again. A new profile means scoring the text again (~0.7 ms a post); new
seeds mean comparing the text with those seeds only (~0.5 ms); a removed seed means no text work at
all (its stored comparison is dropped). Seed ids are never given twice (storage.seeds), so a stored
comparison under a seed's id is a comparison with that seed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from judge import classify, fingerprint, text
from judge.analyze import Seed, seed_note, translated_seeds
from judge.classify import SeedMatch, TranslationSeedMatch
from judge.fingerprint import Overlap
from judge.relevance import RELEVANT_MIN_SCORE, Relevance, TopicProfile, normalize_lines

#: Flags a verdict carries that come from the post itself, not from the relevance score.
POST_FLAGS = ("media_only", "summary_only", "uncovered_language")

#: Characters of each half of the rules hash: 64 bits tell rule sets apart well enough.
RULES_HASH_CHARS = 16


def profile_hash(profile_raw: str | None) -> str:
    """A short digest of the topic profile's text and the relevance threshold."""
    h = hashlib.sha256((profile_raw or "<packaged default>").encode("utf-8"))
    h.update(repr(RELEVANT_MIN_SCORE).encode())
    return h.hexdigest()[:RULES_HASH_CHARS]


def seeds_hash(seed_rows: list[tuple]) -> str:
    """A short digest of the seeds (id and text) and the verdict thresholds."""
    h = hashlib.sha256()
    for row in seed_rows:
        h.update(f"\x00seed {row[0]}\x00".encode())
        h.update(str(row[-1]).encode("utf-8"))
    thresholds = (
        classify.COPY_MIN_CONTAINMENT,
        classify.EXCERPT_MIN_SHARED,
        classify.EXCERPT_MIN_CONTAINMENT,
        classify.DUPLICATE_MIN_JACCARD,
    )
    h.update(repr(thresholds).encode())
    return h.hexdigest()[:RULES_HASH_CHARS]


def rules_hash(profile_raw: str | None, seed_rows: list[tuple]) -> str:
    """The rules a verdict is made under, as stored with it: "<profile hash>/<seeds hash>". Any
    change to the profile, the seeds or the thresholds changes it; its halves say which changed."""
    return f"{profile_hash(profile_raw)}/{seeds_hash(seed_rows)}"


def split_rules(judged_with: str | None) -> tuple[str | None, str | None]:
    """(profile hash, seeds hash) of a stored rules hash; (None, None) when unknown."""
    if not judged_with or "/" not in judged_with:
        return None, None
    p, _, s = judged_with.partition("/")
    return p, s


@dataclass
class Reassessment:
    """The text half of a verdict, made again from a stored post."""

    post_id: int
    relevance: Relevance
    seed_matches: list[SeedMatch]
    seed_note: str
    mode: str
    shingle_count: int
    flags: list[str]
    translations: list[TranslationSeedMatch] = field(default_factory=list)

    @property
    def seed_similarity(self) -> dict[str, dict]:
        out = {str(m.seed_id): m.as_dict() for m in self.seed_matches}
        out.update({str(t.seed_id): t.as_dict() for t in self.translations})  # as judge.analyze stores them
        return out


@dataclass
class Task:
    """One stored post to judge again, and what of its verdict must be made again.

    `rescore`: the profile changed, so the relevance is scored again from the text. `compare`: ids of
    the seeds it was never compared with (the others' stored comparisons are kept). `text` is None
    when neither needs it."""

    post_id: int
    title: str | None
    text: str | None
    lang: str | None
    summary_only: bool
    media_only: bool
    rescore: bool
    compare: tuple[int, ...]
    # what is stored: relevance score, matched terms (JSON), seed similarity (JSON), evidence (JSON)
    score: float
    matched_terms: str
    seed_similarity: str
    evidence: str


def _stored_relevance(t: Task, ev: dict) -> Relevance:
    flags = [f for f in ev.get("flags") or [] if f not in POST_FLAGS]
    return Relevance(
        t.score,
        t.score >= RELEVANT_MIN_SCORE,
        0.0,
        json.loads(t.matched_terms or "{}"),
        ev.get("relevance") or [],
        flags,
    )


def reassess(t: Task, seeds: list[Seed], profile: TopicProfile) -> Reassessment:
    """Make again what the changed rules need: the relevance score (from the text), the comparisons
    with seeds the post has not met; keep the rest as stored."""
    ev = json.loads(t.evidence or "{}")
    mode, shingle_count = ev.get("mode"), ev.get("shingles") or 0
    sh: set[int] = set()
    if t.text is not None and (t.rescore or t.compare):
        norm = normalize_lines(t.text)
        if t.compare:
            mode, toks = text.tokens(norm)
            sh = fingerprint.shingles(mode, toks)
            shingle_count = len(sh)
        else:  # only the score is made again: no comparison tokens are needed, only their mode
            mode = text.script_mode(norm)
        rel = profile.score(norm, text.normalize(t.title or "")) if t.rescore else _stored_relevance(t, ev)
    else:
        rel = _stored_relevance(t, ev)
    stored = json.loads(t.seed_similarity or "{}")
    matches = []
    for s in seeds:
        if s.mode != mode:
            continue
        if s.id in t.compare:
            matches.append(SeedMatch(s.id, fingerprint.overlap(s.shingles, sh)))
        elif str(s.id) in stored and "jaccard" in stored[str(s.id)]:  # a translation's figures are not an overlap
            d = stored[str(s.id)]
            matches.append(
                SeedMatch(s.id, Overlap(d["containment"], d["jaccard"], d["shared"], d.get("post_share", 0.0)))
            )
    # A translation of a seed is looked for again whenever the text is at hand (it depends on the
    # relevance and on the seeds, either of which may have changed).
    translations = translated_seeds(seeds, matches, t.lang, rel.relevant, t.text) if t.text is not None else []
    flags = list(rel.flags)
    if t.media_only:
        flags.append("media_only")
    if t.summary_only:
        flags.append("summary_only")
    if not profile.covers(t.lang):
        flags.append("uncovered_language")
    return Reassessment(t.post_id, rel, matches, seed_note(seeds, mode), mode, shingle_count, flags, translations)


def worker_reassess_many(tasks: list[Task]) -> list[Reassessment]:
    """`reassess` in an analysis pool worker (judge.pool), with the profile and seeds it holds."""
    from judge.pool import worker_state

    profile, seeds = worker_state()
    return [reassess(t, seeds, profile) for t in tasks]
