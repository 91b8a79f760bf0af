"""Text clean-up and normalisation (judge.text) and the seed's own text file (judge.article)."""

from judge.article import parse_text_article
from judge.fingerprint import overlap, shingles
from judge.text import clean_text, content_hash, normalize, strip_controls, tokens

from conftest import SEED_FILE


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
    body = "\n".join([
        "Real first paragraph about the talks.",
        "Share to Twitter", "Share to Facebook", "Email This", "BlogThis!", "Leer más", "Lire la suite",
        "No comments:", "Post a Comment", "Aucun commentaire:", "Publier un commentaire",
        "Keine Kommentare:", "Kommentar veröffentlichen", "Нет комментариев:", "Отправить комментарий",
        "コメントを投稿", "Newer Post", "Older Post", "Home", "Subscribe to: Post Comments (Atom)",
        "Posted by Ivan Petrov at 10:32 AM", "Labels: diplomacy, Japan",
        "Real last paragraph: Read more about the treaty in our archive, which is a sentence.",
    ])
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
