"""Language detection: the languages a text is written in, as documents carry their codes
(ISO 639-1, `zh-cn`/`zh-tw` for Chinese), from CLD2's compiled-in tables.

The corpus has no extractable French, German, Hebrew or traditional Chinese text: those are
written here, in the style of a filing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pypdfium2 as pdfium
import pytest

from ingest.languages import MIN_LETTERS, detect_languages
from tests.ingest_support import corpus_file, corpus_files

ENGLISH_CLAIM = (
    "1. A method for moulding plastic parts, comprising heating a mould to a first temperature, "
    "injecting a molten polymer into the mould and cooling the part before it is released. "
)
FRENCH_CLAIM = (
    "1. Procédé de moulage de pièces en matière plastique, comprenant le chauffage d'un moule à "
    "une première température, l'injection d'un polymère fondu dans le moule et le "
    "refroidissement de la pièce avant son démoulage. "
)
GERMAN_CLAIM = (
    "1. Verfahren zum Formen von Kunststoffteilen, umfassend das Erwärmen einer Form auf eine "
    "erste Temperatur, das Einspritzen eines geschmolzenen Polymers in die Form und das Abkühlen "
    "des Teils, bevor es entformt wird. "
)
HEBREW_CLAIM = (
    "1. שיטה ליציקת חלקי פלסטיק, הכוללת חימום תבנית לטמפרטורה ראשונה, הזרקת פולימר מותך לתוך "
    "התבנית וקירור החלק לפני שחרורו מהתבנית. "
)
TRADITIONAL_CHINESE_CLAIM = (  # its commas are the full-width ones Chinese is written with
    "1. 一種塑膠零件的成型方法，包括將模具加熱至第一溫度，將熔融的聚合物注入模具中，"  # noqa: RUF001
    "並在脫模之前冷卻該零件。本發明涉及這些零件在汽車工業中的應用。"
)


def pdf_text(name_part: str) -> str:
    pdf = pdfium.PdfDocument(corpus_file(name_part).path)
    try:
        return "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def xml_text(name_part: str) -> str:
    return " ".join(ET.parse(corpus_file(name_part).path).getroot().itertext())


def test_english_patent_text_from_the_corpus():
    greenbook = corpus_file("US03937375.greenbook").path.read_text(encoding="utf-8")
    assert detect_languages(greenbook) == ["en"]
    assert detect_languages(xml_text("US06859910.xml")) == ["en"]


def test_arabic_chinese_and_japanese_text_from_the_corpus():
    assert detect_languages(pdf_text("ArabicCIDTrueType")) == ["ar"]
    assert detect_languages(pdf_text("XiaoBiaoSong")) == ["zh-cn"]
    assert detect_languages(xml_text("2021193879.xml")) == ["ja"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FRENCH_CLAIM, ["fr"]),
        (GERMAN_CLAIM, ["de"]),
        (HEBREW_CLAIM, ["he"]),  # CLD2 says `iw`, the code withdrawn in 1989
        (TRADITIONAL_CHINESE_CLAIM, ["zh-tw"]),  # CLD2 says `zh-Hant`
    ],
)
def test_each_language_by_the_code_documents_carry(text, expected):
    assert detect_languages(text) == expected


def test_a_bilingual_text_gives_both_languages_the_larger_first():
    both = ENGLISH_CLAIM * 2 + FRENCH_CLAIM * 3
    assert detect_languages(both) == ["fr", "en"]
    assert detect_languages(ENGLISH_CLAIM * 3 + FRENCH_CLAIM) == ["en", "fr"]


def test_at_most_three_languages_each_at_least_a_fifth():
    # CLD2 counts bytes (Hebrew letters are two) and names three languages: French, the
    # fourth, is left out; German and Hebrew tie at 29% and keep CLD2's order.
    four = ENGLISH_CLAIM + FRENCH_CLAIM + GERMAN_CLAIM + HEBREW_CLAIM
    assert detect_languages(four) == ["de", "he", "en"]
    # A sentence of French in a long English text is less than a fifth of it.
    assert detect_languages(ENGLISH_CLAIM * 6 + FRENCH_CLAIM) == ["en"]


def test_too_little_text_gives_no_language():
    assert detect_languages("Fig. 1") == []
    assert detect_languages("") == []
    short = "A mould and a part."
    assert sum(ch.isalpha() for ch in short) < MIN_LETTERS
    assert detect_languages(short) == []
    assert detect_languages("1234 5678 ---- //// " * 50) == []


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("\x00\x01\x02\x7f\x80\x9f" * 50 + ENGLISH_CLAIM, ["en"]),  # C0, DEL and C1 controls
        ("a\ud800b\udfffc" * 50 + ENGLISH_CLAIM, ["en"]),  # lone surrogates
        ("\ufffe\uffff\U0010ffff\ufdd0" * 50 + ENGLISH_CLAIM, ["en"]),  # noncharacters
        (ENGLISH_CLAIM.replace(" ", "\x0b\u200b\u2028\x0c"), ["en"]),  # odd separators
        ("\ue000" * 500, []),  # private use only
    ],
)
def test_hostile_text_never_raises(hostile, expected):
    assert detect_languages(hostile) == expected


def test_the_bytes_of_every_corpus_file_read_as_text_never_raise():
    """Extracted text can hold anything a broken file holds: the corpus's raw bytes, decoded
    with surrogates for invalid UTF-8 and as Latin-1 (every control character)."""
    for corpus in corpus_files():
        raw = corpus.path.read_bytes()[:200_000]
        for text in (raw.decode("utf-8", "surrogateescape"), raw.decode("latin-1")):
            found = detect_languages(text)
            assert len(found) <= 3 and all(code == code.lower() for code in found)
