"""Localised chrome for the demo blogs: Blogger's interface strings and date formats per locale.

This module owns every piece of text a demo page prints that is not post content: the long date
header Blogger puts above each day's posts ("lunes, 20 de marzo de 2017"), the byline and footer
words, comment counts, pager links, widget titles and the "Read more" jump text, in the six
locales the demo network uses (en, es, fr, de, ru, ja). Unknown locales fall back to English.
"""

from __future__ import annotations

from datetime import datetime

_EN = {
    "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "months": ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"],
    "date_header": "{dayname}, {month} {day}, {year}",
    "short_date": "{month} {day:02d}, {year}",
    "clock12": True,
    "posted_by": "Posted by",
    "at": "at",
    "by": "By",
    "labels": "Labels:",
    "comments": {0: "No comments:", 1: "1 comment:", "n": "{n} comments:"},
    "post_comment": "Post a Comment",
    "newer_post": "Newer Post",
    "older_post": "Older Post",
    "newer_posts": "Newer Posts",
    "older_posts": "Older Posts",
    "home": "Home",
    "subscribe": "Subscribe to:",
    "post_comments_atom": "Post Comments (Atom)",
    "posts_atom": "Posts (Atom)",
    "blog_archive": "Blog Archive",
    "labels_title": "Labels",
    "search_title": "Search This Blog",
    "search_button": "Search",
    "about_me": "About Me",
    "view_profile": "View my complete profile",
    "read_more": "Read more",
    "share_email": "Email This",
    "share_twitter": "Share to X",
    "share_facebook": "Share to Facebook",
    "share_pinterest": "Share to Pinterest",
    "get_link": "Get link",
    "not_found": "Sorry, the page you were looking for in this blog does not exist.",
    "showing_label": "Showing posts with the label {label}",
    "showing_query": "Showing posts matching the search for {query}",
    "powered": "theme. Powered by",
    "loading": "Loading",
    "edit": "Edit",
    "reply": "Reply",
    "anonymous": "Anonymous",
    "cookie": "This site uses cookies from Google to deliver its services and to analyze traffic.",
}

