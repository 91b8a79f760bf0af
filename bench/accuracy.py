"""Relevance accuracy on labelled real-world-style texts: precision, recall and F1 per language.

The cases are in tests/fixtures/relevance/: `dev/` is the part the scorer's thresholds and profile are
tuned on; `heldout/` and `heldout2/` (a second part, written after the first had
been measured) are never tuned on and are what the targets are checked against, each alone and both
together. Only the development part's mistakes are printed: a held-back case is never read to tune on. Each case is one
file (`{lang}__{label}__{slug}.txt`) with a header (label, lang, topic, why, modelled_on, title), a
`---` line and the body; tests/fixtures/relevance/README.md says how they were written.

Every case goes through the same path as a collected post (judge.analyze.analyze: text cleaning,
language, the topic profile), with no seed, so the verdict is the relevance verdict alone.

    python bench/accuracy.py                 # every part, one table each, and the dev cases it gets wrong
    python bench/accuracy.py --part dev      # the tuning part only
    python bench/accuracy.py --quiet         # tables only
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASES = REPO / "tests" / "fixtures" / "relevance"
PARTS = ("dev", "heldout", "heldout2")
HELD_BACK = ("heldout", "heldout2")
BOTH = "held-back (both)"
LABELS = ("relevant", "off_topic")
HEADER_KEYS = ("label", "lang", "topic", "why", "modelled_on", "title")
#: Targets on the held-back part, for every language with at least TARGET_MIN_CASES cases.
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.95
TARGET_MIN_CASES = 20

sys.path.insert(0, str(REPO))


class CaseError(ValueError):
    """A case file that does not follow the format, explained in one line."""


@dataclass
class Case:
    path: Path
    part: str
    label: str
    lang: str
    topic: str
    why: str
    title: str
    body: str

    @property
    def name(self) -> str:
        return f"{self.part}/{self.path.name}"


def read_case(path: Path, part: str) -> Case:
    raw = path.read_text("utf-8")
    head, sep, body = raw.partition("\n---\n")
    if not sep:
        raise CaseError(f"{path.name}: no '---' line between header and body")
    meta: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            meta[key.strip()] = value.strip()
    missing = [k for k in HEADER_KEYS if not meta.get(k)]
    if missing:
        raise CaseError(f"{path.name}: header lacks {', '.join(missing)}")
    if meta["label"] not in LABELS:
        raise CaseError(f"{path.name}: label {meta['label']!r} is not one of {', '.join(LABELS)}")
    lang, label = path.name.split("__")[:2]
    if (lang, label) != (meta["lang"], meta["label"]):
        raise CaseError(f"{path.name}: the file name says {lang}/{label}, the header {meta['lang']}/{meta['label']}")
    if not body.strip():
        raise CaseError(f"{path.name}: empty body")
    return Case(path, part, meta["label"], meta["lang"], meta["topic"], meta["why"], meta["title"], body.strip())


def load(parts=PARTS) -> list[Case]:
    return [read_case(p, part) for part in parts for p in sorted((CASES / part).glob("*.txt"))]


def judge_case(case: Case, profile):
    from judge.analyze import analyze

    return analyze(
        {"url": f"https://cases.invalid/{case.part}/{case.path.stem}", "title": case.title, "text": case.body},
        [],
        profile,
    ).relevance


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, said: bool) -> None:
        if truth and said:
            self.tp += 1
        elif said:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def merge(self, other: Tally) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(cases: list[Case], profile) -> tuple[dict[str, dict[str, Tally]], list[tuple[Case, object]]]:
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    wrong = []
    for case in cases:
        rel = judge_case(case, profile)
        truth = case.label == "relevant"
        for lang in (case.lang, "all"):
            tallies[case.part][lang].add(truth, rel.relevant)
        if truth != rel.relevant:
            wrong.append((case, rel))
    return tallies, wrong


def table(part: str, by_lang: dict[str, Tally]) -> str:
    out = [f"| {part} | cases | relevant | precision | recall | F1 | wrong |", "|---|---:|---:|---:|---:|---:|---:|"]
    for lang in sorted(by_lang, key=lambda k: (k == "all", k)):
        t = by_lang[lang]
        name = "**all**" if lang == "all" else lang
        out.append(
            f"| {name} | {t.n} | {t.tp + t.fn} | {t.precision:.2f} | {t.recall:.2f} | {t.f1:.2f} | {t.fp + t.fn} |"
        )
    return "\n".join(out)


def misses_target(by_lang: dict[str, Tally]) -> list[str]:
    return [
        f"{lang}: precision {t.precision:.2f}, recall {t.recall:.2f}"
        for lang, t in sorted(by_lang.items())
        if lang != "all" and t.n >= TARGET_MIN_CASES and (t.precision < TARGET_PRECISION or t.recall < TARGET_RECALL)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=(*PARTS, "all"), default="all")
    ap.add_argument("--quiet", action="store_true", help="tables only, not the development cases it gets wrong")
    args = ap.parse_args(argv)
    from judge.relevance import TopicProfile

    parts = PARTS if args.part == "all" else (args.part,)
    try:
        cases = load(parts)
    except CaseError as exc:
        print(f"accuracy: {exc}", file=sys.stderr)
        return 2
    profile = TopicProfile.load()
    tallies, wrong = evaluate(cases, profile)
    held = [p for p in parts if p in HELD_BACK]
    if len(held) == 2:
        both = tallies[BOTH]
        for part in held:
            for lang, t in tallies[part].items():
                both[lang].merge(t)
    for part in (*parts, BOTH) if len(held) == 2 else parts:
        print(table(part, tallies[part]))
        print()
    if not args.quiet:
        for case, rel in wrong:
            if case.part in HELD_BACK:
                continue
            said = "relevant" if rel.relevant else "off_topic"
            print(f"- {case.name}: labelled {case.label}, judged {said} (score {rel.score:.2f}); {case.why}")
            for reason in rel.reasons:
                print(f"    {reason}")
    code = 0
    for part in (*held, BOTH) if len(held) == 2 else held:
        missed = misses_target(tallies[part])
        if missed:
            print(f"{part}: below the {TARGET_PRECISION:.2f}/{TARGET_RECALL:.2f} target: " + "; ".join(missed))
            code = 1
        else:
            print(
                f"{part}: every language with {TARGET_MIN_CASES}+ cases meets precision and recall "
                f">= {TARGET_PRECISION:.2f}"
            )
    return code


if __name__ == "__main__":
    sys.exit(main())
