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
