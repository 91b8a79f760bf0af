"""The term index keeps what it worked out about words between texts (judge.terms.MEMO_MAX_WORDS):
the answers are the same with the memo full, starting over, or fresh, and it stays bounded."""

from __future__ import annotations

import pytest

from helpers import FIXTURES
from judge import terms
from judge.relevance import TopicProfile, normalize_lines


def _texts() -> list[str]:
    paths = sorted((FIXTURES / "relevance").rglob("*.txt"))[:200]
    return [normalize_lines(p.read_text("utf-8")) for p in paths]


def _verdicts(profile: TopicProfile, texts: list[str]) -> list[tuple]:
    out = []
    for t in texts:
        r = profile.score(t)
        out.append((r.score, r.relevant, r.matched_terms, r.reasons, r.flags))
    return out


def test_a_memo_that_starts_over_gives_the_same_verdicts(monkeypatch: pytest.MonkeyPatch):
    texts = _texts()
    assert len(texts) >= 100
    fresh = [_verdicts(TopicProfile.load(), [t])[0] for t in texts]  # the first look at every text
    monkeypatch.setattr(terms, "MEMO_MAX_WORDS", 50)  # starts over every few texts
    small = TopicProfile.load()
    once, again = _verdicts(small, texts), _verdicts(small, texts)
    assert once == fresh and again == fresh
    # bounded: at most the bound plus one text's words
    most_words = max(len(terms.text_words(t)) for t in texts)
    assert len(small.matcher._seen[0]) <= 50 + most_words
    assert len(small.matcher._plans) <= 50 + most_words
