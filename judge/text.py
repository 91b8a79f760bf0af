"""Text clean-up and normalisation: the one way every comparison sees a post's words.

Two forms come out of a post body:
- `clean_text`: what we store and show. Mojibake repaired (ftfy, plus GBK-decoded emoji), control
  characters and Blogger chrome lines removed (comment headers and footers, share widgets, "Read
  more" links, pagers, "Posted by" lines), whitespace collapsed, block boundaries kept as newlines.
- `normalize`: what we compare. The clean text, Unicode NFKC, casefolded, one line.

Tokenising for shingles (`tokens`) picks words for spaced scripts and characters for Japanese and
Chinese; in a spaced-script text, stray CJK tokens are dropped, so mojibake such as the seed's
"馃嚪馃嚭" (a Russian-flag emoji decoded as GBK) cannot change a verdict, fixed or not.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import ftfy
import ftfy.badness
import ftfy.chardata

# --- mojibake ---------------------------------------------------------------------------------

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # bodies come out of an HTML parser already unescaped
    uncurl_quotes=False,
    fix_character_width=False,  # NFKC in `normalize` handles width for comparison
    fix_latin_ligatures=False,
    normalization="NFC",
    explain=False,
)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
# ftfy.fix_text's segments: each line with its newline.
_SEGMENT_RE = re.compile(r"[^\n]*\n|[^\n]+")
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def _gbk_utf8_leads() -> str:
    """Ideographs whose GBK encoding starts with a byte that can open a 3- or 4-byte UTF-8 sequence
    (0xE0-0xF4): a run of mis-decoded UTF-8 starts with one of them."""
    out = []
    for a in range(0xE0, 0xF5):
        for b in range(0x40, 0xFF):
            try:
                out.append(bytes([a, b]).decode("gbk"))
            except UnicodeDecodeError:
                continue
    return "".join(sorted(set(out)))


_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Runs of CJK ideographs that may be UTF-8 bytes mis-decoded as GBK (the seed's flag emoji): whole
# runs (2+ ideographs) whose first one could start such a sequence; other runs, which is almost all
# real Chinese and Japanese text, are passed over without a round trip.
_CJK_RUN_RE = re.compile(f"(?<![{_CJK}])[{re.escape(_gbk_utf8_leads())}][{_CJK}]+")
_IDEOGRAPH_RE = re.compile(f"[{_CJK}]")


def _repair_gbk_run(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        fixed = run.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run
    # Only a run that decodes to symbols (emoji, flags, pictographs) is mojibake; real Chinese text
    # almost never survives the round trip, and when it does it yields letters, not symbols.
    if fixed and all(unicodedata.category(ch)[0] in "S" or ch in "\u200d\ufe0f" for ch in fixed):
        return fixed
    return run


# ftfy's fix_text works line by line, and on a line it changes nothing unless (a) its mojibake
# heuristic (ftfy.badness.BADNESS_RE) matches, (b) one of its other fixers (C1 controls, line
# breaks, surrogates, terminal escapes, control characters) finds its characters, or (c) NFC
# changes it. Running the heuristic is most of ftfy's cost (~0.4 ms per 3 KB of accented or
# Cyrillic text), so lines are screened first, with the same answer:
# - every alternative of BADNESS_RE contains a "signal" character: one from the categories below,
#   or an upper-case accented letter, or one of a few letters named in specific patterns (œ/Œ,
#   Ù, Ђ, the degree sign). Lower-case accents (é, ñ, ó), Cyrillic and Greek letters alone never
#   match. tests/test_text.py checks this against ftfy's own regex on random strings;
# - a match is at most _BAD_MAX_SPAN characters long, so on a line with signal characters the
#   heuristic is run only on a window around each of them.
_SIGNAL_CATEGORIES = (
    "c1",
    "bad",
    "law",
    "currency",
    "start_punctuation",
    "end_punctuation",
    "numeric",
    "box",
    "upper_accented",
)
_SIGNAL_EXTRA = "œŒÙЂ°"
_SIGNAL_RE = re.compile(
    "[" + "".join(ftfy.badness.MOJIBAKE_CATEGORIES[c] for c in _SIGNAL_CATEGORIES) + re.escape(_SIGNAL_EXTRA) + "]"
)
#: Longest text one BADNESS_RE alternative matches ("ГўВЂВ.x" is 7 characters), plus one.
_BAD_MAX_SPAN = 8
# Characters some other ftfy fixer acts on (its control-character table, C1 controls, \r and
# Unicode line separators, surrogates, ESC): a line holding one goes to ftfy whole.
_FIXER_RE = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in sorted(ftfy.chardata.CONTROL_CHARS))
    + "\x80-\x9f\r\u2028\u2029\ud800-\udfff\x1b]"
)


def _needs_ftfy(line: str) -> bool:
    """Would ftfy.fix_text change this line (one segment of it, up to and including a newline)?"""
    if (
        len(line) > _FTFY_CONFIG.max_decode_length
        or _FIXER_RE.search(line)
        or not unicodedata.is_normalized("NFC", line)
    ):
        return True
    # Windows of _BAD_MAX_SPAN either side of each signal character, overlapping ones merged.
    search, span, n = ftfy.badness.BADNESS_RE.search, _BAD_MAX_SPAN, len(line)
    lo = hi = None
    for m in _SIGNAL_RE.finditer(line):
        i = m.start()
        if hi is not None and i - span <= hi:
            hi = i + span
            continue
        if hi is not None and search(line, lo, min(n, hi)):
            return True
        lo, hi = max(0, i - span), i + span
    return hi is not None and bool(search(line, lo, min(n, hi)))


def fix_mojibake(text: str) -> str:
    """Repair mis-decoded text (ftfy) and GBK-decoded emoji runs; ASCII text passes untouched.

    Same result as `ftfy.fix_text(text, _FTFY_CONFIG)`, but ftfy only sees the lines that it
    would change (see `_needs_ftfy`)."""
    if text.isascii():
        return text
    if not _SIGNAL_RE.search(text) and not _FIXER_RE.search(text) and unicodedata.is_normalized("NFC", text):
        fixed = text  # the common case: clean accented, Cyrillic or CJK text
    else:
        fixed = "".join(
            ftfy.fix_text(line, _FTFY_CONFIG) if _needs_ftfy(line) else line for line in _SEGMENT_RE.findall(text)
        )
    return _CJK_RUN_RE.sub(_repair_gbk_run, fixed) if _IDEOGRAPH_RE.search(fixed) else fixed


def strip_controls(text: str) -> str:
    """Remove ANSI escape sequences and control characters (keeps newlines and tabs)."""
    return _CONTROL_RE.sub("", _ANSI_RE.sub("", text))


# What strip_controls leaves that a terminal still obeys: carriage returns and the bidirectional
# controls (LRM, RLM, ALM, the embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069).
_BIDI_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS_RE = re.compile(r"\r\n?|[\n\t\v\f\x1c-\x1e\x85\u2028\u2029]")


def terminal_text(text: str, *, multiline: bool = False) -> str:
    """Text as it may reach a terminal: no escape sequences, no C0/C1 controls, no bidi controls.
    Line breaks (CR LF, a lone CR) become newlines where `multiline`, else spaces, like tabs.
    The CLI's printers (rjwatch.output) and the console alert channel both use it."""
    text = _BIDI_RE.sub("", text)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = _BREAKS_RE.sub(" ", text)
    return strip_controls(text)


