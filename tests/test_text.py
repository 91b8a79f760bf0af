"""Text clean-up and normalisation (judge.text) and the seed's own text file (judge.article)."""

from helpers import SEED_FILE
from judge.article import parse_text_article
from judge.fingerprint import overlap, shingles
from judge.text import clean_text, content_hash, normalize, strip_controls, tokens


def test_seed_file_parses_to_clean_title_date_and_body():
    art = parse_text_article(SEED_FILE.read_text("utf-8"))
    assert art["title"] == "What Russia Wants From Its Dialogue With Japan"
    assert art["published"] == "2017-03-20"
    body = art["text"]
    assert body.startswith("The building in Tokyo where Russo-Japanese talks")
    assert body.endswith("remains uncertain.")
    for chrome in ("lunes, 20 de marzo", "(02)", "No hay comentarios", "Publicar un comentario"):
        assert chrome not in body


def test_gbk_mojibake_emoji_is_repaired():
    assert "🇷🇺" in clean_text("— MFA Russia 馃嚪馃嚭 (@mfa_russia)")


def test_real_chinese_text_is_left_alone():
    text = "北方领土问题是日俄关系的核心。"
    assert clean_text(text) == text


def test_mojibake_fixed_or_not_gives_the_same_tokens():
    broken = normalize(clean_text("MFA Russia 馃嚪馃嚭 (@mfa_russia) said the talks went well"))
    fixed = normalize(clean_text("MFA Russia 🇷🇺 (@mfa_russia) said the talks went well"))
    removed = normalize(clean_text("MFA Russia (@mfa_russia) said the talks went well"))
    # Even when a run is left unrepaired, stray CJK tokens are dropped from a spaced-script text.
    unrepaired = normalize("mfa russia 北方 (@mfa_russia) said the talks went well")
    assert tokens(broken) == tokens(fixed) == tokens(removed) == tokens(unrepaired)
    assert content_hash(tokens(broken)[1]) == content_hash(tokens(fixed)[1])


def test_chrome_lines_in_several_languages_are_removed():
    body = "\n".join(
        [
            "Real first paragraph about the talks.",
            "Share to Twitter",
            "Share to Facebook",
            "Email This",
            "BlogThis!",
            "Leer más",
            "Lire la suite",
            "No comments:",
            "Post a Comment",
            "Aucun commentaire:",
            "Publier un commentaire",
            "Keine Kommentare:",
            "Kommentar veröffentlichen",
            "Нет комментариев:",
            "Отправить комментарий",
            "コメントを投稿",
            "Newer Post",
            "Older Post",
            "Home",
            "Subscribe to: Post Comments (Atom)",
            "Posted by Ivan Petrov at 10:32 AM",
            "Labels: diplomacy, Japan",
            "Real last paragraph: Read more about the treaty in our archive, which is a sentence.",
        ]
    )
    assert clean_text(body).split("\n") == [
        "Real first paragraph about the talks.",
        "Real last paragraph: Read more about the treaty in our archive, which is a sentence.",
    ]


def test_control_characters_and_ansi_escapes_are_stripped():
    assert strip_controls("\x1b[31mred\x1b[0m title\x07 \x1b]0;pwned\x07ok") == "red title ok"


def test_normalize_folds_case_width_and_space():
    assert normalize("Ｒｕｓｓｉａ  AND\tJAPAN\n") == "russia and japan"


def test_japanese_text_uses_character_shingles():
    mode, toks = tokens(normalize("日露首脳会談が東京で行われた。北方領土問題を協議した。"))
    assert mode == "char"
    assert toks[:4] == ["日", "露", "首", "脳"]


def test_containment_survives_added_commentary():
    seed = parse_text_article(SEED_FILE.read_text("utf-8"))["text"]
    mode, seed_toks = tokens(normalize(clean_text(seed)))
    before = " ".join(f"opening{i}" for i in range(150))
    after = " ".join(f"closing{i}" for i in range(150))
    post = before + "\n" + seed + "\n" + after
    _, post_toks = tokens(normalize(clean_text(post)))
    o = overlap(shingles(mode, seed_toks), shingles(mode, post_toks))
    assert o.containment > 0.99
    assert o.jaccard < 0.8  # the post is much more than the seed; containment is what tells a copy


# --- the screen in front of ftfy must give ftfy's own answer -------------------------------------


