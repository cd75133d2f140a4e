"""Refinements read in every language minime speaks, the way people type them (informal, accents or not)."""

from __future__ import annotations

import re

import pytest

from minime.core import i18n
from minime.core.errors import UnknownRefinement
from minime.core.i18n import gettext as _
from minime.core.refine import UNDERSTOOD, WORDS_DIR, parse_refinement, vocabulary
from minime.core.settings import THEMES_DIR
from minime.core.themes import ThemeCatalog

CATALOG = ThemeCatalog.from_dir(THEMES_DIR)
W, B, C, S, G, F, SH = "warmth", "brightness", "contrast", "saturation", "grain", "fade", "sharpness"
BIGGER, SMALLER, PALETTE, VARIATION, UNDO = "bigger", "smaller", "palette", "variation", "undo"

# (language, what a user types, what it asks for): a dict of adjustments, or one of the render changes above,
# or ("theme", id).
PHRASES: list[tuple[str, str, object]] = [
    # Brazilian Portuguese
    ("pt_BR", "mais quente", {W: 0.5}),
    ("pt_BR", "um pouco mais quente", {W: 0.25}),
    ("pt_BR", "bem mais quente por favor", {W: 1.0}),
    ("pt_BR", "mais frio", {W: -0.5}),
    ("pt_BR", "mais claro", {B: 0.5}),
    ("pt_BR", "deixa mais escuro", {B: -0.5}),
    ("pt_BR", "menos escuro", {B: 0.5}),
    ("pt_BR", "escuro demais", {B: 0.5}),
    ("pt_BR", "mais contraste", {C: 0.5}),
    ("pt_BR", "menos saturação", {S: -0.5}),
    ("pt_BR", "menos saturacao", {S: -0.5}),
    ("pt_BR", "preto e branco", {S: -2.0}),
    ("pt_BR", "menos granulação", {G: -0.5}),
    ("pt_BR", "mais grão no fundo", {G: 0.5}),
    ("pt_BR", "mais desbotado", {F: 0.5}),
    ("pt_BR", "mais vivo e mais nítido", {F: -0.5, SH: 0.5}),
    ("pt_BR", "mais suave", {SH: -0.5}),
    ("pt_BR", "deixa mais quentinho", {W: 0.5}),
    ("pt_BR", "aumenta o brilho", {B: 0.5}),
    ("pt_BR", "tira o granulado", {G: -0.5}),
    ("pt_BR", "nome maior", BIGGER),
    ("pt_BR", "aumenta o nome", BIGGER),
    ("pt_BR", "nome menor", SMALLER),
    ("pt_BR", "outra cor de fundo", PALETTE),
    ("pt_BR", "outra versão", VARIATION),
    ("pt_BR", "de novo", VARIATION),
    ("pt_BR", "desfazer", UNDO),
    ("pt_BR", "volta", UNDO),
    ("pt_BR", "anos 80", ("theme", "retro-80s")),
    # Spanish
    ("es", "más cálido", {W: 0.5}),
    ("es", "mas calido", {W: 0.5}),
    ("es", "un poco mas calido", {W: 0.25}),
    ("es", "un poco más claro", {B: 0.25}),
    ("es", "no tan oscuro", {B: 0.5}),
    ("es", "demasiado oscuro", {B: 0.5}),
    ("es", "menos grano", {G: -0.5}),
    ("es", "blanco y negro", {S: -2.0}),
    ("es", "quítale el grano", {G: -0.5}),
    ("es", "un poco más de contraste", {C: 0.25}),
    ("es", "mucho más nítido", {SH: 1.0}),
    ("es", "más frío, menos contraste", {W: -0.5, C: -0.5}),
    ("es", "nombre más grande", BIGGER),
    ("es", "nombre más pequeño", SMALLER),
    ("es", "otro fondo", PALETTE),
    ("es", "otra versión", VARIATION),
    ("es", "deshacer", UNDO),
    ("es", "años 80", ("theme", "retro-80s")),
    # Indonesian
    ("id", "lebih hangat dong", {W: 0.5}),
    ("id", "lebih terang", {B: 0.5}),
    ("id", "sedikit lebih terang", {B: 0.25}),
    ("id", "agak gelap", {B: -0.25}),
    ("id", "terlalu gelap", {B: 0.5}),
    ("id", "kurangi grain", {G: -0.5}),
    ("id", "lebih tajam banget", {SH: 1.0}),
    ("id", "hitam putih", {S: -2.0}),
    ("id", "bikin lebih cerah dong", {B: 0.5}),
    ("id", "kurangin grain nya", {G: -0.5}),
    ("id", "lebih terang lagi", {B: 0.5}),
    ("id", "nama lebih besar", BIGGER),
    ("id", "namanya kecilin", SMALLER),
    ("id", "ganti latar", PALETTE),
    ("id", "lagi", VARIATION),
    ("id", "versi lain", VARIATION),
    ("id", "urungkan", UNDO),
    ("id", "tahun 80an", ("theme", "retro-80s")),
    # Thai: no spaces between words
    ("th", "อุ่นขึ้นหน่อย", {W: 0.25}),
    ("th", "อุ่นขึ้น", {W: 0.5}),
    ("th", "เย็นลง", {W: -0.5}),
    ("th", "สว่างขึ้นอีกนิด", {B: 0.25}),
    ("th", "มืดไปหน่อย", {B: 0.25}),
    ("th", "ลดเกรน", {G: -0.5}),
    ("th", "ลดความสว่างลงหน่อย", {B: -0.25}),
    ("th", "ขอสว่างขึ้นอีกหน่อยครับ", {B: 0.25}),
    ("th", "ขาวดำ", {S: -2.0}),
    ("th", "คมขึ้น", {SH: 0.5}),
    ("th", "สดขึ้นมากๆ", {F: -1.0}),
    ("th", "ชื่อใหญ่ขึ้น", BIGGER),
    ("th", "ชื่อเล็กลง", SMALLER),
    ("th", "สีพื้นหลังอื่น", PALETTE),
    ("th", "อีกแบบ", VARIATION),
    ("th", "ย้อนกลับ", UNDO),
    ("th", "ยุค 80", ("theme", "retro-80s")),
    # Vietnamese, with and without diacritics
    ("vi", "ấm hơn", {W: 0.5}),
    ("vi", "am hon", {W: 0.5}),
    ("vi", "ấm hơn một chút", {W: 0.25}),
    ("vi", "sáng hơn", {B: 0.5}),
    ("vi", "bớt tối", {B: 0.5}),
    ("vi", "tối quá", {B: 0.5}),
    ("vi", "giảm độ hạt", {G: -0.5}),
    ("vi", "nét hơn nhiều", {SH: 1.0}),
    ("vi", "đen trắng", {S: -2.0}),
    ("vi", "tăng độ tương phản", {C: 0.5}),
    ("vi", "cho ảnh sáng hơn chút", {B: 0.25}),
    ("vi", "tên to hơn", BIGGER),
    ("vi", "tên nhỏ hơn", SMALLER),
    ("vi", "ten to hon", BIGGER),
    ("vi", "màu nền khác", PALETTE),
    ("vi", "cái khác", VARIATION),
    ("vi", "hoàn tác", UNDO),
    ("vi", "thập niên 80", ("theme", "retro-80s")),
    # Chinese: no spaces between words
    ("zh_Hans", "暖一点", {W: 0.25}),
    ("zh_Hans", "更暖", {W: 0.5}),
    ("zh_Hans", "冷一点", {W: -0.25}),
    ("zh_Hans", "亮一点", {B: 0.25}),
    ("zh_Hans", "不要那么暗", {B: 0.5}),
    ("zh_Hans", "太暗了", {B: 0.5}),
    ("zh_Hans", "少一点颗粒", {G: -0.25}),
    ("zh_Hans", "对比度高一点", {C: 0.25}),
    ("zh_Hans", "黑白", {S: -2.0}),
    ("zh_Hans", "对比度低一点", {C: -0.25}),
    ("zh_Hans", "饱和度高一点", {S: 0.25}),
    ("zh_Hans", "调暗一点", {B: -0.25}),
    ("zh_Hans", "更漂亮", "unknown"),
    ("zh_Hans", "名字大一点", BIGGER),
    ("zh_Hans", "名字小一点", SMALLER),
    ("zh_Hans", "换个背景", PALETTE),
    ("zh_Hans", "换一个", VARIATION),
    ("zh_Hans", "撤销", UNDO),
    ("zh_Hans", "80年代", ("theme", "retro-80s")),
    # Arabic, with and without diacritics and tatweel
    ("ar", "أدفأ قليلاً", {W: 0.25}),
    ("ar", "ادفا قليلا", {W: 0.25}),
    ("ar", "أدفـــأ", {W: 0.5}),
    ("ar", "أبرد", {W: -0.5}),
    ("ar", "أفتح", {B: 0.5}),
    ("ar", "أغمق قليلا، وأقل تباين", {B: -0.25, C: -0.5}),
    ("ar", "أغمق قليلا و أقل تباين", {B: -0.25, C: -0.5}),
    ("ar", "أغمق قليلا وأقل تباين", {B: -0.25, C: -0.5}),
    ("ar", "أدفأ وبدون حبيبات", {W: 0.5, G: -0.5}),
    ("ar", "أوضح وأفتح", {SH: 0.5, B: 0.5}),
    ("ar", "أقل حبيبات", {G: -0.5}),
    ("ar", "أبيض و أسود", {S: -2.0}),
    ("ar", "أوضح", {SH: 0.5}),
    ("ar", "اسم أكبر", BIGGER),
    ("ar", "اسم أصغر", SMALLER),
    ("ar", "لون خلفية آخر", PALETTE),
    ("ar", "مرة أخرى", VARIATION),
    ("ar", "صورة أخرى", VARIATION),
    ("ar", "تراجع", UNDO),
    ("ar", "الثمانينات", ("theme", "retro-80s")),
    # Hindi, in Devanagari and in Latin letters (Hinglish)
    ("hi", "थोड़ा गर्म", {W: 0.25}),
    ("hi", "और ठंडा करो", {W: -0.5}),
    ("hi", "थोड़ा कम गहरा", {B: 0.25}),
    ("hi", "ग्रेन कम करो", {G: -0.5}),
    ("hi", "thoda warm", {W: 0.25}),
    ("hi", "thoda warmer please", {W: 0.25}),
    ("hi", "grain kam karo", {G: -0.5}),
    ("hi", "bahut bright karo", {B: 1.0}),
    ("hi", "नाम बड़ा करो", BIGGER),
    ("hi", "naam chota karo", SMALLER),
    ("hi", "दूसरा बैकग्राउंड", PALETTE),
    ("hi", "एक और", VARIATION),
    ("hi", "ek aur", VARIATION),
    ("hi", "ek aur banao", VARIATION),
    ("hi", "grain hatao", {G: -0.5}),
    ("hi", "पहले वाला", UNDO),
    ("hi", "80 का दशक", ("theme", "retro-80s")),
    # Russian
    ("ru", "потеплее", {W: 0.5}),
    ("ru", "немного теплее", {W: 0.25}),
    ("ru", "холоднее", {W: -0.5}),
    ("ru", "чуть светлее", {B: 0.25}),
    ("ru", "не так темно", {B: 0.5}),
    ("ru", "меньше зерна", {G: -0.5}),
    ("ru", "намного резче", {SH: 1.0}),
    ("ru", "чёрно-белое", {S: -2.0}),
    ("ru", "сделай чёрно-белым", {S: -2.0}),
    ("ru", "убери зерно", {G: -0.5}),
    ("ru", "поменьше контраста", {C: -0.5}),
    ("ru", "имя крупнее", BIGGER),
    ("ru", "имя мельче", SMALLER),
    ("ru", "другой фон", PALETTE),
    ("ru", "ещё вариант", VARIATION),
    ("ru", "отмени", UNDO),
    ("ru", "восьмидесятые", ("theme", "retro-80s")),
]


