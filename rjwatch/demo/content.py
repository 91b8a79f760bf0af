"""The curated texts of the demo network: blogs, posts, news stories and the late posts.

This module owns *what the demo says*: the five demo blogs' settings (title, template, locale,
author) and every post on them, the news site's stories, and the two posts a demo publishes
while it runs. It is what the classifier is shown, so it covers the cases that matter:

- copies of the seed article (`rjwatch/data/seeds/000_2726ccec86287c13.txt`, read from the
  package data, never retyped here): a full copy with a blogger's commentary, a full copy with
  the flag mojibake fixed and small edits, a two-paragraph excerpt, a truncated repost ending
  in "Leer más", and (late) one more full copy;
- new Russia-Japan coverage in English, Spanish, Russian, Japanese and German (peace treaty
  talks, the Kurils / 北方領土 / Курилы, fisheries, sanctions, visa-free exchanges);
- a syndicated pair across two blogs (new headline, one sentence changed);
- off-topic posts that share vocabulary with the topic (a recipe, a volleyball result
  "Russia beat Japan", a Tokyo travel note).

All texts except the seed are written for the demo. Dates run from 2017 to 2024.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

from rjwatch.demo.site import NewsItem, Post

# ---------------------------------------------------------------------------------------------
# Time zones and the seed

UTC = UTC
PST = timezone(timedelta(hours=-8))
PDT = timezone(timedelta(hours=-7))
CET = timezone(timedelta(hours=1))
VLAT = timezone(timedelta(hours=10))
JST = timezone(timedelta(hours=9))

SEED_FILE = "000_2726ccec86287c13.txt"

#: The seed's Russian flag as it arrived: the UTF-8 bytes of 🇷🇺 decoded as GBK.
SEED_FLAG_MOJIBAKE = "馃嚪馃嚭"
SEED_FLAG = "\U0001f1f7\U0001f1fa"

#: Page chrome at the end of the seed text (the Spanish-locale comments block), not article text.
SEED_CHROME_PREFIXES = ("No hay comentarios", "Publicar un comentario")


def seed_text() -> str:
    return resources.files("rjwatch").joinpath("data", "seeds", SEED_FILE).read_text("utf-8")


def seed_blocks() -> tuple[str, str, list[tuple]]:
    """(page title, article heading, blocks) of the seed; blocks are ("p", text) or
    ("tweet", text, attribution)."""
    lines = seed_text().splitlines()
    rest = [ln for ln in lines[1:]]
    nonempty = [i for i, ln in enumerate(rest) if ln.strip()]
    title = rest[nonempty[0]].strip()
    heading = rest[nonempty[1]].strip()
    body = [ln.strip() for ln in rest[nonempty[1] + 1 :] if ln.strip()]
    blocks: list[tuple] = []
    i = 0
    while i < len(body):
        line = body[i]
        if line.startswith(SEED_CHROME_PREFIXES):
            break
        if i + 1 < len(body) and body[i + 1].startswith("— "):
            blocks.append(("tweet", line, body[i + 1]))
            i += 2
            continue
        blocks.append(("p", line))
        i += 1
    return title, heading, blocks


def _linkify(text: str) -> str:
    out = []
    for word in text.split(" "):
        if word.startswith("http://") or word.startswith("https://"):
            out.append(f'<a href="{html.escape(word)}">{html.escape(word)}</a>')
        else:
            out.append(html.escape(word, quote=False))
    return " ".join(out)


def seed_html(*, fix_flag: bool = False, edits: dict | None = None, blocks=None, heading: bool = True) -> str:
    """The seed article as Blogger post-body HTML (paragraphs separated by `<br />`, tweets as
    embedded `blockquote.twitter-tweet`), optionally with the flag fixed and text replacements."""
    _title, head, all_blocks = seed_blocks()
    blocks = all_blocks if blocks is None else blocks

    def fix(text: str) -> str:
        if fix_flag:
            text = text.replace(SEED_FLAG_MOJIBAKE, SEED_FLAG)
        for old, new in (edits or {}).items():
            text = text.replace(old, new)
        return text

    out = ['<div dir="ltr" style="text-align: left;" trbidi="on">']
    if heading:
        out.append(f'<h2 style="text-align: left;">{html.escape(fix(head))}</h2>')
    previous = None
    for block in blocks:
        if block[0] == "p":
            if previous == "tweet":
                out.append("<br />")
            out.append(_linkify(fix(block[1])) + "<br />")
        else:
            out.append(
                '<br />\n<blockquote class="twitter-tweet" data-lang="es"><div dir="ltr" lang="en">'
                f"{_linkify(fix(block[1]))}</div>{html.escape(fix(block[2]))}</blockquote>\n"
                '<script async="" charset="utf-8" src="//platform.twitter.com/widgets.js"></script>'
            )
        previous = block[0]
    out.append("</div>")
    return "\n".join(out)


def seed_paragraphs() -> list[str]:
    """The seed's prose paragraphs (no tweets), as plain text."""
    return [b[1] for b in seed_blocks()[2] if b[0] == "p"]


def _p(*paragraphs: str) -> str:
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


# ---------------------------------------------------------------------------------------------
# Blogs