def _expand(char_class: str) -> list[str]:
    out, i = [], 0
    while i < len(char_class):
        if i + 2 < len(char_class) and char_class[i + 1] == "-":
            out += [chr(c) for c in range(ord(char_class[i]), ord(char_class[i + 2]) + 1)]
            i += 3
        else:
            out.append(char_class[i])
            i += 1
    return out


def _mojibake_alphabet() -> list[str]:
    import ftfy.badness

    chars = {ch for cls in ftfy.badness.MOJIBAKE_CATEGORIES.values() for ch in _expand(cls)}
    # ASCII context, the letters ftfy's specific patterns name, and ordinary accented/Cyrillic text
    return sorted(chars) + list("abcxyzABCXYZ .,?!\n\t\xa0\r") + list("ВГРСвўΒΓΞΟβāÃÂáéñóüя")


def test_screened_lines_are_never_ones_ftfys_heuristic_calls_bad():
    import random

    import ftfy.badness

    from judge.text import _SIGNAL_RE, _needs_ftfy

    rng = random.Random(5)
    alphabet = _mojibake_alphabet()
    quiet = [ch for ch in alphabet if not _SIGNAL_RE.match(ch)]
    assert len(quiet) > 100  # lower-case accents, Cyrillic and Greek letters, ASCII
    bad = 0
    for _ in range(60_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
        if ftfy.badness.is_bad(s):
            bad += 1
            assert _needs_ftfy(s), repr(s)
        # with no signal character, ftfy's heuristic must never fire
        q = "".join(rng.choice(quiet) for _ in range(rng.randint(1, 10)))
        assert not ftfy.badness.is_bad(q), repr(q)
    assert bad > 10_000  # the sample exercised the heuristic


def test_fix_mojibake_equals_ftfy_on_long_mixed_text():
    import random

    import ftfy

    from judge.text import _FTFY_CONFIG, fix_mojibake

    rng = random.Random(9)
    alphabet = _mojibake_alphabet() + list("abcdefgh ") * 20  # signal characters far apart too
    for _ in range(3_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        if s.isascii():
            continue
        assert fix_mojibake(s) == ftfy.fix_text(s, _FTFY_CONFIG), repr(s)
    for s in (
        "voilÃ le travail",
        "sÃ³lo",
        "Ã ",
        "x\nÃ  y",
        "â€œquotedâ€\x9d",
        "РЎР»Р°РІР°",
        "caf\u0065\u0301",
        "line\r\nbreak\u2028here",
        "ä\x1b[31mred",
        "Ù’Ù’",
        "ГўВЂВ.x",
    ):
        assert fix_mojibake(s) == ftfy.fix_text(s, _FTFY_CONFIG), repr(s)


def test_gbk_runs_are_repaired_as_whole_runs_only():
    import random
    import re

    from judge.text import _repair_gbk_run, fix_mojibake

    # the plain rule: every maximal run of 2+ ideographs is tried
    every_run = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
    flag = "馃嚪馃嚭"
    rng = random.Random(2)
    pieces = [flag, "中文", "北方领土", "日本", "馃", "嚪", " ", "x", "。", "ロシア"]
    for _ in range(2_000):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        assert fix_mojibake(s) == every_run.sub(_repair_gbk_run, s), repr(s)
    assert fix_mojibake(f"Rusia {flag} y Japón") == "Rusia 🇷🇺 y Japón"


def test_signature_is_datasketchs_minhash():
    import random

    import numpy as np
    from datasketch import MinHash

    from judge import fingerprint

    rng = random.Random(3)
    sets = [{rng.getrandbits(32) for _ in range(rng.randint(1, 900))} for _ in range(100)] + [set(), {0, 2**32 - 1}]
    for sh in sets:
        m = MinHash(
            num_perm=fingerprint.NUM_PERM,
            seed=fingerprint.MINHASH_SEED,
            hashfunc=int,
            scheme=fingerprint.MINHASH_SCHEME,
        )
        if sh:
            m.update_batch(list(sh))
        assert np.array_equal(fingerprint.signature(sh), m.hashvalues.astype(np.uint32))


def test_whitespace_inside_a_line_collapses_as_the_spaces_class_says():
    import random

    from judge.text import _SPACES_RE, clean_text, fix_mojibake

    rng = random.Random(6)
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    alphabet = spaces + list("ab\x1f\x00") * 4
    for _ in range(20_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        lines = [_SPACES_RE.sub(" ", raw).strip() for raw in strip_controls(fix_mojibake(s)).splitlines()]
        assert clean_text(s) == "\n".join(x for x in lines if x), repr(s)
    assert normalize(" A\u3000b\t\u00a0c \n") == "a b c"
