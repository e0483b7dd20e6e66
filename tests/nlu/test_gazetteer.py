"""Towns, offices, services and languages as entities, whatever the spelling or script."""

import pytest

from bot.nlu.gazetteer import entities, find
from bot.territory import comuni


def cities(text):
    return [
        (e["value"], text[e["start"] : e["end"]]) for e in entities(text) if e["entity"] == "city"
    ]


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("Nardo", "Nardò", "Nardo"),
        ("nardò", "Nardò", "nardò"),
        ("NARDO'", "Nardò", "NARDO"),
        ("vivo a nardo' da due anni", "Nardò", "nardo"),
        ("فودجا", "Foggia", "فودجا"),
        ("أنا أعيش في فودجا", "Foggia", "فودجا"),
        ("Фоджа", "Foggia", "Фоджа"),
        ("я живу в Фодже", "Foggia", "Фодже"),
        ("福贾", "Foggia", "福贾"),
        ("我住在福贾", "Foggia", "福贾"),
        ("san severo", "San Severo", "san severo"),
        ("lavoro a SAN SEVERO", "San Severo", "SAN SEVERO"),
        ("Martina Franca", "Martina Franca", "Martina Franca"),
        ("Monte Sant'Angelo", "Monte Sant'Angelo", "Monte Sant'Angelo"),
        ("sto al Borgo Mezzanone", "Manfredonia", "Borgo Mezzanone"),
        ("abito a Cerignloa", "Cerignola", "Cerignloa"),
        ("where is the questura in Bari?", "Bari", "Bari"),
        ("Lecce mein kaam chahiye", "Lecce", "Lecce"),
        ("অফিস বারি", "Bari", "বারি"),
        # Indic and Persian/Urdu transliterations, spelt loosely or with glued endings.
        ("मैं फोज्जा में रहता हूँ", "Foggia", "फोज्जा"),
        ("আমি ফোজ্জায় থাকি", "Foggia", "ফোজ্জায়"),
        ("বারিতে কাজ", "Bari", "বারিতে"),
        ("ਮੈਂ ਬਾਰਲੇਟਾ ਵਿੱਚ ਹਾਂ", "Barletta", "ਬਾਰਲੇਟਾ"),
        ("ਬਾਰਲੇੱਟਾ", "Barletta", "ਬਾਰਲੇੱਟਾ"),
        ("من در گالیپولی زندگی می کنم", "Gallipoli", "گالیپولی"),
        ("میں ٹارانٹو میں ہوں", "Taranto", "ٹارانٹو"),
        ("په مانفریدونیا کې", "Manfredonia", "مانفریدونیا"),
        ("सैन सेवेरो", "San Severo", "सैन सेवेरो"),
        ("ব্রিন্দিসিতে থাকি", "Brindisi", "ব্রিন্দিসিতে"),
    ],
)
def test_town_written_any_way_resolves_to_the_official_comune(text, value, written):
    assert cities(text) == [(value, written)]


def test_city_entity_carries_istat_code_and_extractor():
    (entity,) = [e for e in entities("questura di Nardò") if e["entity"] == "city"]
    nardo = next(c for c in comuni() if c.name == "Nardò")
    assert entity["additional_info"] == {"istat": nardo.istat}
    assert entity["extractor"] == "GazetteerEntityExtractor"


def test_every_official_comune_name_is_found():
    missing = [c.name for c in comuni() if [v for v, _ in cities(f"vivo a {c.name}")] != [c.name]]
    assert missing == []