BLOGS = [
    {
        "key": "ledger-en",
        "title": "Far East Ledger",
        "blog_id": "4519027386610249351",
        "template": "simple",
        "locale": "en",
        "description": "Notes on Russia, Japan and the North Pacific, kept by a reader with a clippings habit.",
        "author": "Alan Whitcombe",
        "about": "Retired shipping clerk in Seattle. I clip, translate and argue with the news about Russia and Japan.",
    },
    {
        "key": "cuaderno-es",
        "title": "Cuaderno del Pacífico Norte",
        "blog_id": "7093318842207561524",
        "template": "soho",
        "locale": "es",
        "description": "Apuntes y lecturas sobre Rusia, Japón y el Pacífico Norte.",
        "author": "Marisol Ferrer",
        "about": "Profesora de historia en Valencia. Leo la prensa de Asia Oriental y comparto lo que encuentro.",
    },
    {
        "key": "dnevnik-ru",
        "title": "Тихоокеанский дневник",
        "blog_id": "3185526047",
        "template": "awesomeinc",
        "locale": "ru",
        "description": "Заметки о Дальнем Востоке, соседях и море.",
        "author": "Андрей Соколов",
        "about": "Журналист из Владивостока. Пишу о Японии, Курилах и рыбной отрасли.",
    },
    {
        "key": "mado-ja",
        "title": "北の窓から",
        "blog_id": "6672190358841206617",
        "template": "travel",
        "locale": "ja",
        "description": "根室から、北方領土と日ロ関係のこと。ときどき旅の記録。",
        "author": "佐藤由美",
        "about": "根室市在住の会社員。北方領土の問題と、休日の旅行について書いています。",
    },
    {
        "key": "presseschau-de",
        "title": "Fernost-Presseschau",
        "blog_id": "28815470",
        "template": "dynamicviews",
        "locale": "de",
        "description": "Ausgewählte Artikel zu Russland und Japan, im Original und mit Anmerkungen.",
        "author": "Katrin Vogel",
        "about": "Osteuropa-Historikerin in Leipzig.",
    },
]

NEWS = {
    "key": "wire",
    "title": "Pacific Wire",
    "description": "Independent reporting on the North Pacific: Russia, Japan, Korea and the sea between them.",
    "locale": "en",
}


# ---------------------------------------------------------------------------------------------
# Posts. Ids are fixed so that runs are reproducible.

#: The syndicated story, as the English blog ran it; the German blog's copy changes the headline
#: and the sentence below.
SYNDICATED_PARAGRAPHS = [
    "Russia said on Monday that it was suspending talks with Japan on a peace treaty to formally end "
    "the Second World War, in response to the sanctions Tokyo imposed on Moscow over the invasion of Ukraine.",
    "In a statement, the Russian foreign ministry said it did not intend to continue negotiations with a "
    "country that takes \u201copenly unfriendly positions\u201d and tries to damage Russian interests. It "
    "also announced an end to visa-free trips by Japanese citizens to the southern Kuril Islands, which "
    "Japan calls its Northern Territories, and withdrew from talks on joint economic activity there.",
    "Prime Minister Fumio Kishida called the decision extremely unjust and unacceptable, and said Japan "
    "would not change its course on sanctions. Tokyo has frozen the assets of Russian banks and officials, "
    "restricted exports of high-technology goods and joined other G7 members in moves against the Russian "
    "central bank.",
    "The dispute over the four islands, seized by Soviet troops in the last days of the war, has kept the "
    "two countries from signing a treaty for more than seventy-five years. Former residents and their "
    "families, most now in their eighties, had relied on the visa-free programme to visit family graves.",
    "Analysts in Tokyo said the suspension changed little in practice, since talks had stalled well before "
    "the war, but that it closed one of the last regular channels between the two governments.",
]
SYNDICATED_CHANGED = (
    "Analysts in Tokyo said the suspension changed little in practice, since talks had stalled well before "
    "the war, but that it closed one of the last regular channels between the two governments.",
    "Observers in Tokyo said the move was largely symbolic, because negotiations had been frozen for "
    "months already, yet it shut one of the few remaining regular links between the two governments.",
)


