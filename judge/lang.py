"""Language detection for stored posts: script rules first, py3langid for the rest.

Kana means Japanese and Hangul Korean without asking a model; otherwise py3langid (a compact
langid.py model, about 0.7 ms on the first LANG_SAMPLE characters) decides. A page's own locale is
used only when the text is too short to judge.
"""

from __future__ import annotations

import re

#: Characters looked at. Language is settled well within the first 1,000 characters of a post, and
#: the model's cost grows with the input.
LANG_SAMPLE = 1000
#: Below this many letters, trust the page's locale hint over the model.
MIN_LETTERS_FOR_MODEL = 40
#: Share of letters in kana (Japanese syllabaries) from which a text is Japanese.
KANA_MIN_SHARE = 0.05

_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")

def _hint_code(hint: str | None) -> str | None:
    if not hint:
        return None
    code = hint.strip().replace("_", "-").split("-")[0].lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


def detect(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of a text's language, or the hint's, or None."""
    sample = (text or "")[:LANG_SAMPLE]
    letters = sum(1 for ch in sample if ch.isalpha())
    if letters < MIN_LETTERS_FOR_MODEL:
        return _hint_code(hint)
    if len(_KANA_RE.findall(sample)) / letters >= KANA_MIN_SHARE:
        return "ja"
    if len(_HANGUL_RE.findall(sample)) / letters >= KANA_MIN_SHARE:
        return "ko"
    if len(_HAN_RE.findall(sample)) / letters >= 0.5:
        return "zh"
    import py3langid

    lang, _ = py3langid.classify(sample)
    return lang
