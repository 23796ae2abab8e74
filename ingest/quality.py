"""The text-quality gate: is an extracted text something a person (and search) can read?

Pure functions over the text, no I/O. `measure` counts what betrays unreadable extraction;
`judge` turns the counts into a verdict with one plain sentence saying what is wrong. The rules,
in the order they are checked (the first that fails is the reason):

1. replacement characters (U+FFFD, what a decoder writes for bytes it could not map) are more
   than `MAX_REPLACEMENT_SHARE` of the text's visible characters;
2. control characters (C0/C1 controls other than whitespace, private-use and unassigned code
   points: what a PDF font without a map to Unicode yields) are more than `MAX_CONTROL_SHARE`;
3. fewer than `MIN_CHARS_PER_PAGE` visible characters per page (the page count is known): the
   pages are probably images, or the text is drawn as curves;
4. script consistency: of the letters, less than `MIN_SCRIPT_SHARE` are in the script(s) of the
   text's language (detected, else the document's declared one);
5. plausible words: of the words in an alphabetic script (Latin, Cyrillic, Greek), less than
   `MIN_WORD_SHARE` look like words: one script, lower/Title/UPPER case, at most
   `MAX_WORD_LETTERS` letters, and a vowel in any word of four letters or more. No dictionary:
   this catches glyph soup ("Ãƒâ€šÂ", "tHqzXw", "ñðïðñ") and tolerates names, codes and
   languages edms has no word list for;
6. OCR fragments (text read by OCR only): the alphabetic words average fewer than
   `MIN_OCR_WORD_LETTERS` letters. Tesseract reading a script none of its languages covers (a
   Chinese scan read in English) writes runs of one- and two-letter capitals ("Fp Rf A BAS Al"),
   each plausible as a word; natural Latin-script text averages four to five letters. Born-digital
   text is not judged so: tables and codes are short words by nature.

The gate must cost little next to extraction (≤ 10 % of it): rules 1 and 3 count the whole
text with `str.count`; rule 2 scans up to `SHARE_SAMPLE_CHARS` characters and rules 4 and 5 up
to `SAMPLE_CHARS` characters, in pieces spread over the text (a share needs no more). Texts too
short for a share to mean anything pass rules 4 and 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REPLACEMENT_SHARE = 0.05
MAX_CONTROL_SHARE = 0.05
MIN_CHARS_PER_PAGE = 5
MIN_SCRIPT_SHARE = 0.5
MIN_WORD_SHARE = 0.5
MAX_WORD_LETTERS = 30
MIN_OCR_WORD_LETTERS = 3.0
MIN_LETTERS = 40  # below this a share of letters is noise
MIN_WORDS = 20  # below this a share of words is noise
SAMPLE_CHARS = 60_000
SHARE_SAMPLE_CHARS = 1_000_000
SAMPLE_PIECES = 6

_WHITESPACE = " \n\t\r\f\v\xa0\u2028\u2029\u3000"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufff0-\ufffc\ufffe\uffff]")
_WORD = re.compile(r"[^\W\d_]+")

# Letters of each script (the common blocks; rare extensions count as "other").
SCRIPTS = {
    "Latin": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
    "Cyrillic": "\u0400-\u052f",
    "Greek": "\u0370-\u03ff\u1f00-\u1fff",
    "Arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
    "Hebrew": "\u0590-\u05ff",
    "Devanagari": "\u0900-\u097f",
    "Thai": "\u0e00-\u0e7f",
    "Han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "Kana": "\u3040-\u30ff",
    "Hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
}
_SCRIPT_LETTERS = {name: re.compile(f"[{ranges}]") for name, ranges in SCRIPTS.items()}
_ALPHABETIC = ("Latin", "Cyrillic", "Greek")
_WHOLE_WORD = {name: re.compile(f"[{SCRIPTS[name]}]+") for name in _ALPHABETIC}
_VOWELS = {
    "Latin": re.compile(r"[aeiouyAEIOUYà-æè-ïò-öø-ýÀ-ÆÈ-ÏÒ-ÖØ-Ýāăąēĕėęěīįıōőũūůűųŷ]"),
    "Cyrillic": re.compile(r"[аеёиоуыэюяієїўАЕЁИОУЫЭЮЯІЄЇЎ]"),
    "Greek": re.compile(r"[αεηιουωάέήίόύώϊϋΑΕΗΙΟΥΩΆΈΉΊΌΎΏ]"),
}

# The script(s) a language is written in (ISO 639-1, as `ingest.languages` detects them).
_LATIN = (
    "af ca cs cy da de en es et eu fi fr ga gl hr hu id is it lt lv ms mt nl no pl pt ro sk sl "
    "so sq sv sw tl tr vi"
)
LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    **{code: ("Latin",) for code in _LATIN.split()},
    **{code: ("Cyrillic",) for code in ("be", "bg", "kk", "mk", "ru", "sr", "uk")},
    **{code: ("Arabic",) for code in ("ar", "fa", "ur")},
    **{code: ("Devanagari",) for code in ("hi", "mr", "ne")},
    "el": ("Greek",),
    "he": ("Hebrew",),
    "th": ("Thai",),
    "zh": ("Han",),
    "ja": ("Han", "Kana"),
    "ko": ("Hangul", "Han"),
}
LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fr": "French", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "ru": "Russian", "uk": "Ukrainian", "zh": "Chinese",
}  # fmt: skip


@dataclass(frozen=True)
class TextMeasure:
    """What `measure` counted. Shares are of the visible (non-whitespace) characters, of the
    sample's letters, or of its alphabetic words; None when there was too little to count."""

    visible: int
    replacement_share: float
    control_share: float
    pages: int | None
    chars_per_page: float | None
    expected_scripts: tuple[str, ...]
    language: str
    script_share: float | None
    word_share: float | None
    ocr_word_letters: float | None = None  # mean letters per alphabetic word of an OCR'd text


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: str = ""  # "replacement", "control", "sparse", "script", "words", "fragments", "empty"
    reason: str = ""  # one sentence for a person; "" when ok