LOCALES: dict[str, dict] = {
    "en": _EN,
    "es": {
        "days": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
        "months": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                   "septiembre", "octubre", "noviembre", "diciembre"],
        "date_header": "{dayname}, {day} de {month} de {year}",
        "short_date": "{month} {day:02d}, {year}",
        "clock12": False,
        "posted_by": "Publicado por",
        "at": "en",
        "by": "Por",
        "labels": "Etiquetas:",
        "comments": {0: "No hay comentarios.:", 1: "1 comentario:", "n": "{n} comentarios:"},
        "post_comment": "Publicar un comentario",
        "newer_post": "Entrada más reciente",
        "older_post": "Entrada antigua",
        "newer_posts": "Entradas más recientes",
        "older_posts": "Entradas antiguas",
        "home": "Inicio",
        "subscribe": "Suscribirse a:",
        "post_comments_atom": "Enviar comentarios (Atom)",
        "posts_atom": "Entradas (Atom)",
        "blog_archive": "Archivo del blog",
        "labels_title": "Etiquetas",
        "search_title": "Buscar este blog",
        "search_button": "Buscar",
        "about_me": "Datos personales",
        "view_profile": "Ver todo mi perfil",
        "read_more": "Leer más",
        "share_email": "Enviar por correo electrónico",
        "share_twitter": "Compartir en X",
        "share_facebook": "Compartir con Facebook",
        "share_pinterest": "Compartir en Pinterest",
        "get_link": "Obtener enlace",
        "not_found": "Lo sentimos, pero la página que buscas no existe en este blog.",
        "showing_label": "Mostrando entradas con la etiqueta {label}",
        "showing_query": "Mostrando entradas que coinciden con la búsqueda de {query}",
        "powered": "tema. Con la tecnología de",
        "loading": "Cargando",
        "edit": "Editar",
        "reply": "Responder",
        "anonymous": "Anónimo",
        "cookie": "Este sitio utiliza cookies de Google para prestar sus servicios y analizar su tráfico.",
    },
    "fr": {
        "days": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "date_header": "{dayname} {day} {month} {year}",
        "short_date": "{day:02d} {month} {year}",
        "clock12": False,
        "posted_by": "Publié par",
        "at": "à",
        "by": "Par",
        "labels": "Libellés :",
        "comments": {0: "Aucun commentaire:", 1: "1 commentaire:", "n": "{n} commentaires:"},
        "post_comment": "Publier un commentaire",
        "newer_post": "Article plus récent",
        "older_post": "Article plus ancien",
        "newer_posts": "Articles plus récents",
        "older_posts": "Articles plus anciens",
        "home": "Accueil",
        "subscribe": "Inscription à :",
        "post_comments_atom": "Publier les commentaires (Atom)",
        "posts_atom": "Articles (Atom)",
        "blog_archive": "Archives du blog",
        "labels_title": "Libellés",
        "search_title": "Rechercher dans ce blog",
        "search_button": "Rechercher",
        "about_me": "Qui êtes-vous ?",
        "view_profile": "Afficher mon profil complet",
        "read_more": "Lire la suite",
        "share_email": "Envoyer par e-mail",
        "share_twitter": "Partager sur X",
        "share_facebook": "Partager sur Facebook",
        "share_pinterest": "Partager sur Pinterest",
        "get_link": "Obtenir le lien",
        "not_found": "Désolé, la page que vous recherchez dans ce blog n'existe pas.",
        "showing_label": "Affichage des articles dont le libellé est {label}",
        "showing_query": "Affichage des articles correspondant à la requête {query}",
        "powered": "thème. Fourni par",
        "loading": "Chargement",
        "edit": "Modifier",
        "reply": "Répondre",
        "anonymous": "Anonyme",
        "cookie": "Ce site utilise des cookies provenant de Google pour fournir ses services et analyser le trafic.",
    },
    "de": {
        "days": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        "months": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                   "September", "Oktober", "November", "Dezember"],
        "date_header": "{dayname}, {day}. {month} {year}",
        "short_date": "{day:02d}. {month} {year}",
        "clock12": False,
        "posted_by": "Eingestellt von",
        "at": "um",
        "by": "Von",
        "labels": "Labels:",
        "comments": {0: "Keine Kommentare:", 1: "1 Kommentar:", "n": "{n} Kommentare:"},
        "post_comment": "Kommentar veröffentlichen",
        "newer_post": "Neuerer Post",
        "older_post": "Älterer Post",
        "newer_posts": "Neuere Posts",
        "older_posts": "Ältere Posts",
        "home": "Startseite",
        "subscribe": "Abonnieren",
        "post_comments_atom": "Kommentare zum Post (Atom)",
        "posts_atom": "Posts (Atom)",
        "blog_archive": "Blog-Archiv",
        "labels_title": "Labels",
        "search_title": "Dieses Blog durchsuchen",
        "search_button": "Suchen",
        "about_me": "Über mich",
        "view_profile": "Mein Profil vollständig anzeigen",
        "read_more": "Weiterlesen",
        "share_email": "Diesen Post per E-Mail versenden",
        "share_twitter": "Auf X teilen",
        "share_facebook": "In Facebook freigeben",
        "share_pinterest": "Auf Pinterest teilen",
        "get_link": "Link abrufen",
        "not_found": "Die gesuchte Seite existiert in diesem Blog leider nicht.",
        "showing_label": "Posts mit dem Label {label} werden angezeigt.",
        "showing_query": "Es werden Posts für die Suchanfrage {query} angezeigt.",
        "powered": "Design. Powered by",
        "loading": "Wird geladen",
        "edit": "Bearbeiten",
        "reply": "Antworten",
        "anonymous": "Anonym",
        "cookie": "Diese Website verwendet Cookies von Google, um Dienste anzubieten und Zugriffe zu analysieren.",
    },
    "ru": {
        "days": ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"],
        # Genitive forms: the date header reads "20 марта 2017 г.".
        "months": ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                   "сентября", "октября", "ноября", "декабря"],
        "months_nominative": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль",
                              "август", "сентябрь", "октябрь", "ноябрь", "декабрь"],
        "date_header": "{dayname}, {day} {month} {year} г.",
        "short_date": "{day} {month} {year} г.",
        "clock12": False,
        "posted_by": "Автор:",
        "at": "на",
        "by": "Автор:",
        "labels": "Ярлыки:",
        "comments": {0: "Комментариев нет:", 1: "1 комментарий:", "few": "{n} комментария:",
                     "n": "{n} комментариев:"},
        "post_comment": "Отправить комментарий",
        "newer_post": "Следующее",
        "older_post": "Предыдущее",
        "newer_posts": "Следующие",
        "older_posts": "Предыдущие",
        "home": "Главная страница",
        "subscribe": "Подписаться на:",
        "post_comments_atom": "Комментарии к сообщению (Atom)",
        "posts_atom": "Сообщения (Atom)",
        "blog_archive": "Архив блога",
        "labels_title": "Ярлыки",
        "search_title": "Поиск по этому блогу",
        "search_button": "Поиск",
        "about_me": "Обо мне",
        "view_profile": "Просмотреть профиль",
        "read_more": "Читать далее",
        "share_email": "Отправить по электронной почте",
        "share_twitter": "Поделиться в X",
        "share_facebook": "Опубликовать в Facebook",
        "share_pinterest": "Поделиться в Pinterest",
        "get_link": "Получить ссылку",
        "not_found": "К сожалению, такой страницы в этом блоге нет.",
        "showing_label": "Сообщения с ярлыком {label}",
        "showing_query": "Сообщения по запросу {query}",
        "powered": "Тема. Технологии",
        "loading": "Загрузка",
        "edit": "Изменить",
        "reply": "Ответить",
        "anonymous": "Анонимный",
        "cookie": "Этот сайт использует файлы cookie Google для предоставления услуг и анализа трафика.",
    },
    "ja": {
        "days": ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"],
        "months": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月",
                   "11月", "12月"],
        "date_header": "{year}年{month_num}月{day}日{dayname}",
        "short_date": "{year}年{month_num}月{day}日",
        "clock12": False,
        "posted_by": "投稿者",
        "at": "時刻:",
        "by": "投稿者",
        "labels": "ラベル:",
        "comments": {0: "0 件のコメント:", 1: "1 件のコメント:", "n": "{n} 件のコメント:"},
        "post_comment": "コメントを投稿",
        "newer_post": "次の投稿",
        "older_post": "前の投稿",
        "newer_posts": "次の投稿",
        "older_posts": "前の投稿",
        "home": "ホーム",
        "subscribe": "登録:",
        "post_comments_atom": "コメントの投稿 (Atom)",
        "posts_atom": "投稿 (Atom)",
        "blog_archive": "ブログ アーカイブ",
        "labels_title": "ラベル",
        "search_title": "このブログを検索",
        "search_button": "検索",
        "about_me": "自己紹介",
        "view_profile": "詳細プロフィールを表示",
        "read_more": "続きを読む",
        "share_email": "メールで送信",
        "share_twitter": "X で共有",
        "share_facebook": "Facebook で共有する",
        "share_pinterest": "Pinterest に共有",
        "get_link": "リンクを取得",
        "not_found": "お探しのページはこのブログ内に存在しません。",
        "showing_label": "ラベル「{label}」の投稿を表示しています",
        "showing_query": "「{query}」の検索結果を表示しています",
        "powered": "テーマ. Powered by",
        "loading": "読み込んでいます",
        "edit": "編集",
        "reply": "返信",
        "anonymous": "匿名",
        "cookie": "このサイトでは Google の Cookie を使用しています。",
    },
}