def _ledger_posts() -> list[Post]:
    a = "Alan Whitcombe"
    seed_commentary = (
        _p(
            "The Tokyo \u201ctwo plus two\u201d meeting is over, and the wire copy below is the most complete "
            "account I have found of what the Russian side wanted out of it. I am reposting it whole, "
            "with my own notes underneath, because the original keeps moving around.",
        )
        + "\n<hr />\n"
        + seed_html()
        + "\n<hr />\n"
        + _p(
            "<b>My notes.</b> Two things stand out. First, the Russian framing: the new division on the "
            "islands is presented as purely defensive, and the American missile defence systems in Japan "
            "are presented as the real problem. Expect to hear that argument again every time the "
            "islands come up.",
            "Second, the visa-free idea. Lavrov mentions travel without visas for people living in the "
            "neighbouring regions. If that goes anywhere it would be the first practical change in years. "
            "I will believe it when the Hokkaido ferries start selling tickets.",
        )
    )
    return [
        Post(
            post_id="5237710946612084411",
            title="What Russia wants from its dialogue with Japan (repost, with notes)",
            slug="",
            published=datetime(2017, 3, 21, 7, 30, tzinfo=PDT),
            updated=datetime(2017, 3, 21, 8, 2, tzinfo=PDT),
            author=a,
            labels=["Japan", "Kurils", "Reposts", "Russia"],
            body_html=seed_commentary,
            lang="en",
        ),
        Post(
            post_id="8820157736401926553",
            title="Singapore: Abe and Putin go back to 1956",
            slug="",
            published=datetime(2018, 11, 15, 9, 10, tzinfo=PST),
            updated=datetime(2018, 11, 15, 9, 10, tzinfo=PST),
            author=a,
            labels=["Japan", "Peace treaty", "Russia"],
            body_html=_p(
                "Shinzo Abe and Vladimir Putin met on the sidelines of the East Asia Summit in Singapore on "
                "Wednesday and agreed to speed up peace treaty negotiations \u201con the basis of\u201d the "
                "1956 Soviet-Japanese Joint Declaration. That single phrase is the news.",
                "The 1956 declaration ended the state of war and restored diplomatic relations, and it "
                "promised that the Soviet Union would hand over Shikotan and the Habomai islets once a peace "
                "treaty was signed. It says nothing about Kunashir and Iturup, the two large islands where "
                "almost all of the present population lives.",
                "For decades the Japanese position has been that all four islands belong to Japan. By naming "
                "the 1956 text as the basis, Abe appears to have accepted, at least as a starting point, "
                "talks about two islands rather than four. His office insists nothing has been given up. "
                "Nationalist groups in Tokyo are already saying the opposite.",
                "The Russian reading is different again. Moscow has said for years that the declaration does "
                "not specify under whose sovereignty the islands would be handed over, and Russian officials "
                "have raised the question of whether American forces could be stationed there afterwards.",
                "Abe wants a result before he leaves office. Putin wants investment in the Far East and a "
                "Japan that keeps some distance from Washington. Both leaders will meet again in Buenos Aires "
                "at the end of the month, and Abe is expected in Moscow in January. I would not bet on a "
                "signed treaty, but this is the first real movement since 2001.",
            ),
            lang="en",
        ),
        Post(
            post_id="1694427739015582306",
            title="Russia beat Japan in four sets, and it was closer than it sounds",
            slug="",
            published=datetime(2019, 6, 30, 20, 45, tzinfo=PDT),
            updated=datetime(2019, 6, 30, 21, 5, tzinfo=PDT),
            author=a,
            labels=["Sport", "Volleyball"],
            body_html=_p(
                "A break from politics. My nephew plays club volleyball, so the house watched the women's "
                "match this afternoon: Russia beat Japan 3\u20131, 25\u201322, 21\u201325, 25\u201323, "
                "27\u201325.",
                "Japan's defence was extraordinary. Their libero dug balls that I was sure had hit the floor, "
                "and for most of the second set the Russian hitters simply could not find a gap. What decided "
                "it was height at the net. Russia blocked fourteen times to Japan's five, and in the long "
                "fourth set two of those blocks came at 24\u201324 and 25\u201325.",
                "The Japanese setter spread the attack well, running quick balls through the middle that the "
                "Russian blockers were late on all evening. The problem was the end of each set, when the "
                "ball went to the outside and the block was waiting.",
                "My nephew's verdict: serve receive won Japan the second set and serving errors lost them the "
                "fourth. Seven missed serves in one set is a lot at this level.",
                "Normal service about the other Russia and Japan resumes next week.",
            ),
            lang="en",
        ),
        Post(
            post_id="3059981126470533987",
            title="Salmon quota talks end late again",
            slug="",
            published=datetime(2021, 4, 28, 16, 20, tzinfo=PDT),
            updated=datetime(2021, 4, 29, 8, 0, tzinfo=PDT),
            author=a,
            labels=["Fisheries", "Japan", "Russia"],
            body_html=_p(
                "Every spring Japan and Russia sit down to agree how much salmon and trout Japanese boats may "
                "catch inside Japan's own exclusive economic zone. The fish spawn in Russian rivers, so under "
                "the 1985 fisheries agreement Moscow has a say, and Japanese fishing cooperatives pay a fee "
                "for every tonne.",
                "This year's round, held by video link because of the pandemic, finished a week after the "
                "season was supposed to start. The catch ceiling is unchanged, but the cooperation fee went up "
                "slightly, and the boats in Nemuro and Hiroo have been tied up waiting.",
                "It is a small story with a long history. The negotiations have run almost without a break "
                "since the Soviet period, through every crisis over the Kuril Islands, and they are one of the "
                "few places where the two governments still have to agree on something concrete every year.",
                "The people who pay for delays are not in Tokyo or Moscow. A crew that loses a week of a short "
                "season loses a large share of its income, and the smaller ports have few other jobs. One "
                "skipper told the local paper he now plans his year as if the talks will always be late.",
            ),
            lang="en",
        ),
        Post(
            post_id="6402958813377145720",
            title="Moscow walks away from peace treaty talks with Tokyo",
            slug="",
            published=datetime(2022, 3, 22, 6, 40, tzinfo=PDT),
            updated=datetime(2022, 3, 22, 6, 55, tzinfo=PDT),
            author=a,
            labels=["Peace treaty", "Sanctions", "Visa-free exchanges"],
            body_html=_p(*SYNDICATED_PARAGRAPHS),
            lang="en",
        ),
    ]