def scripts_of(language: str) -> tuple[str, ...]:
    """The scripts `language` (ISO 639-1, `zh-cn`, `fr-CA`) is written in; () if unknown."""
    return LANGUAGE_SCRIPTS.get(language.lower().split("-")[0].split("_")[0], ())


def measure(
    text: str, *, page_count: int | None = None, languages: list[str] = (), ocr: bool = False
) -> TextMeasure:
    """Count what the gate judges in `text`; `languages`: the text's languages, most likely
    first (detected, else declared), whose scripts the letters should be in; `ocr`: the text
    was read by OCR (rule 6 applies)."""
    visible = len(text) - sum(text.count(space) for space in _WHITESPACE)
    share = (lambda count: count / visible) if visible else (lambda count: 0.0)
    share_sample = _sample(text, SHARE_SAMPLE_CHARS)
    # Of the sample's characters, scaled to the whole text's visible ones.
    control = len(_CONTROL.findall(share_sample)) * len(text) / max(len(share_sample), 1)
    pages = page_count if page_count and page_count > 0 else None
    language = next((code for code in languages if scripts_of(code)), "")
    expected = scripts_of(language) if language else ()
    sample = _sample(text, SAMPLE_CHARS)
    word_share, word_letters = _word_counts(sample)
    return TextMeasure(
        visible=visible,
        replacement_share=share(text.count("\ufffd")),
        control_share=min(share(control), 1.0),
        pages=pages,
        chars_per_page=visible / pages if pages else None,
        expected_scripts=expected,
        language=language,
        script_share=_script_share(sample, expected),
        word_share=word_share,
        ocr_word_letters=word_letters if ocr else None,
    )


def judge(found: TextMeasure) -> Verdict:
    """The gate's verdict on a measured text (see the module's rules)."""
    if found.visible == 0:
        return Verdict(False, "empty", "no text was found")
    if found.replacement_share > MAX_REPLACEMENT_SHARE:
        return Verdict(
            False,
            "replacement",
            f"the extracted text is {_mostly(found.replacement_share)} unreadable characters "
            f"({_percent(found.replacement_share)} replacement characters)",
        )
    if found.control_share > MAX_CONTROL_SHARE:
        return Verdict(
            False,
            "control",
            f"the extracted text is {_mostly(found.control_share)} control or private "
            f"characters ({_percent(found.control_share)}): the fonts probably lack a map "
            "to Unicode",
        )
    if found.chars_per_page is not None and found.chars_per_page < MIN_CHARS_PER_PAGE:
        pages = f"{found.pages} page{'s' if found.pages != 1 else ''}"
        return Verdict(
            False,
            "sparse",
            f"only {found.visible} character{'s' if found.visible != 1 else ''} for {pages}: "
            "the pages are probably images",
        )
    if found.script_share is not None and found.script_share < MIN_SCRIPT_SHARE:
        scripts = " or ".join(found.expected_scripts)
        language = LANGUAGE_NAMES.get(found.language.split("-")[0], found.language)
        return Verdict(
            False,
            "script",
            f"only {_percent(found.script_share)} of the letters are in the {scripts} script "
            f"expected for {language}",
        )
    if found.word_share is not None and found.word_share < MIN_WORD_SHARE:
        return Verdict(
            False,
            "words",
            f"only {_percent(found.word_share)} of the words look like words: the text is "
            "probably garbled",
        )
    if found.ocr_word_letters is not None and found.ocr_word_letters < MIN_OCR_WORD_LETTERS:
        return Verdict(
            False,
            "fragments",
            f"the words OCR read average {found.ocr_word_letters:.1f} letters: the page is "
            "probably in a script the OCR languages do not cover, or not text",
        )
    return Verdict(True)


