"""Finding a topic profile's terms in text: words, sentences and paragraphs, and the term index.

A profile term is one of:
- words in a spaced script (Latin, Cyrillic ...), each part exact, a prefix (`japan*`), or, for a
  Cyrillic part written without `*`, every inflected form of the word: "итуруп" finds Итурупа and
  Итурупе, "доля" finds долю and долей. pymorphy3's dictionary gives the forms (the lexeme of each
  reading of the word) when the profile loads; the dictionary is then let go, so judging a text is a
  set lookup and the analysis processes do not carry the dictionary;
- a CJK literal, found anywhere (no spaces in those scripts, and Korean particles attach to words);
- `re:...`, a regular expression.

Segmentation keeps line breaks (headings and list items end sentences) and does not end a sentence
at an abbreviation ("U.S.") or an initial. The relevance score (judge/relevance.py) is built on this.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")

#: Words after which a full stop does not end a sentence (casefolded; single letters, initials, are
#: handled apart). "U.S. sanctions" stays one sentence with "Japan's" after it.
ABBREVIATIONS = frozenset(
    """
u.s u.k u.n e.u ee.uu eeuu mr mrs ms dr st jr sr gen col lt sen rep gov prof vs etc e.g i.e no nr
approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec pres min
т.е т.к т.д т.п т.н г гг им ул стр напр см ср англ р руб тыс млн млрд чел ген пред
sra srta dña p.ej aprox núm
mme mlle env
bzw z.b usw ca hr dt
""".split()
)

# --- word forms (Russian) ----------------------------------------------------------------------------
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")


def _analyzer():
    import pymorphy3  # 20 MB of dictionaries, ~0.3 s to load: only while a profile loads

    return pymorphy3.MorphAnalyzer()


#: The forms found so far, by word: a process that loaded a profile hands them to the analysis workers it
#: forks, which then never load the dictionary themselves.
_FORMS: dict[str, frozenset[str]] = {}


def word_forms(words: list[str]) -> dict[str, frozenset[str]]:
    """Every inflected form of each (casefolded) Russian word: the union of the lexemes of all its
    readings ("курилы" gives курил, курилам ...; "доля" gives долю, долей ...), with ё also written е.
    The dictionary is loaded only for words not seen before, and let go after the call."""
    missing = [w for w in words if w not in _FORMS]
    if missing:
        morph = _analyzer()
        for word in missing:
            forms = {word}
            for parse in morph.parse(word):
                forms.update(f.word for f in parse.lexeme)
            forms.update([f.replace("ё", "е") for f in forms])
            _FORMS[word] = frozenset(forms)
    return {w: _FORMS[w] for w in words}


#: Words whose answers (can it start a term, which terms) a matcher keeps between texts. Words
#: recur from text to text, so looking them up again is the cost of judging a text; the bound keeps
#: a long-running process's memory flat (a few MB), and a full memo simply starts over.
MEMO_MAX_WORDS = 50_000

_TOKEN_RE = re.compile(r"\w+(?:[-–+.'’]\w+)*")
_HYPHEN_RE = re.compile(r"[-–]")


def _term_regex(term: str) -> str:
    """A regex for one profile term: `re:` terms as written, CJK literals as they are, other terms
    as whole words (`*` = any word ending)."""
    if term.startswith("re:"):
        return term[3:]
    if _CJK_RE.search(term):
        return re.escape(term.rstrip("*"))
    body = r"\s+".join(re.escape(p[:-1]) + r"\w*" if p.endswith("*") else re.escape(p) for p in term.split())
    return rf"(?<!\w){body}(?!\w)"


def _is_form_word(word: str) -> bool:
    """A term part matched by its inflected forms: a Cyrillic word without `*` or a hyphen."""
    return not word.endswith("*") and _CYRILLIC_RE.search(word) is not None and not _HYPHEN_RE.search(word)


def _part(word: str, forms: dict[str, frozenset[str]]) -> tuple[str, object]:
    """One word of a term: ("*", prefix), ("~", its forms) for a Russian word, ("=", word) otherwise."""
    if word.endswith("*"):
        return "*", word[:-1]
    if word in forms:
        return "~", forms[word]
    return "=", word


class TermMatcher:
    """Finds every concept's terms in normalised text, sentence by sentence.

    Latin/Cyrillic terms are sequences of word parts, each exact, a prefix (`japan*`) or the set of a
    Russian word's forms; they are indexed by their first part (a form set under each of its forms). The distinct words of a text are checked against that index first
    (set operations, a few dict lookups per distinct word), and only the positions of words that
    can start a term are examined, so a text that names nothing costs one tokenising pass.
    Japanese/Chinese/Korean terms are literals (or `re:` patterns) found with one regex alternation
    per concept, and placed in sentences by their offsets.
    """

    def __init__(self, concept_terms: dict[str, list[str]]):
        # A term is a tuple of parts (kind, value): "=" an exact word, "*" a prefix, "~" a frozenset
        # of word forms. Terms are indexed by their first part: exact words and every word form in one
        # dict, prefixes by their length.
        Entry = tuple  # (concept, parts)
        self.exact_first: dict[str, list[Entry]] = {}
        self.prefix_first: dict[str, list[Entry]] = {}
        form_words = sorted(
            {
                w
                for terms in concept_terms.values()
                for term in terms
                if not term.strip().startswith("re:")
                for w in unicodedata.normalize("NFKC", term).casefold().split()
                if _is_form_word(w)
            }
        )
        forms = word_forms(form_words)
        lengths: set[int] = set()
        self.cjk: dict[str, re.Pattern[str]] = {}
        for concept, terms in concept_terms.items():
            literals: list[str] = []
            patterns: list[str] = []
            for term in terms:
                raw = term.strip()
                if raw.startswith("re:"):
                    try:
                        re.compile(raw[3:])
                    except re.error as exc:
                        raise ValueError(f"term {raw!r}: not a valid regular expression ({exc})") from None
                    patterns.append(raw[3:])
                    continue
                t = unicodedata.normalize("NFKC", raw).casefold().strip()
                if not t:
                    continue
                if _CJK_RE.search(t):
                    literals.append(t.rstrip("*"))
                    continue
                parts = tuple(_part(p, forms) for p in t.split())
                kind, head = parts[0]
                entry = (concept, parts)
                if kind == "*":
                    self.prefix_first.setdefault(head, []).append(entry)
                    lengths.add(len(head))
                elif kind == "~":
                    for form in head:
                        self.exact_first.setdefault(form, []).append(entry)
                else:
                    self.exact_first.setdefault(head, []).append(entry)
            if literals or patterns:
                alts = [re.escape(t) for t in sorted(set(literals), key=len, reverse=True)] + patterns
                self.cjk[concept] = re.compile("|".join(alts))
        for table in (self.exact_first, self.prefix_first):
            for key in table:
                table[key].sort(key=lambda e: len(e[1]), reverse=True)  # longest phrase wins
        self.exact_keys = frozenset(self.exact_first)
        self.lengths = sorted(lengths, reverse=True)
        self.starts = frozenset(k[:2] for k in self.prefix_first)
        self.min_prefix = min(lengths) if lengths else 0
        # What was worked out about words already met: (words checked, those that start a prefix
        # term) and each head's plan (see _heads, _plan).
        self._seen: tuple[set[str], set[str]] = (set(), set())
        self._plans: dict[str, tuple[list, list[str] | None]] = {}

    def _heads(self, words: set[str]) -> set[str]:
        """The words that can start a term (exact first parts and word forms, words with a prefix term's
        head). Whether a word starts a prefix term is worked out once and kept (`_seen`)."""
        seen = self._seen  # one pair, read once: a full memo is replaced by a new pair, never emptied
        known, prefix_heads = seen
        new = words - known  # first: a word known by now is in prefix_heads already if it is one
        heads = (words & self.exact_keys) | (words & prefix_heads)
        if not new:
            return heads
        if len(known) > MEMO_MAX_WORDS:
            self._seen = seen = (set(), set())
            known, prefix_heads = seen
        starts, prefix, lengths, shortest = self.starts, self.prefix_first, self.lengths, self.min_prefix
        for w in new:
            if w[:2] in starts and len(w) >= shortest:
                for length in lengths:
                    if length <= len(w) and w[:length] in prefix:
                        heads.add(w)
                        prefix_heads.add(w)  # before `known`: a known word not in it is surely no head
                        break
            known.add(w)
        return heads

    def _candidates(self, tok: str) -> list:
        cands = list(self.exact_first.get(tok, ()))
        if tok[:2] in self.starts:
            for length in self.lengths:
                if length <= len(tok):
                    cands += self.prefix_first.get(tok[:length], ())
        return cands

    def _plan(self, tok: str) -> tuple[list, list[str] | None]:
        """(the terms a head can start, longest first; its concepts when all those terms are one
        word, else None), kept between texts."""
        plans = self._plans
        plan = plans.get(tok)
        if plan is None:
            cands = self._candidates(tok)
            single = list(dict.fromkeys(c for c, _ in cands)) if all(len(p) == 1 for _, p in cands) else None
            plan = (cands, single)
            if len(plans) > MEMO_MAX_WORDS:
                self._plans = plans = {}
            plans[tok] = plan
        return plan

    def names_anything(self, text: str, words: set[str] | None = None) -> bool:
        """Could the text contain any term at all? (The cheap first look; no segmentation.) `words` is
        `text_words(text)` when the caller has it already."""
        if self.cjk and _CJK_RE.search(text):
            return True
        return bool(self._heads(text_words(text) if words is None else words))

    def first_look(self, text: str, words: set[str]) -> set[str] | None:
        """`names_anything` that hands back what it found: the words of `words` (= `text_words(text)`)
        that can start a term, or None when the text can contain no term at all. `find` takes them
        for the same text, so they are worked out once."""
        heads = self._heads(words)
        return heads if heads or (self.cjk and _CJK_RE.search(text)) else None

    def find(
        self, text: str, seg: Segments | None = None, *, checked: bool = False, heads: set[str] | None = None
    ) -> dict[str, list[tuple[int, str]]]:
        """{concept: [(sentence index, matched term), ...]} for a normalised text (`checked`: the
        caller has seen `names_anything` say yes; `heads`: `first_look`'s answer for this very text,
        whose words are the tokens of its segments)."""
        out: dict[str, list[tuple[int, str]]] = {}
        if not checked and not self.names_anything(text):
            return out  # the common case: a text that names nothing of the topic
        seg = seg or segment(text)
        toks, sids = seg.tokens, seg.sids
        n = len(toks)
        if heads is None:
            heads = self._heads(set(toks))
        plan = self._plan
        for i in [i for i, tok in enumerate(toks) if tok in heads]:
            tok = toks[i]
            cands, concepts = plan(tok)
            if concepts is not None:  # every term it starts is this one word
                for concept in concepts:
                    out.setdefault(concept, []).append((sids[i], tok))
                continue
            done: set[str] = set()
            for concept, parts in cands:
                if concept in done:
                    continue
                k = len(parts)
                if i + k > n:
                    continue
                # the first part is `tok` itself (that is how the term was found); check the others
                for j in range(1, k):
                    kind, value = parts[j]
                    t = toks[i + j]
                    if not (t == value if kind == "=" else t.startswith(value) if kind == "*" else t in value):
                        break
                else:
                    term = tok if k == 1 else " ".join(toks[i : i + k])
                    out.setdefault(concept, []).append((sids[i], term))
                    done.add(concept)
        if self.cjk and _CJK_RE.search(text):
            for concept, regex in self.cjk.items():
                found = [(seg.sentence_at(m.start()), m.group(0)) for m in regex.finditer(text)]
                if found:
                    out.setdefault(concept, []).extend(found)
        return out


def text_words(text: str) -> set[str]:
    """The distinct words of a text, hyphenated compounds also by their parts."""
    words = set(_TOKEN_RE.findall(text))
    words.update(part for w in [w for w in words if "-" in w or "–" in w] for part in _HYPHEN_RE.split(w))
    return words


class _PhraseScreen:
    """Could any of a list of phrases occur in a text? Yes only if every word of one phrase is among the
    text's words (a `*` part as a prefix of one), or a CJK phrase's literal part is in the text; `re:`
    phrases always might. A screen, not a match: it only spares a regex scan of texts that cannot match."""

    def __init__(self, terms: list[str]):
        self.word_terms: list[tuple[frozenset[str], tuple[str, ...]]] = []
        self.cjk_literals: list[str] = []
        self.always = False
        for term in terms:
            if term.startswith("re:"):
                self.always = True
                continue
            t = unicodedata.normalize("NFKC", term).casefold().strip()
            if not t:
                continue
            if _CJK_RE.search(t):
                self.cjk_literals.append(t.rstrip("*"))
                continue
            parts = [p for w in t.split() for p in _HYPHEN_RE.split(w) if p]
            self.word_terms.append(
                (frozenset(p for p in parts if not p.endswith("*")), tuple(p[:-1] for p in parts if p.endswith("*")))
            )

    def may_occur(self, text: str, words: set[str]) -> bool:
        if self.always:
            return True
        if self.cjk_literals and _CJK_RE.search(text) and any(lit in text for lit in self.cjk_literals):
            return True
        for exact, prefixes in self.word_terms:
            if exact <= words and all(any(w.startswith(pre) for w in words) for pre in prefixes):
                return True
        return False


# --- sentences ------------------------------------------------------------------------------------
# A token is a word (_TOKEN_RE); a sentence break is a run of end punctuation, line breaks or "; ". A
# lone full stop between word characters is inside a token ("u.s.s.r", "3.5", "example.com"), so it
# breaks nothing; a full stop after an abbreviation or an initial ends nothing; nor does a semicolon
# with no space after it. A break run with a line break also ends the paragraph: headings and list
# items stay apart. Break runs are found by one regex pass and the words between two breaks by
# another (in C), so the Python loop runs once per sentence, not once per word.
_BREAK_RE = re.compile(r"[.!?。！？\n;]+")


def _inside_word(text: str, start: int, end: int) -> bool:
    """Is the break text[start:end] a lone full stop between word characters (part of a token)?"""
    return (
        end - start == 1
        and text[start] == "."
        and 0 < start
        and end < len(text)
        and bool(_WORD_CHAR_RE.match(text[start - 1]))
        and bool(_WORD_CHAR_RE.match(text[end]))
    )


_WORD_CHAR_RE = re.compile(r"\w")


@dataclass
class Segments:
    tokens: list[str]
    sids: list[int]  # sentence index of each token
    starts: list[int]  # character offset where each sentence starts
    paragraphs: list[int]  # paragraph index of each sentence

    def sentence_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    @property
    def count(self) -> int:
        return len(self.starts)


def segment(norm_text: str) -> Segments:
    """Tokens, sentences and paragraphs of a normalised text (line breaks kept).
    Hyphenated compounds also yield their parts (pro-russian -> pro-russian, pro, russian)."""
    toks: list[str] = []
    sids: list[int] = []
    starts = [0]
    paras = [0]
    k = para = 0
    prev = ""
    hyphens = "-" in norm_text or "–" in norm_text
    pos = 0
    end = len(norm_text)
    find = _BREAK_RE.search
    while True:
        m = find(norm_text, pos)
        while m is not None and _inside_word(norm_text, m.start(), m.end()):
            m = find(norm_text, m.end())
        upto = m.start() if m else end
        words = _TOKEN_RE.findall(norm_text, pos, upto) if upto > pos else ()
        if words:
            if hyphens and any("-" in w or "–" in w for w in words):
                for tok in words:
                    toks.append(tok)
                    sids.append(k)
                    if "-" in tok or "–" in tok:
                        parts = _HYPHEN_RE.split(tok)
                        toks += parts
                        sids += [k] * len(parts)
            else:
                toks += words
                sids += [k] * len(words)
            prev = words[-1]
        if m is None:
            break
        pos = m.end()
        brk = m.group()
        if brk == "." and prev and (prev in ABBREVIATIONS or (len(prev) == 1 and prev.isalpha())):
            continue
        if brk == ";" and not norm_text[pos : pos + 1].isspace():
            continue
        k += 1
        if "\n" in brk:
            para += 1
        starts.append(pos)
        paras.append(para)
        prev = ""
    return Segments(toks, sids, starts, paras)


def normalize_lines(text: str) -> str:
    """NFKC and casefold, line breaks kept, whitespace inside each line collapsed (the scorer's
    input: lines are paragraphs, headings and list items)."""
    norm = unicodedata.normalize("NFKC", text).casefold()
    return "\n".join(" ".join(line.split()) for line in norm.split("\n"))