def _cuaderno_posts() -> list[Post]:
    a = "Marisol Ferrer"
    title, _heading, blocks = seed_blocks()
    prose = seed_paragraphs()
    first_three = [b for b in blocks if b[0] == "p"][:3]
    truncated = (
        seed_html(blocks=first_three)
        + '\n<a href="http://noticias-del-pacifico.example/2017/03/what-russia-wants.html">Leer más \u00bb</a>'
    )
    quoted_1 = next(p for p in prose if p.startswith("The issue of"))
    quoted_2 = next(p for p in prose if p.startswith("Russian Foreign minister"))
    excerpt = (
        _p(
            "Vuelvo sobre las conversaciones ruso-japonesas de marzo en Tokio porque una crónica en inglés "
            "resume muy bien el problema de fondo. No la copio entera; me quedo con dos párrafos que "
            "explican por qué nadie espera un tratado de paz a corto plazo:",
        )
        + "\n<blockquote>"
        + "".join(f"<p>{html.escape(q, quote=False)}</p>" for q in (quoted_1, quoted_2))
        + "</blockquote>\n"
        + _p(
            "El primer párrafo lo dice todo: Japón quiere las islas antes de firmar y Rusia no acepta "
            "siquiera plantearlo así. El segundo es más interesante, porque la idea de viajar sin visado "
            "entre Hokkaido y las Kuriles sería un cambio concreto para la gente que vive allí.",
            "Veremos qué sale de la visita de Abe a Moscú en abril. Mientras tanto, recomiendo leer la "
            "crónica completa.",
        )
    )
    return [
        Post(
            post_id="2417703399185564201",
            title=title,
            slug="",
            published=datetime(2017, 3, 20, 18, 5, tzinfo=CET),
            updated=datetime(2017, 3, 20, 18, 5, tzinfo=CET),
            author=a,
            labels=["Japón", "Rusia"],
            body_html=truncated,
            lang="en",
        ),
        Post(
            post_id="9021366058130472615",
            title="Lo que Rusia espera del diálogo con Japón, en dos párrafos",
            slug="",
            published=datetime(2017, 4, 3, 11, 30, tzinfo=timezone(timedelta(hours=2))),
            updated=datetime(2017, 4, 3, 11, 30, tzinfo=timezone(timedelta(hours=2))),
            author=a,
            labels=["Japón", "Kuriles", "Rusia"],
            body_html=excerpt,
            lang="es",
        ),
        Post(
            post_id="4788160312259940038",
            title="Abe en Moscú: otra cumbre sin fecha para el tratado de paz",
            slug="",
            published=datetime(2019, 1, 23, 9, 15, tzinfo=CET),
            updated=datetime(2019, 1, 23, 9, 15, tzinfo=CET),
            author=a,
            labels=["Japón", "Kuriles", "Rusia", "Tratado de paz"],
            body_html=_p(
                "Shinzo Abe y Vladímir Putin se reunieron ayer en el Kremlin por vigesimoquinta vez. Tras "
                "más de tres horas de conversación, ninguno de los dos anunció avances concretos en el "
                "tratado de paz que Rusia y Japón nunca firmaron al terminar la Segunda Guerra Mundial.",
                "En noviembre, en Singapur, ambos habían acordado acelerar las negociaciones tomando como "
                "base la declaración conjunta de 1956, que prometía entregar a Japón las islas Shikotán y "
                "Habomai una vez firmado el tratado. Aquello se leyó en Tokio como un gesto histórico. En "
                "Moscú, en cambio, el ministro Serguéi Lavrov insistió la semana pasada en que Japón debe "
                "reconocer primero la soberanía rusa sobre todas las Kuriles del sur.",
                "Putin habló de un trabajo \u201clargo y minucioso\u201d y de la necesidad de crear un "
                "ambiente de confianza. Abe se limitó a decir que los dos ministros de Exteriores seguirán "
                "reuniéndose. La única novedad práctica fue el compromiso de ampliar los proyectos económicos "
                "conjuntos en las islas: cultivo de marisco, invernaderos, turismo y energía eólica.",
                "En Japón crece la impresión de que Abe ha rebajado su posición sin recibir nada a cambio. "
                "En Rusia, las encuestas muestran que la gran mayoría rechaza ceder cualquier isla, y hubo "
                "pequeñas protestas en Moscú el fin de semana. Con ese clima en ambos países, el calendario "
                "que algunos imaginaban para este año parece cada vez más lejano.",
            ),
            lang="es",
        ),
        Post(
            post_id="6135590278844610937",
            title="Sanciones, gas y pescado: el año en que Tokio y Moscú dejaron de hablarse",
            slug="",
            published=datetime(2023, 2, 7, 19, 40, tzinfo=CET),
            updated=datetime(2023, 2, 8, 10, 12, tzinfo=CET),
            author=a,
            labels=["Japón", "Pesca", "Rusia", "Sanciones"],
            body_html=_p(
                "Hoy es el Día de los Territorios del Norte en Japón, y este año el acto oficial en Tokio "
                "tuvo un tono distinto. Hace doce meses todavía se hablaba de negociar; hoy no hay nada que "
                "negociar.",
                "Desde la invasión de Ucrania, Japón se sumó a las sanciones del G7: congeló activos de bancos "
                "y dirigentes rusos, limitó las exportaciones de tecnología y retiró a Rusia el trato de "
                "nación más favorecida. Moscú respondió en marzo suspendiendo las conversaciones sobre el "
                "tratado de paz, los viajes sin visado a las Kuriles del sur y los proyectos económicos "
                "conjuntos en las islas.",
                "Hay, sin embargo, dos excepciones que dicen mucho. La primera es el gas: Japón mantuvo su "
                "participación en Sajalín-2, porque el gas natural licuado de la isla cubre una parte "
                "importante de su consumo. La segunda es la pesca. Los acuerdos anuales sobre salmón y sobre "
                "la pesca japonesa cerca de las islas siguieron negociándose, con retrasos y discusiones "
                "sobre los pagos, pero siguieron.",
                "Para los pescadores de Nemuro la política es un asunto de calendario: cada semana de retraso "
                "es una semana sin salir al mar. Para los antiguos habitantes de las islas, cuya media de edad "
                "supera los ochenta y cinco años, la suspensión de las visitas significa que muchos no "
                "volverán a ver las tumbas de su familia.",
            ),
            lang="es",
        ),
    ]


