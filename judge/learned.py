"""What the analyst's corrections teach the relevance score: a small model on top of the profile.

The topic profile (judge.relevance) gives every post explainable points. An installation's analysts
correct some verdicts (`rjwatch mark`); this module learns from those marks where the profile is
wrong for them and adds a *learned contribution* to the profile's points, listed beside them in
`rjwatch show` ("+0.9 learned from 48 analyst marks: 독도 +0.4, 北方 +0.2 ...").

The model is a logistic regression whose offset is the profile's own verdict:

    log-odds(relevant) = PROFILE_LOGIT_PER_POINT * (points - points at the threshold) + w . x

so with no marks (w = 0) a post is judged exactly as by the profile alone, and the weights learn only
what the profile gets wrong. x holds the post's hashed word n-grams (words and word pairs; character
pairs in Chinese, Japanese and Korean, which have no spaces) and the profile's flags (partial,
history, ...). The learned contribution in points is w . x divided by PROFILE_LOGIT_PER_POINT,
capped at LEARNED_CAP_POINTS either way, so the score stays on the profile's scale and its threshold
keeps its meaning.

Marks are a biased sample: mostly the profile's mistakes. Two choices keep the model from learning
"the profile is wrong" and turning every post over: there is no bias term (the n-grams can only move
posts that share the marked posts' wording), and training also takes unmarked stored posts as the
profile judges them (anchors, ANCHOR_WEIGHT each): the profile is right where nobody said otherwise.
The constants were chosen on the development part of tests/fixtures/relevance alone
(`bench/accuracy.py --part learning-dev`: one half marked, the other counted).

Training minimises the L2-regularised logistic loss with scipy's L-BFGS: scikit-learn's
LogisticRegression cannot take a fixed per-example offset, which is the whole point here. Features
are hashed with CRC-32 into HASH_BUCKETS buckets; the model stores only the weights of buckets seen
in training (a few thousand numbers), and at judging time the post's own n-grams name the buckets
that moved its score, so the explanation needs no vocabulary. Prediction is pure Python over a dict:
no numpy or scipy import in the judging path.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from dataclasses import dataclass, field

from judge.errors import RjwatchError

#: The profile's verdict as a prior: log-odds per point of evidence away from the threshold. At 1.5 a
#: post one point above the threshold starts at p = 0.82 relevant, three points above at 0.99: the
#: marks must agree with each other before they move a post the profile is sure of.
PROFILE_LOGIT_PER_POINT = 1.5
#: The learned contribution never moves a post more than this many points: about the evidence of
#: a dispute name plus a relations passage. The profile's strongest evidence (5+ points) still holds.
LEARNED_CAP_POINTS = 3.0
#: L2 penalty on the weights (per training example weight of 1). Strong enough that one mark moves
#: only posts that share much of its wording; checked on the development part of
#: tests/fixtures/relevance (bench/accuracy.py --part learning).
L2 = 0.2
#: Weight of an unmarked stored post (taken as the profile judges it) against 1 for a mark: an
#: analyst's word counts as much as a few unmarked posts saying the opposite.
ANCHOR_WEIGHT = 0.5
#: Most unmarked posts taken as anchors (an even sample by id): enough to cover every language and
#: kind of post in a large corpus; scoring them costs ~2 ms each.
MAX_ANCHORS = 3000
#: Hash buckets for n-grams (2^20): collisions among the few thousand n-grams of a few hundred marks
#: are rare enough not to matter.
HASH_BUCKETS = 1 << 20
#: Fewest marks a model is trained from: below this the weights would be noise.
MIN_MARKS = 5
#: Weights smaller than this are dropped from the stored model (they move no score visibly).
MIN_WEIGHT = 1e-4
#: Training stops after this many L-BFGS iterations (converges in tens on thousands of marks).
MAX_ITERATIONS = 200
#: How many n-grams `show` names as the learned contribution's main terms.
EXPLAIN_TERMS = 4

_WORD_RE = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_CJK_RUN_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def rules_text(profile_raw: str | None, digest: str | None) -> str | None:
    """The profile's text as the rules hash reads it: with the learned model's digest when one is in use."""
    return profile_raw if not digest else f"{profile_raw or ''}\x00learned:{digest}"


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) % HASH_BUCKETS


def features(norm_text: str, norm_title: str = "", flags: list[str] | tuple[str, ...] = ()) -> dict[int, float]:
    """The hashed features of a normalised text: {bucket: value}. Each distinct n-gram counts once,
    scaled so every text's n-grams weigh 1 in total (a long post does not outvote a short one)."""
    grams = _grams(norm_text, norm_title)
    value = 1.0 / math.sqrt(len(grams)) if grams else 0.0
    out = {_bucket(g): value for g in grams}
    for flag in flags:
        out[_bucket("flag:" + flag)] = 1.0
    return out