def what(text: str) -> object:
    """What a text asks for, in the vocabulary of PHRASES."""
    try:
        r = parse_refinement(text, CATALOG)
    except UnknownRefinement:
        return "unknown"
    if r.theme:
        return ("theme", r.theme.id)
    if r.name_scale > 1:
        return BIGGER
    if r.name_scale < 1:
        return SMALLER
    for kind, flag in ((PALETTE, r.palette_step), (VARIATION, r.variation), (UNDO, r.undo)):
        if flag:
            return kind
    return r.adjustments.to_dict()


@pytest.mark.parametrize("language, text, expected", PHRASES, ids=[f"{p[0]}:{p[1]}" for p in PHRASES])
def test_phrase(language: str, text: str, expected: object) -> None:
    assert what(text) == expected


def test_every_language_has_a_vocabulary() -> None:
    assert set(vocabulary().languages) == set(i18n.LANGUAGES)
    assert {p[0] for p in PHRASES} == set(i18n.LANGUAGES) - {"en"}


def test_mixed_languages_in_one_reply() -> None:
    assert what("thoda warmer please") == {W: 0.25}
    assert what("mais quente, less grain") == {W: 0.5, G: -0.5}
    r = parse_refinement("lebih terang dan nama lebih besar", CATALOG)
    assert r.adjustments.to_dict() == {B: 0.5} and r.name_scale > 1