# --- Blogger chrome -------------------------------------------------------------------------------

# Whole lines (compared casefolded, trailing punctuation ignored) that Blogger templates add around
# a post body in the languages we watch: en, es, fr, de, ru, ja, plus pt/it where cheap.
_CHROME_PHRASES = [
    # comment headers and forms
    r"no comments?",
    r"\d+ comments?",
    r"post a comment",
    r"leave a comment",
    r"add comment",
    r"no hay comentarios",
    r"\d+ comentarios?",
    r"publicar un comentario",
    r"deja un comentario",
    r"aucun commentaire",
    r"\d+ commentaires?",
    r"publier un commentaire",
    r"keine kommentare",
    r"\d+ kommentare?",
    r"kommentar veröffentlichen",
    r"kommentar posten",
    r"нет комментариев",
    r"комментариев нет",
    r"\d+ комментари[йяев]+",
    r"отправить комментарий",
    r"コメントはありません",
    r"\d+ 件のコメント",
    r"コメントを投稿",
    r"コメント",
    r"nenhum comentário",
    r"postar um comentário",
    r"nessun commento",
    r"posta un commento",
    # pagers and subscription links
    r"newer posts?",
    r"older posts?",
    r"home",
    r"subscribe to: post comments \(atom\)",
    r"subscribe to: posts \(atom\)",
    r"entrada más reciente",
    r"entradas? antiguas?",
    r"página principal",
    r"suscribirse a: (enviar comentarios|entradas) \(atom\)",
    r"article plus récent",
    r"article plus ancien",
    r"accueil",
    r"inscription à : .*",
    r"neuerer post",
    r"älterer post",
    r"startseite",
    r"abonnieren: .*",
    r"следующее",
    r"предыдущее",
    r"главная страница",
    r"подписаться на: .*",
    r"次の投稿",
    r"前の投稿",
    r"ホーム",
    r"登録: .*",
    # share widgets
    r"share to (twitter|facebook|pinterest|x)",
    r"share this( post)?",
    r"email this",
    r"blogthis!?",
    r"compartir en (twitter|facebook|pinterest|x)",
    r"enviar por correo electrónico",
    r"escribe un blog",
    r"partager sur (twitter|facebook|pinterest|x)",
    r"envoyer par e-mail",
    r"bloguer ceci",
    r"auf (twitter|facebook|pinterest|x) teilen",
    r"per e-mail versenden",
    r"diesen post bloggen",
    r"blog this!",
    r"написать об этом в блоге",
    r"поделиться в (twitter|facebook|pinterest|x)",
    r"отправить по электронной почте",
    r"twitter で共有する",
    r"facebook で共有する",
    r"メールで送信",
    r"blogthis!",
    # read-more links
    r"read more( »| »)?",
    r"continue reading",
    r"leer más",
    r"seguir leyendo",
    r"lire la suite",
    r"weiterlesen",
    r"mehr lesen",
    r"читать далее",
    r"читать дальше",
    r"続きを読む",
    r"もっと読む",
    # attribution lines
    r"(posted by|publicado por|publié par|eingestellt von|опубликовано|автор:?|投稿者:?) .{1,60}",
    r"(labels|etiquetas|libellés|labels|ярлыки|ラベル) ?: .{0,200}",
    r"powered by blogger",
    r"con la tecnología de blogger",
    r"fourni par blogger",
    r"bereitgestellt von blogger",
    r"на платформе blogger",
    r"提供: blogger",
]
_CHROME_RE = re.compile(r"^(?:" + "|".join(_CHROME_PHRASES) + r")[\s.:!·…»>-]*$", re.IGNORECASE)
#: Chrome lines are short; a longer line is article text even if it starts like a chrome phrase.
CHROME_MAX_LINE = 160


