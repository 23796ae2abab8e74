"""Which language(s) a text is in (ISO 639-1 codes, `zh-cn`/`zh-tw` for Chinese)."""

from __future__ import annotations

import json
import os
import threading

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

SAMPLE_CHARS = 20_000
MIN_LETTERS = 40  # below this a guess is noise (a title page, a form with three words)
MIN_PROBABILITY = 0.2
MAX_LANGUAGES = 3


def detect_languages(text: str) -> list[str]:
    """The languages making up at least a fifth of the text's sample, most likely first."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return []
    try:
        found = language_probabilities(sample)
    except LangDetectException:
        return []
    return [language for language, prob in found if prob >= MIN_PROBABILITY][:MAX_LANGUAGES]


def language_probabilities(text: str) -> list[tuple[str, float]]:
    """langdetect's answer for the text, most likely first: the same as its `detect_langs` with
    seed 0, from a table of its profiles a third the size (see `_SparseDetector`)."""
    detector = _SparseDetector(_profiles())
    detector.append(text)
    return [(guess.lang, guess.prob) for guess in detector.get_probabilities()]


class _SparseDetector(Detector):
    """langdetect's detector over a sparse table. langdetect keeps, for each of its ~88,000
    n-grams, a list of 55 probabilities (one per language) of which two are not zero on average:
    ~60 MiB in every process that detects. Here each n-gram has a flat tuple of its
    (language index, probability) pairs only (~20 MiB), and a step multiplies each language's
    probability by exactly what langdetect's does (`weight + 0.0` is `weight`): the same
    answers, bit for bit."""

    def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
        if word is None or word not in self.word_lang_prob_map:
            return False
        weight = alpha / self.BASE_FREQ
        pairs = self.word_lang_prob_map[word]
        indexes, probabilities = pairs[::2], pairs[1::2]
        before = [prob[i] for i in indexes]
        for i in range(len(prob)):
            prob[i] *= weight
        for i, previous, word_prob in zip(indexes, before, probabilities, strict=True):
            prob[i] = previous * (weight + word_prob)
        return True


_table: DetectorFactory | None = None
_table_lock = threading.Lock()  # a worker's threads share the table: loaded once


def _profiles() -> DetectorFactory:
    global _table
    with _table_lock:
        if _table is None:
            _table = _load_profiles(PROFILES_DIRECTORY)
        return _table


def _load_profiles(directory: str) -> DetectorFactory:
    """langdetect's profiles as `DetectorFactory.load_profile` reads them (same files, same
    order, same arithmetic), into the sparse table."""
    table = DetectorFactory()
    table.seed = 0  # langdetect samples at random: make its answer repeatable
    index = 0
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            profile = json.load(handle)
        table.langlist.append(profile["name"])
        n_words = profile["n_words"]
        for word, count in profile["freq"].items():
            pairs = table.word_lang_prob_map.get(word, ())
            if 1 <= len(word) <= 3:
                pairs += (index, 1.0 * count / n_words[len(word) - 1])
            table.word_lang_prob_map[word] = pairs
        index += 1
    return table


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