def check(
    text: str, *, page_count: int | None = None, languages: list[str] = (), ocr: bool = False
) -> Verdict:
    """`judge(measure(...))`."""
    return judge(measure(text, page_count=page_count, languages=languages, ocr=ocr))


def _sample(text: str, size: int) -> str:
    """Up to `size` characters in `SAMPLE_PIECES` pieces spread over the text."""
    if len(text) <= size:
        return text
    piece = size // SAMPLE_PIECES
    step = (len(text) - piece) // (SAMPLE_PIECES - 1)
    return " ".join(text[i * step : i * step + piece] for i in range(SAMPLE_PIECES))


def _script_share(sample: str, expected: tuple[str, ...]) -> float | None:
    if not expected:
        return None
    letters = sum(len(word) for word in _WORD.findall(sample))
    if letters < MIN_LETTERS:
        return None
    in_script = sum(len(_SCRIPT_LETTERS[name].findall(sample)) for name in expected)
    return min(in_script / letters, 1.0)


def _word_counts(sample: str) -> tuple[float | None, float | None]:
    """Of the sample's alphabetic words: the share that look like words, and their mean
    letters; (None, None) when there are too few to tell."""
    words = plausible = letters = 0
    for word in _WORD.findall(sample):
        script = _alphabetic_script(word)
        if script is None:
            continue  # CJK, Arabic, … have no case and (often) no spaces: not judged here
        words += 1
        plausible += _plausible(word, script)
        letters += len(word)
    if words < MIN_WORDS:
        return None, None
    return plausible / words, letters / words


def _alphabetic_script(word: str) -> str | None:
    """The alphabetic script of the word's first letter; None for other scripts."""
    first = word[0]
    for name in _ALPHABETIC:
        if _SCRIPT_LETTERS[name].match(first):
            return name
    return None


def _plausible(word: str, script: str) -> bool:
    if len(word) > MAX_WORD_LETTERS or not _WHOLE_WORD[script].fullmatch(word):
        return False  # glued glyph runs, or scripts mixed within one word
    if not (word.islower() or word.isupper() or word.istitle()):
        return False
    return len(word) < 4 or _VOWELS[script].search(word) is not None


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _mostly(share: float) -> str:
    return "mostly" if share >= 0.5 else "partly"


# Formats a text extractor has nothing to read in (what identification calls an unknown file).
UNKNOWN_FORMATS = {"", "application/octet-stream"}


def no_text_reason(
    *,
    media_type: str,
    page_count: int | None = None,
    blank_pages: int = 0,
    scanned_pages: int = 0,
    ocr_readable: bool = False,
    ocr_ran: bool = False,
    ocr_unavailable: str = "",
    ocr_failure: str = "",
) -> str:
    """Why a version has no text at all, from what identification and extraction found:
    `ocr_readable` (a raster image or a PDF OCR could read), whether OCR ran (and found
    nothing), why it is not available here (`ocr_unavailable`, e.g. "OCR is disabled: …") or
    why it failed (`ocr_failure`)."""
    pdf = media_type == "application/pdf"
    if pdf and page_count and blank_pages >= page_count:
        return "no text: the page is blank" if page_count == 1 else "no text: every page is blank"
    if ocr_failure:
        return f"no text: the pages have no text layer, and OCR could not read them: {ocr_failure}"
    if ocr_unavailable:
        what = "an image" if media_type.startswith("image/") else "scanned pages"
        if pdf and not scanned_pages:
            what = "pages without a text layer (drawings, or text drawn as curves)"
        return f"no text: {what}, and OCR is not available here ({ocr_unavailable})"
    if ocr_ran:
        if media_type.startswith("image/"):
            return "no text: OCR found none in the image (a photo, a drawing or a blank page)"
        return "no text: OCR found none on the pages (drawings, photos or blank scans)"
    if media_type.startswith("image/"):
        if ocr_readable:
            return "no text: an image that was not read by OCR"
        return f"no text: a drawing or image ({media_type}) that OCR does not read"
    if pdf:
        return "no text: the pages hold drawings or images but no text"
    if media_type in UNKNOWN_FORMATS:
        return "no text: the file's format is not one edms can read (unknown format)"
    return f"no text: the document ({media_type}) is empty or its format holds no text"
