"""The similar-marks features on generated logos (the benchmark's generator): a mark is found
first through each kind of variant among other marks, and a blank image has no features."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from similarity import marks_features
from similarity.marks_index import MarkIndex
from tests.bench.marks import VARIANTS, logo, variant


@pytest.fixture(scope="module")
def stored():
    chooser = random.Random(7)
    images = [logo(chooser) for _ in range(40)]
    vectors = np.stack([marks_features.mark_vectors(image) for image in images])
    return images, MarkIndex(list(range(len(images))), vectors)


@pytest.mark.parametrize("kind", VARIANTS)
def test_each_variant_finds_its_mark_among_others(stored, kind):
    images, index = stored
    chooser = random.Random(kind)
    found = 0
    for target in range(10):
        query = marks_features.query_vectors(variant(images[target], kind, chooser))
        hits = index.search(query, 10)
        assert len(hits) == 10 and hits[0].score >= hits[-1].score
        found += target in [hit.key for hit in hits[:3]]
    assert found >= 9


def test_only_allowed_marks_are_answered(stored):
    images, index = stored
    allowed = np.zeros(len(index), dtype=bool)
    allowed[[5, 6]] = True
    hits = index.search(marks_features.query_vectors(images[0]), 10, allowed=allowed)
    assert sorted(hit.key for hit in hits) == [5, 6]


def test_a_blank_image_has_no_features():
    blank = Image.new("RGB", (200, 100), (250, 250, 250))
    assert marks_features.mark_vectors(blank) is None
    assert marks_features.query_vectors(blank) is None