def _dnevnik_posts() -> list[Post]:
    a = "Андрей Соколов"
    return [
        Post(
            post_id="7345092218773016648",
            title="Путин предложил Абэ подписать мирный договор без предварительных условий",
            slug="",
            published=datetime(2018, 9, 12, 19, 30, tzinfo=VLAT),
            updated=datetime(2018, 9, 12, 20, 10, tzinfo=VLAT),
            author=a,
            labels=["Курилы", "Мирный договор", "Россия и Япония"],
            body_html=_p(
                "На пленарном заседании Восточного экономического форума во Владивостоке Владимир Путин "
                "неожиданно предложил Синдзо Абэ заключить мирный договор до конца года «без всяких "
                "предварительных условий», а все спорные вопросы решать потом, «как друзья».",
                "Зал встретил слова президента аплодисментами, но японская делегация, судя по лицам, к такому "
                "повороту готова не была. Абэ в ответ лишь улыбнулся. Позже в Токио дали понять, что позиция "
                "Японии не меняется: сначала решение территориального вопроса, затем договор.",
                "Напомню, что спор касается четырёх южных Курильских островов — Итурупа, Кунашира, Шикотана "
                "и гряды Хабомаи. В Японии их называют Северными территориями. Декларация 1956 года обещала "
                "передать Японии Шикотан и Хабомаи после подписания мирного договора, но договор так и не был "
                "подписан.",
                "Во Владивостоке предложение Путина обсуждали весь вечер. Одни считают его ловким ходом: "
                "мяч теперь на японской стороне. Другие напоминают, что для Токио подписать договор, не "
                "упомянув острова, политически невозможно. Рыбаки в Южно-Курильске, с которыми я успел "
                "поговорить по телефону, отнеслись к новости спокойно: «У нас эти разговоры тридцать лет "
                "идут».",
            ),
            lang="ru",
        ),
        Post(
            post_id="1178843305629917424",
            title="Пельмени по-семейному: рецепт моей бабушки",
            slug="",
            published=datetime(2020, 1, 5, 13, 0, tzinfo=VLAT),
            updated=datetime(2020, 1, 5, 13, 0, tzinfo=VLAT),
            author=a,
            labels=["Рецепты"],
            body_html=_p(
                "Каникулы — время лепить пельмени, поэтому сегодня без политики. Этот рецепт бабушка привезла "
                "с Урала, и у нас дома он не менялся лет пятьдесят.",
                "Тесто: 500 граммов муки, одно яйцо, 200 миллилитров холодной воды и щепотка соли. Замесить "
                "крутое тесто, завернуть в плёнку и оставить на полчаса. Бабушка говорила, что тесто должно "
                "«отдохнуть», и она была права: потом оно раскатывается гораздо легче.",
                "Фарш: по 300 граммов говядины и свинины, две луковицы, соль, чёрный перец и пара ложек "
                "ледяной воды, чтобы начинка была сочной. Лук лучше прокрутить вместе с мясом, а не резать.",
                "Раскатать тесто тонко, вырезать кружки стаканом, положить по чайной ложке фарша, защипнуть "
                "края и соединить уголки. Варить в подсоленной воде с лавровым листом минут семь после того, "
                "как пельмени всплывут.",
                "Подавать со сметаной или, как любит мой отец, с уксусом и перцем. Лишние пельмени хорошо "
                "замораживать на доске, а потом пересыпать в пакет. Лепить лучше всей семьёй: за разговорами "
                "триста штук получаются незаметно, а бабушка всегда прятала в одном пельмене горошину перца "
                "на удачу. Приятного аппетита!",
            ),
            lang="ru",
        ),
        Post(
            post_id="5590317046628834795",
            title="Рыбаки Хоккайдо остались без соглашения 1998 года",
            slug="",
            published=datetime(2022, 6, 8, 10, 25, tzinfo=VLAT),
            updated=datetime(2022, 6, 8, 10, 25, tzinfo=VLAT),
            author=a,
            labels=["Курилы", "Россия и Япония", "Рыболовство"],
            body_html=_p(
                "МИД России объявил о приостановке соглашения 1998 года о сотрудничестве в области промысла "
                "морских живых ресурсов. Именно по этому соглашению японские рыбаки с Хоккайдо много лет "
                "ловили минтай, осьминога и другие виды у южных Курил.",
                "Официальная причина — задержка японских платежей: по условиям соглашения японская сторона "
                "оплачивает развитие рыбной отрасли Сахалинской области. В Токио ответили, что платежи "
                "задерживались по техническим причинам, и выразили сожаление в связи с решением Москвы.",
                "Для рыбаков Немуро это серьёзный удар. Промысел у островов для многих небольших судов — "
                "основной источник дохода, а весенний сезон уже начался. Сахалинские рыбаки, впрочем, тоже "
                "теряют деньги, которые шли на оборудование и научные исследования.",
                "Соглашение пережило немало кризисов и было одним из немногих практических механизмов "
                "сотрудничества у Курил. После того как весной Россия вышла из переговоров о мирном договоре, "
                "рыболовство остаётся последней областью, где стороны регулярно садятся за стол переговоров.",
                "Следующий раунд консультаций пока не назначен. В Немуро рыбаки говорят, что готовы ждать, "
                "но долго ждать им не позволит сезон: осьминог и минтай не подстраиваются под дипломатию.",
            ),
            lang="ru",
        ),
        Post(
            post_id="2870653184497120056",
            title="Безвизовым обменам с Японией пришёл конец",
            slug="",
            published=datetime(2022, 9, 6, 9, 50, tzinfo=VLAT),
            updated=datetime(2022, 9, 6, 11, 5, tzinfo=VLAT),
            author=a,
            labels=["Безвизовый обмен", "Курилы", "Россия и Япония"],
            body_html=_p(
                "Правительство России подписало постановление о прекращении соглашений о безвизовых поездках "
                "между южными Курилами и Японией. Программа работала с 1992 года и была, пожалуй, самым "
                "человечным проектом в отношениях двух стран.",
                "По безвизовым обменам японцы, в том числе бывшие жители островов и их потомки, приезжали на "
                "Кунашир, Итуруп и Шикотан, а курильчане ездили на Хоккайдо. Отдельная программа позволяла "
                "бывшим жителям посещать семейные могилы. За тридцать лет в поездках участвовали десятки "
                "тысяч человек.",
                "С 2020 года поездки не проводились из-за пандемии, а в марте Москва в ответ на японские "
                "санкции заявила о выходе из договорённостей. Постановление лишь оформило решение "
                "юридически.",
                "На Кунашире об обменах вспоминают тепло. Учительница из Южно-Курильска рассказала мне, что "
                "её ученики переписывались со школьниками из Немуро и ждали ответных визитов. Теперь, по её "
                "словам, «остались только письма».",
                "В Японии решение восприняли болезненно прежде всего бывшие жители островов. Их осталось "
                "немногим более пяти тысяч, средний возраст — за восемьдесят шесть лет. Японские власти "
                "просят хотя бы сохранить посещение могил, но ответа из Москвы пока нет.",
            ),
            lang="ru",
        ),
    ]


