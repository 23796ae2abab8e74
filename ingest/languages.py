"""Which language(s) a text is in (ISO 639-1 codes, `zh-cn`/`zh-tw` for Chinese)."""

from __future__ import annotations

SAMPLE_CHARS = 20_000
MIN_LETTERS = 40  # below this a guess is noise (a title page, a form with three words)
MIN_PROBABILITY = 0.2
MAX_LANGUAGES = 3


def detect_languages(text: str) -> list[str]:
    """The languages making up at least a fifth of the text's sample, most likely first."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return []
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect samples at random: make its answer repeatable
    try:
        found = detect_langs(sample)
    except LangDetectException:
        return []
    return [guess.lang for guess in found if guess.prob >= MIN_PROBABILITY][:MAX_LANGUAGES]


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
    """`fr` → `fra`, `FR-ca` → `fra`, `ara` → `ara`; '' for an empty or unknown code."""
    code = language.strip().lower().replace("_", "-")
    if not code:
        return ""
    if code in TESSERACT_CODES:
        return TESSERACT_CODES[code]
    base = code.split("-")[0]
    if base in TESSERACT_CODES:
        return TESSERACT_CODES[base]
    return code if len(code) >= 3 else ""


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