def strings(locale: str) -> dict:
    """The string table for a Blogger locale code ("es", "pt-BR", "ja"); English when unknown."""
    base = (locale or "en").replace("_", "-").split("-")[0].lower()
    return LOCALES.get(base, _EN)


def date_header(dt: datetime, locale: str) -> str:
    """The long date Blogger prints above a day's posts, e.g. "lunes, 20 de marzo de 2017"."""
    s = strings(locale)
    return s["date_header"].format(
        dayname=s["days"][dt.weekday()],
        day=dt.day,
        month=s["months"][dt.month - 1],
        month_num=dt.month,
        year=dt.year,
    )


def short_date(dt: datetime, locale: str) -> str:
    """The compact date the 2017+ themes print in the byline ("marzo 20, 2017")."""
    s = strings(locale)
    return s["short_date"].format(
        day=dt.day, month=s["months"][dt.month - 1], month_num=dt.month, year=dt.year
    )


def clock(dt: datetime, locale: str) -> str:
    """Time of day as the post footer shows it: "9:14 AM" in English, "21:14" elsewhere."""
    if strings(locale)["clock12"]:
        hour = dt.hour % 12 or 12
        return f"{hour}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}"
    return f"{dt.hour:02d}:{dt.minute:02d}"


def month_name(month: int, locale: str) -> str:
    """Month name as the Blog Archive widget lists it (nominative where the language inflects)."""
    s = strings(locale)
    return s.get("months_nominative", s["months"])[month - 1]


def comment_count(n: int, locale: str) -> str:
    """The comments header: "No comments:", "1 comment:", "3 comments:" (Russian plural forms)."""
    forms = strings(locale)["comments"]
    if n in forms:
        return forms[n]
    if "few" in forms and n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return forms["few"].format(n=n)
    if "few" in forms and n % 10 == 1 and n % 100 != 11:
        return forms[1].replace("1", str(n), 1)
    return forms["n"].format(n=n)