def _grams(norm_text: str, norm_title: str) -> set[str]:
    """Words and word pairs (character pairs in CJK runs), the title's marked as such."""
    grams: set[str] = set()
    for part, prefix in ((norm_text, ""), (norm_title, "title:")):
        if not part:
            continue
        words: list[str | None] = []
        for tok in _WORD_RE.findall(part):
            if _CJK_RUN_RE.fullmatch(tok):
                if len(tok) == 1:
                    grams.add(prefix + tok)
                grams.update(prefix + tok[i : i + 2] for i in range(len(tok) - 1))
                words.append(None)  # a CJK run breaks word pairs
            else:
                words.append(tok)
        grams.update(prefix + w for w in words if w)
        grams.update(f"{prefix}{a} {b}" for a, b in zip(words, words[1:]) if a and b)
    return grams


@dataclass
class Example:
    """One analyst mark, ready to train on."""

    features: dict[int, float]
    points: float  # the profile's points for the post
    relevant: bool  # what the analyst says
    threshold_points: float
    # 1 for an analyst's mark; less for an unmarked post taken as the profile judged it (an anchor).
    weight: float = 1.0


@dataclass
class Contribution:
    points: float
    terms: list[tuple[str, float]] = field(default_factory=list)  # (n-gram, points), largest first


@dataclass
class LearnedModel:
    """Weights learned from an installation's marks (see the module docstring)."""

    weights: dict[int, float]
    marks: int
    trained_at: str = ""
    stats: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Names this model in the rules a verdict was made under (judge.rejudge.rules_hash)."""
        h = hashlib.sha256(json.dumps(sorted(self.weights.items())).encode())
        return h.hexdigest()[:16]

    def contribution(self, norm_text: str, norm_title: str, flags: list[str]) -> Contribution:
        grams = _grams(norm_text, norm_title)
        value = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        w = self.weights
        parts = [(g, value * w[b]) for g in grams if (b := _bucket(g)) in w]
        parts += [("flag:" + f, w[b]) for f in flags if (b := _bucket("flag:" + f)) in w]
        logit = sum(p for _, p in parts)
        pts = max(-LEARNED_CAP_POINTS, min(LEARNED_CAP_POINTS, logit / PROFILE_LOGIT_PER_POINT))
        ranked = sorted(parts, key=lambda kv: -abs(kv[1]))
        terms = [(n, p / PROFILE_LOGIT_PER_POINT) for n, p in ranked][:EXPLAIN_TERMS]
        return Contribution(pts, terms)

    def to_json(self) -> str:
        return json.dumps(
            {
                "weights": {str(k): round(v, 6) for k, v in self.weights.items()},
                "marks": self.marks,
                "stats": self.stats,
            }
        )

    @classmethod
    def from_json(cls, raw: str, trained_at: str = "") -> LearnedModel:
        data = json.loads(raw)
        return cls(
            {int(k): float(v) for k, v in data["weights"].items()},
            int(data["marks"]),
            trained_at,
            data.get("stats", {}),
        )


class TooFewMarks(ValueError, RjwatchError):
    """Not enough marks to learn from."""


def train(examples: list[Example]) -> LearnedModel:
    """Fit the weights to the marks (L2-regularised logistic regression with the profile as offset)."""
    marks = sum(1 for ex in examples if ex.weight == 1.0)
    if marks < MIN_MARKS:
        raise TooFewMarks(f"{marks} mark(s): at least {MIN_MARKS} are needed to learn from")
    import numpy as np
    from scipy.optimize import minimize
    from scipy.sparse import csr_matrix

    columns: dict[int, int] = {}
    indptr, indices, data = [0], [], []
    for ex in examples:
        for b, v in ex.features.items():
            indices.append(columns.setdefault(b, len(columns)))
            data.append(v)
        indptr.append(len(indices))
    x = csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(examples), len(columns)))
    y = np.array([1.0 if ex.relevant else -1.0 for ex in examples])
    sw = np.array([ex.weight for ex in examples])
    offset = np.array([PROFILE_LOGIT_PER_POINT * (ex.points - ex.threshold_points) for ex in examples])

    def loss(w):
        m = y * (offset + x @ w)
        value = (sw * np.logaddexp(0.0, -m)).sum() + 0.5 * L2 * (w @ w)
        grad = -(x.T @ (sw * y * _sigmoid(-m))) + L2 * w
        return value, grad

    res = minimize(loss, np.zeros(len(columns)), jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITERATIONS})
    w = res.x
    buckets = list(columns)
    weights = {buckets[i]: float(w[i]) for i in range(len(buckets)) if abs(w[i]) >= MIN_WEIGHT}
    marked = sw == 1.0
    before = int((((offset >= 0) == (y > 0)) & marked).sum())
    after = int(((((offset + x @ w) >= 0) == (y > 0)) & marked).sum())
    return LearnedModel(
        weights,
        marks,
        stats={
            "agree_profile": before,
            "agree_learned": after,
            "iterations": int(res.nit),
            "relevant": int(((y > 0) & marked).sum()),
            "anchors": int((~marked).sum()),
        },
    )


def _sigmoid(z):
    import numpy as np

    return 0.5 * (1.0 + np.tanh(0.5 * z))