def _mado_posts() -> list[Post]:
    a = "佐藤由美"
    return [
        Post(
            post_id="9458302716640921183",
            title="東京・谷中を歩く　坂と路地と猫の町",
            slug="",
            published=datetime(2018, 5, 4, 21, 15, tzinfo=JST),
            updated=datetime(2018, 5, 4, 21, 15, tzinfo=JST),
            author=a,
            labels=["旅行", "東京"],
            body_html=_p(
                "連休を使って東京へ。今回は観光地を回るのをやめて、谷中から根津、千駄木のあたりを一日かけて"
                "歩いてきました。",
                "日暮里駅の西口を出て少し歩くと、谷中霊園の桜並木があります。花の季節は過ぎていましたが、"
                "新緑がきれいで、朝の散歩をしている人がたくさんいました。そこから「夕やけだんだん」という"
                "階段を下りると、谷中銀座の商店街です。メンチカツの店に行列ができていたので、私も並んで"
                "ひとつ買いました。揚げたてで、とてもおいしかったです。",
                "このあたりは戦災をあまり受けなかったそうで、古い木造の家や小さなお寺が路地のあちこちに"
                "残っています。地図を見ずに細い道に入ってみると、突然古い銭湯を改装したギャラリーが"
                "あったりして、歩くだけで楽しい町でした。猫が多いことでも有名で、この日も塀の上で昼寝を"
                "している猫を何匹も見かけました。",
                "午後は根津神社でつつじを見て、千駄木の古本屋で旅の本を二冊。夕方には足が棒のようになり"
                "ましたが、根室とはまったく違う町の空気を楽しめました。次は上野の美術館と組み合わせて"
                "回ってみたいと思います。",
            ),
            lang="ja",
        ),
        Post(
            post_id="3306215587029471542",
            title="ビザなし交流で国後島へ　三日間の記録",
            slug="",
            published=datetime(2019, 8, 25, 20, 40, tzinfo=JST),
            updated=datetime(2019, 8, 26, 7, 30, tzinfo=JST),
            author=a,
            labels=["ビザなし交流", "北方領土", "日ロ関係"],
            body_html=_p(
                "八月の後半、北方四島交流事業、いわゆる「ビザなし交流」の訪問団に参加して国後島へ"
                "行ってきました。根室港から交流船で約四時間。窓から見ると、国後島は本当にすぐそこに"
                "あります。",
                "古釜布（ロシア名ユジノクリリスク）の港に着くと、入域手続きのあと、地元の学校や文化会館を"
                "訪問しました。島の子どもたちが踊りと歌で迎えてくれて、こちらは盆踊りを披露。言葉は通じ"
                "なくても、一緒に踊ると自然に笑顔になります。",
                "二日目はホームビジット。ロシア人のご家族の家で、ピロシキとボルシチ、それに島でとれた"
                "カニをごちそうになりました。ご主人は漁師で、日本の漁船の話や、根室の町に行ったときの"
                "思い出を楽しそうに話してくれました。",
                "同じ訪問団には、戦前この島に住んでいた元島民の方もいらっしゃいました。八十代後半のその方は、"
                "子どものころに遊んだ浜をじっと見つめていて、声をかけることができませんでした。",
                "北方領土の問題は、日本とロシアの平和条約交渉の中で何十年も解決されていません。それでも、"
                "人と人が会って話すこの交流は、とても大切なものだと改めて感じました。",
            ),
            lang="ja",
        ),
        Post(
            post_id="7719042865531060214",
            title="ロシアが平和条約交渉を中断　根室の人たちの声",
            slug="",
            published=datetime(2022, 3, 22, 19, 5, tzinfo=JST),
            updated=datetime(2022, 3, 22, 19, 5, tzinfo=JST),
            author=a,
            labels=["北方領土", "制裁", "日ロ関係", "平和条約"],
            body_html=_p(
                "ロシア外務省は21日、日本との平和条約締結交渉を中断すると発表しました。ウクライナ侵攻を"
                "受けて日本が科した経済制裁への対抗措置だとしています。あわせて、北方四島へのビザなし交流と"
                "自由訪問の停止、四島での共同経済活動に関する協議からの撤退も表明しました。",
                "岸田首相は国会で「極めて不当で、断じて受け入れられない」と述べ、制裁を続ける方針を示しました。",
                "根室の町では、朝から元島民の方々の落胆の声が聞かれました。千島歯舞諸島居住者連盟の方は、"
                "「墓参だけはなんとか続けてほしい」と話していました。元島民の平均年齢は八十六歳を超えて"
                "いて、残された時間は多くありません。",
                "漁業関係者の心配も大きいです。北方四島周辺での操業や、サケ・マスの漁獲量を決める交渉が"
                "どうなるのか、まだ何もわかりません。港の近くの食堂で、漁師の方が「海の上には国境があるのに、"
                "魚にはない」とつぶやいていたのが印象に残りました。",
                "交流で知り合った国後島の友人からは、短いメッセージが届きました。「また会えると信じて"
                "います」。私も同じ気持ちです。",
            ),
            lang="ja",
        ),
    ]


