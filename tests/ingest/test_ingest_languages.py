"""Language detection answers exactly what langdetect itself answers, from a smaller table."""

from __future__ import annotations

import pytest
from langdetect import DetectorFactory, detect_langs

from ingest.languages import detect_languages, language_probabilities

TEXTS = [
    "This application concerns a method for moulding plastic parts and the use of such parts. " * 3,
    "La présente demande concerne un procédé de moulage de pièces en plastique et leur usage. " * 3,
    "Die Anmeldung betrifft ein Verfahren zum Formen von Kunststoffteilen und deren Verwendung. "
    "The claims are in English: a method for moulding parts, comprising heating a mould. ",
    "Изобретение относится к способу формования пластмассовых деталей и их применению. " * 3,
    "يتعلق الاختراع بطريقة لتشكيل الأجزاء البلاستيكية واستخدامها في الصناعة. " * 3,
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_probabilities_as_langdetect_itself(text):
    DetectorFactory.seed = 0
    expected = [(guess.lang, guess.prob) for guess in detect_langs(text)]

    assert language_probabilities(text) == expected


def test_languages_above_a_fifth_most_likely_first():
    assert detect_languages(TEXTS[0]) == ["en"]
    assert detect_languages(TEXTS[3]) == ["ru"]
    assert detect_languages("Fig. 1") == []
