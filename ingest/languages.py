"""Which language(s) a text is in (ISO 639-1 codes, `zh-cn`/`zh-tw` for Chinese)."""

from __future__ import annotations

import pycld2

SAMPLE_CHARS = 20_000
MIN_LETTERS = 40  # below this a guess is noise (a title page, a form with three words)
MIN_PERCENT = 20  # a language counts when it makes up at least a fifth of the text
MAX_LANGUAGES = 3

# CLD2 (Google's Compact Language Detector 2) has its tables compiled into the extension: nothing
# is loaded into Python's memory, and the tables' pages are shared by every process that maps
# them. They are constant and a call keeps its state on its own stack, so a worker's threads
# detect at once without a lock (pycld2 releases the GIL).
#
# CLD2 names a few languages differently from the ISO 639-1 codes documents carry: withdrawn
# codes (`iw`, `jw`), Chinese by script rather than as `zh-cn`/`zh-tw` (the codes documents
# and the search index have used since langdetect), Montenegrin as a region of Serbian.
CLD2_CODES = {
    "zh": "zh-cn",
    "zh-Hant": "zh-tw",
    "iw": "he",
    "jw": "jv",
    "sr-ME": "sr-me",
}


def detect_languages(text: str) -> list[str]:
    """The languages making up at least a fifth of the text's sample (by CLD2's count of its
    bytes), at most three, the largest first; none for a text too short to tell."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return []
    # CLD2 rejects control characters, noncharacters and surrogates as invalid UTF-8 (and
    # Python cannot encode a lone surrogate): every character it accepts is printable, so
    # anything else becomes a space and no extracted text, however hostile, makes it raise.
    printable = "".join(ch if ch.isprintable() else " " for ch in sample)
    # CLD2's `is_reliable` is not asked: it judges its one summary language, and is false unless
    # that language has half of the text and the three languages it names cover 80% of it. A
    # filing in three languages, or the corpus's English trademark record (77% English, the rest
    # codes and numbers), would be "unreliable". A text too short for CLD2 to tell comes back
    # as `un` (unknown), which is dropped.
    _reliable, _text_bytes, details = pycld2.detect(printable, isPlainText=True)
    # CLD2 names at most three languages; ties keep its order (the sort is stable).
    found = sorted(
        ((code, percent) for _name, code, percent, _score in details if _is_language(code)),
        key=lambda language: language[1],
        reverse=True,
    )
    return [
        CLD2_CODES.get(code, code).lower() for code, percent in found if percent >= MIN_PERCENT
    ][:MAX_LANGUAGES]


def _is_language(code: str) -> bool:
    """Not CLD2's unknown (`un`, `xxx`), a script without a language (`xx-Latn`) or one of its
    joke languages (`zzp`, Pig Latin)."""
    return code not in ("un", "xxx") and not code.startswith(("xx-", "zz"))


# ISO 639-1 codes (as documents carry them) to Tesseract's language packs. Tesseract's own codes
# (`ara`, `chi_sim`) are accepted as they are.
TESSERACT_CODES = {
    "ar": "ara",
    "bg": "bul",
    "cs": "ces",
    "da": "dan",
    "de": "deu",
    "el": "ell",
    "en": "eng",
    "es": "spa",
    "fa": "fas",
    "fi": "fin",
    "fr": "fra",
    "he": "heb",
    "hr": "hrv",
    "hu": "hun",
    "it": "ita",
    "ja": "jpn",
    "ko": "kor",
    "mk": "mkd",
    "nl": "nld",
    "no": "nor",
    "pl": "pol",
    "pt": "por",
    "ro": "ron",
    "ru": "rus",
    "sk": "slk",
    "sl": "slv",
    "sr": "srp",
    "sv": "swe",
    "tr": "tur",
    "uk": "ukr",
    "zh": "chi_sim",
    "zh-cn": "chi_sim",
    "zh-tw": "chi_tra",
}


def tesseract_code(language: str) -> str:
    """`fr` → `fra`, `FR-ca` → `fra`, `ara` → `ara`, `chi_sim` → `chi_sim`; '' for an empty or
    unknown code."""
    given = language.strip().lower()
    code = given.replace("_", "-")
    if not code:
        return ""
    if code in TESSERACT_CODES:
        return TESSERACT_CODES[code]
    base = code.split("-")[0]
    if base in TESSERACT_CODES:
        return TESSERACT_CODES[base]
    return given if len(given) >= 3 else ""  # Tesseract's own codes keep their underscore


def split_languages(value: str) -> list[str]:
    """`"ara+eng"`, `"ara, eng"`, `"ar"` → codes in order (not yet mapped)."""
    return [part for part in value.replace(",", "+").replace(" ", "+").split("+") if part]


def ocr_languages(*preferred: str, installed: tuple[str, ...]) -> list[str]:
    """The Tesseract languages to read a scan with: each of `preferred` (a document's language,
    the office's `EDMS_OCR_LANGUAGES`, … in that order, each possibly a `ara+eng` combination)
    mapped to Tesseract codes, without duplicates, keeping only installed packs. Falls back to
    English, or to the first installed pack, so OCR always has a language."""
    chosen: list[str] = []
    for value in preferred:
        for part in split_languages(value or ""):
            code = tesseract_code(part)
            if code and code in installed and code not in chosen:
                chosen.append(code)
    if chosen:
        return chosen
    if "eng" in installed:
        return ["eng"]
    return list(installed[:1])