def test_a_word_said_again_asks_for_more_not_for_a_variation() -> None:
    """"lagi", "de novo", "ещё раз" alone ask for another one; after a change they only repeat it."""
    r = parse_refinement("mais quente de novo", CATALOG)
    assert r.adjustments.to_dict() == {W: 0.5} and not r.variation
    assert parse_refinement("ещё раз", CATALOG).variation


def test_other_languages_do_not_change_english() -> None:
    """Words of the other vocabularies never turn an English request around."""
    assert what("give her a pirate hat") == "unknown"
    assert what("no more grain") == {G: -0.5}
    assert what("make it a bit warmer") == {W: 0.25}
    assert parse_refinement("ten to one", CATALOG, accept_instructions=True).name_scale == 1.0  # not "tên to"


def test_editing_engines_get_nothing_left_over_from_understood_words() -> None:
    for text in ("mais quente por favor", "lebih hangat dong", "อุ่นขึ้นหน่อยครับ", "暖一点吧", "थोड़ा गर्म करो",
                 "сделай потеплее пожалуйста", "ấm hơn một chút nhé", "اجعلها أدفأ قليلا من فضلك", "anos 80"):
        r = parse_refinement(text, CATALOG, accept_instructions=True)
        assert r.instruction is None and not r.ignored, (text, r.ignored)


QUOTED = re.compile(r"[“«]([^”»]+)[”»]")


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_the_hint_shows_examples_that_work(language: str) -> None:
    """What the "I didn't get that" answer and the help list, in the user's language, is understood as written."""
    with i18n.using(language):
        hint = _(UNDERSTOOD)
        with pytest.raises(UnknownRefinement) as err:
            parse_refinement("xyzzy", CATALOG)
    examples = QUOTED.findall(err.value.user_message.split("xyzzy", 1)[1])
    assert len(examples) == 3  # the theme example in the hint, and "Try … or …"
    items = re.split(r"\s*[,،、，/]\s*", re.sub(r"[(（][^)）]*[)）]", "", hint))
    assert len(items) >= 9
    for text in examples + items:
        assert what(text) != "unknown", text


def test_vocabulary_files_ship_with_the_package() -> None:
    assert sorted(p.stem for p in WORDS_DIR.glob("*.toml")) == sorted(i18n.LANGUAGES)