def _presseschau_posts() -> list[Post]:
    a = "Katrin Vogel"
    _title, heading, _blocks = seed_blocks()
    fixed = seed_html(
        fix_flag=True,
        edits={
            "Shokotan": "Shikotan",
            "Japanese Prime minister": "Japanese Prime Minister",
            "Russian Foreign minister": "Russian Foreign Minister",
            "\u00a0": " ",
        },
    ) + _p("<i>Quelle: Agenturmeldung vom 20. März 2017, Tippfehler korrigiert.</i>")
    syndicated = list(SYNDICATED_PARAGRAPHS)
    syndicated[syndicated.index(SYNDICATED_CHANGED[0])] = SYNDICATED_CHANGED[1]
    return [
        Post(
            post_id="6032277980154418830",
            title=heading,
            slug="",
            published=datetime(2017, 3, 23, 10, 0, tzinfo=CET),
            updated=datetime(2017, 3, 23, 10, 12, tzinfo=CET),
            author=a,
            labels=["Japan", "Kurilen", "Russland", "Originaltexte"],
            body_html=fixed,
            lang="en",
        ),
        Post(
            post_id="8178890446321205597",
            title="Russia suspends treaty negotiations, blames Japanese sanctions",
            slug="",
            published=datetime(2022, 3, 23, 8, 15, tzinfo=CET),
            updated=datetime(2022, 3, 23, 8, 15, tzinfo=CET),
            author=a,
            labels=["Friedensvertrag", "Japan", "Russland", "Sanktionen"],
            body_html=_p(*syndicated),
            lang="en",
        ),
        Post(
            post_id="4460731928875509902",
            title="Tag der Nördlichen Territorien: Tokio hält an den Kurilen fest",
            slug="",
            published=datetime(2024, 2, 7, 17, 30, tzinfo=CET),
            updated=datetime(2024, 2, 7, 17, 30, tzinfo=CET),
            author=a,
            labels=["Japan", "Kurilen", "Russland"],
            body_html=_p(
                "Am 7. Februar begeht Japan jedes Jahr den „Tag der Nördlichen Territorien“. Gemeint sind die "
                "vier südlichsten Inseln der Kurilenkette – Iturup, Kunaschir, Schikotan und die "
                "Habomai-Gruppe –, die sowjetische Truppen im August und September 1945 besetzten.",
                "Auf der zentralen Kundgebung in Tokio bekräftigte Premierminister Fumio Kishida auch in "
                "diesem Jahr den Anspruch auf alle vier Inseln und das Ziel eines Friedensvertrags mit "
                "Russland. Zugleich räumte er ein, dass die Beziehungen wegen des Krieges in der Ukraine "
                "„in einer schwierigen Lage“ seien. Moskau hatte die Verhandlungen über einen "
                "Friedensvertrag im März 2022 ausgesetzt.",
                "Besonders hart trifft der Stillstand die ehemaligen Bewohner der Inseln. Rund 17.000 "
                "Japanerinnen und Japaner lebten 1945 dort; die Überlebenden sind heute im Durchschnitt "
                "fast neunzig Jahre alt. Die Besuche an den Familiengräbern, die Russland früher ohne Visum "
                "erlaubte, finden seit der Pandemie nicht mehr statt.",
                "Auf russischer Seite wird die Militärpräsenz auf den Inseln weiter ausgebaut. Eine "
                "Annäherung ist derzeit nicht in Sicht – und doch verhandeln beide Länder weiterhin jedes "
                "Jahr über Fischfangquoten, eine der wenigen verbliebenen Gesprächsebenen.",
            ),
            lang="de",
        ),
    ]


_POSTS = {
    "ledger-en": _ledger_posts,
    "cuaderno-es": _cuaderno_posts,
    "dnevnik-ru": _dnevnik_posts,
    "mado-ja": _mado_posts,
    "presseschau-de": _presseschau_posts,
}


def posts_for(key: str) -> list[Post]:
    """The curated posts of one demo blog."""
    return _POSTS[key]()