@pytest.mark.parametrize(
    "text",
    [
        "Salve, ho bisogno di aiuto per il permesso",
        "salve a tutti",
        "ho comprato le noci e una candela",
        "devo lavare i panni",
        "domani mattina vado al lavoro, di matino non posso",
        "mi serve una maglia pesante, le maglie sono care",
        "la copertina del libro",
        "mi piace la gelatina",
        "Fidel Castro era cubano",
        "ho la tessera sanitaria scaduta",
        "I need to renew my residence permit",
        "je voudrais un rendez-vous à la préfecture",
        "necesito un abogado gratis",
        "мне нужен врач",
        "أحتاج إلى طبيب",
        "我需要医生",
        "where can I learn Italian",
        "il mio monopolio",
        "ok grazie mille",
        "questo è il mio codice fiscale",
        "बिरयानी कैसे बनाते हैं",
        "एक बार फिर से",
        "الباسبور الايطالي كيفاش ناخدو",
        "ਲਾਤੀਨਾ ਤੋਂ ਆਇਆ ਹਾਂ",
        "আমার ত্রাণ দরকার",
        "یک بار دیگر",
    ],
)
def test_no_town_in_ordinary_sentences(text):
    assert cities(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("vivo a Salve", "Salve"),
        ("abito a Noci", "Noci"),
        ("lavoro in Castro", "Castro"),
        ("sono di Candela", "Candela"),
    ],
)
def test_towns_named_like_words_count_in_a_place_context(text, value):
    assert [v for v, _ in cities(text)] == [value]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("dove è la questura", "office", "questura"),
        ("a che ora apre la prefettura", "office", "prefettura"),
        ("ufficio anagrafe Lecce", "office", "anagrafe"),
        ("centro per l'impiego di Foggia", "office", "centro_impiego"),
        ("iscrizione al CPIA", "office", "cpia"),
        ("agenzia delle entrate Bari", "office", "agenzia_entrate"),
        ("la commissione territoriale mi ha chiamato", "office", "commissione_territoriale"),
        ("dove trovo la квестура", "office", "questura"),
        ("I need codice fiscale", "service", "tax_code"),
        ("ho il permeso scaduto", "service", "residence_permit"),
        ("titre de séjour expiré", "service", "residence_permit"),
        ("tessera sanitaria", "service", "health_care"),
        ("necesito un abogado", "service", "legal_aid"),
    ],
)
def test_offices_and_services_map_to_canonical_keys(text, entity, value):
    assert (entity, value) in [(e["entity"], e["value"]) for e in entities(text)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("write in English", "en"),
        ("parla italiano", "it"),
        ("بالعربي لو سمحت", "ar"),
        ("en français svp", "fr"),
        ("请用中文", "zh"),
        ("українською будь ласка", "uk"),
    ],
)
def test_language_entity_for_choose_language(text, code):
    langs = [e for e in entities(text) if e["entity"] == "language"]
    assert [e["value"] for e in langs] == [code]
    assert text[langs[0]["start"] : langs[0]["end"]]


def test_offsets_point_at_what_was_written():
    text = "ciao, devo andare in questura a Nardo domani"
    for match in find(text):
        assert text[match.start : match.end] == match.text


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂" * 500, "x" * 10_000])
def test_garbage_yields_no_entities(text):
    assert entities(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("我想找工作", "employment"),
        ("ищу работу в Бари", "employment"),
        ("نوکری تلاش کر رہا ہوں", "employment"),
        ("আমার উকিল দরকার", "legal_aid"),
        ("мне нужна прописка", "residence_registration"),
        ("quiero empadronarme", "residence_registration"),
        ("孩子入学需要什么", "school_enrollment"),
        ("স্কুলে ভর্তি করাতে চাই", "school_enrollment"),
        ("كيف أحصل على البطاقة الصحية", "health_care"),
        ("cherche un logement pas cher", "housing"),
        ("学意大利语在哪里", "italian_course"),
        ("نیاز به کد مالیاتی دارم", "tax_code"),
        ("मुझे नागरिकता चाहिए", "citizenship"),
    ],
)
def test_services_are_named_in_everyday_words_of_every_script(text, value):
    # A service named outranks a classifier unsure of a language it saw few examples of.
    assert ("service", value) in [(e["entity"], e["value"]) for e in entities(text)]


@pytest.mark.parametrize(
    "text",
    ["il mio datore di lavoro non mi paga", "vivo in una casa con altri", "I work at a school"],
)
def test_topic_words_shared_by_several_services_name_none(text):
    assert [e for e in entities(text) if e["entity"] == "service"] == []