def is_chrome_line(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= CHROME_MAX_LINE and bool(_CHROME_RE.match(s.casefold()))


_SPACES_RE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def clean_text(text: str) -> str:
    """The stored form of a body: repaired, control characters and chrome lines removed."""
    text = strip_controls(fix_mojibake(text or ""))
    lines = []
    for raw in text.splitlines():
        # What is left of whitespace inside a line (controls are gone, line breaks split on) is
        # exactly _SPACES_RE's class, so str.split() collapses it as _SPACES_RE would, ~3x faster.
        line = " ".join(raw.split())
        if line and not is_chrome_line(line):
            lines.append(line)
    return "\n".join(lines)


def clean_title(title: str | None) -> str | None:
    if not title:
        return None
    title = _SPACES_RE.sub(" ", strip_controls(fix_mojibake(title)).replace("\n", " ")).strip()
    return title or None


# --- comparison form ------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC, casefold, whitespace collapsed to single spaces (input is already `clean_text`)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())  # split(): runs of \s


_WORD_RE = re.compile(r"\w+")
_NON_LETTERS_RE = re.compile(r"[\W\d_]+")
_CJK_CHAR_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_CJK_TOKEN_RE = re.compile(r"^[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]+$")
_CHAR_KEEP_RE = re.compile(r"[\W_]+")

#: A text is compared by characters when at least this share of its letters are CJK. Japanese news
#: prose is 90%+ CJK; an English article quoting 北方領土 or carrying mojibake is well under 5%.
CJK_MODE_MIN_SHARE = 0.3
#: Characters sampled to decide the script; the first 2,000 settle it for real posts.
SCRIPT_SAMPLE = 2000


def script_mode(norm: str) -> str:
    """'char' for Japanese/Chinese/Korean text, 'word' for spaced scripts."""
    sample = norm[:SCRIPT_SAMPLE]
    if not _CJK_CHAR_RE.search(sample):
        return "word"
    letters = len(_NON_LETTERS_RE.sub("", sample))
    cjk = len(_CJK_CHAR_RE.findall(sample))
    return "char" if letters and cjk / letters >= CJK_MODE_MIN_SHARE else "word"


def tokens(norm: str, mode: str | None = None) -> tuple[str, list[str]]:
    """Comparison tokens of a normalised text: `(mode, tokens)`.

    Word mode: `\\w+` runs, minus all-CJK tokens (mojibake noise in spaced text). Char mode: the
    letters and digits of the text, one token per character.
    """
    mode = mode or script_mode(norm)
    if mode == "char":
        return mode, list(_CHAR_KEEP_RE.sub("", norm))
    words = _WORD_RE.findall(norm)
    if not _CJK_CHAR_RE.search(norm):
        return mode, words
    return mode, [t for t in words if t.isascii() or not _CJK_TOKEN_RE.match(t)]


def has_cjk(*texts: str | None) -> bool:
    """Does any of the texts contain a Japanese, Chinese or Korean character? (Such posts also go
    into the trigram search index.)"""
    return any(t and _CJK_CHAR_RE.search(t) for t in texts)


def content_hash(toks: list[str]) -> str:
    """Hash of the token stream: equal for texts that differ only in case, spacing, markup or noise."""
    return hashlib.blake2b(" ".join(toks).encode("utf-8"), digest_size=16).hexdigest()