def news_items() -> list[NewsItem]:
    return [
        NewsItem(
            slug="hokkaido-kelp-crews-wait-on-moscow",
            title="Hokkaido kelp crews wait on Moscow as the season nears",
            published=datetime(2023, 5, 30, 6, 0, tzinfo=JST),
            author="Naoko Hara",
            labels=["Fisheries", "Japan", "Russia"],
            body_html=_p(
                "Fishing crews in Nemuro are getting their boats ready for the kelp season off Kaigara Island, "
                "a rock a few kilometres from the Hokkaido coast that Russia controls as part of the southern "
                "Kurils. Whether they can sail depends on a private agreement renewed every year with Moscow.",
                "The arrangement dates from 1981 and has survived every diplomatic crisis since. Japanese "
                "fishing cooperatives pay a fee, and in return their boats may harvest kelp in waters Japan "
                "regards as its own and Russia patrols as its border. This year talks started late, and "
                "cooperative officials say the Russian side has asked for new conditions.",
                "For the town, the kelp harvest is more than income. Whole families work on the drying "
                "fields along the shore in summer, and the season sets the rhythm of the year. Russia's "
                "suspension of a wider fishing agreement last year, and its exit from peace treaty talks, "
                "have made everyone cautious.",
                "\u201cWe have learned not to read the newspapers,\u201d one cooperative member said. "
                "\u201cWe read the weather and wait for the telephone.\u201d",
            ),
            lang="en",
        ),
        NewsItem(
            slug="tokyo-widens-export-blacklist",
            title="Tokyo widens its export blacklist for Russian companies",
            published=datetime(2024, 1, 12, 11, 30, tzinfo=JST),
            author="Daniel Ortiz",
            labels=["Japan", "Russia", "Sanctions"],
            body_html=_p(
                "Japan on Friday added several dozen Russian companies and research institutes to the list of "
                "organisations barred from receiving Japanese goods, in its latest round of sanctions over "
                "the war in Ukraine. Firms in third countries accused of helping Russia obtain restricted "
                "technology were also named.",
                "The Ministry of Economy, Trade and Industry said the measures were coordinated with other "
                "G7 members. Japan has already frozen the assets of Russian officials and banks, banned "
                "exports of many industrial products and capped the price it pays for Russian oil.",
                "Energy remains the exception. Japanese trading houses keep their stakes in the Sakhalin oil "
                "and gas projects, and liquefied natural gas from Sakhalin still covers a noticeable share of "
                "Japan's supply. Officials describe the stakes as essential for energy security.",
                "Moscow, which calls Japan an unfriendly country, has repeatedly warned of retaliation. It "
                "suspended peace treaty talks in 2022 and has since stepped up military exercises on the "
                "Kuril Islands.",
            ),
            lang="en",
        ),
        NewsItem(
            slug="sumida-fireworks-record-crowd",
            title="Sumida River fireworks draw a record crowd",
            published=datetime(2024, 7, 28, 8, 0, tzinfo=JST),
            author="Naoko Hara",
            labels=["Tokyo", "Culture"],
            body_html=_p(
                "Around a million people lined the banks of the Sumida River in Tokyo on Saturday evening for "
                "one of Japan's oldest fireworks displays, organisers said, the largest crowd since the event "
                "returned after the pandemic.",
                "Some twenty thousand shells were launched from two sites near Asakusa over ninety minutes, "
                "including entries in a competition between fireworks makers from across the country. "
                "Police closed streets around the river from the afternoon and asked visitors to leave in "
                "stages to avoid crushes at the stations.",
                "The display traces its origins to the eighteenth century. Restaurants with river views were "
                "booked out months ahead, and many spectators arrived at dawn to claim a patch of pavement.",
                "Station staff handed out water as temperatures stayed above thirty degrees well after dark. "
                "Several people were treated for heat exhaustion, but no serious injuries were reported. The "
                "organisers said next year's display would again be held on the last Saturday of July.",
            ),
            lang="en",
        ),
    ]


def late_posts(when: datetime) -> list[tuple[str, Post]]:
    """The two posts a demo publishes mid-run, dated `when`."""
    seed_again = (
        _p(
            "Back in March 2017 I reposted a wire report on the Tokyo talks. Re-reading it now, with the "
            "treaty talks suspended and the visa-free trips cancelled, it reads like a message from "
            "another era. Here it is again, unchanged.",
        )
        + "\n"
        + seed_html()
    )
    return [
        (
            "ledger-en",
            Post(
                post_id="1358024679135802468",
                title="From the archive: what Russia wanted from Japan in 2017",
                slug="",
                published=when,
                updated=when,
                author="Alan Whitcombe",
                labels=["Japan", "Reposts", "Russia"],
                body_html=seed_again,
                lang="en",
            ),
        ),
        (
            "cuaderno-es",
            Post(
                post_id="2468013579246801357",
                title="Rusia y Japón cierran in extremis el acuerdo anual del salmón",
                slug="",
                published=when,
                updated=when,
                author="Marisol Ferrer",
                labels=["Japón", "Pesca", "Rusia"],
                body_html=_p(
                    "Con el congelamiento político entre Tokio y Moscú, hay una negociación que sigue "
                    "cumpliéndose cada primavera: la del salmón. Las delegaciones de pesca de Rusia y Japón "
                    "acordaron ayer, con casi dos semanas de retraso, las cuotas de captura de salmón y "
                    "trucha para los barcos japoneses en las aguas de su propia zona económica.",
                    "El pez nace en ríos rusos, y por eso el acuerdo de 1985 da a Moscú voz sobre su captura "
                    "y le asegura un pago por cada tonelada. Este año la cuota se mantiene, pero la "
                    "contribución japonesa sube ligeramente.",
                    "En Nemuro y en los puertos del este de Hokkaido el alivio es evidente. Los barcos "
                    "pequeños dependen de una temporada corta, y cada semana perdida es dinero que no vuelve. "
                    "Al mismo tiempo, nadie se hace ilusiones: las conversaciones sobre el tratado de paz y "
                    "las visitas sin visado a las Kuriles siguen suspendidas desde 2022.",
                    "Es un recordatorio de que, incluso en los peores momentos, Rusia y Japón necesitan "
                    "ponerse de acuerdo sobre algo tan concreto como el pescado.",
                ),
                lang="es",
            ),
        ),
    ]
