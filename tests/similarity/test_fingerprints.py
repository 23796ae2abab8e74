"""The fingerprints near-duplicate detection compares: a page's perceptual hash survives a
rescan's changes (size, JPEG noise, contrast) and tells different pages apart; MinHash estimates
how much two texts share."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageEnhance

from similarity import minhash, perceptual


def page(seed: int) -> Image.Image:
    """A letter-like page: a letterhead box, then lines of 'text' of varying length."""
    image = Image.new("RGB", (620, 877), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 580, 110), outline="black", width=3)
    for line in range(30):
        length = 120 + (seed * 37 + line * 53) % 400
        top = 150 + line * 22
        draw.rectangle((60, top, 60 + length, top + 9), fill="black")
    return image


def rescanned(image: Image.Image) -> Image.Image:
    smaller = image.resize((320, 453))
    lighter = ImageEnhance.Contrast(smaller).enhance(0.7)
    buffer = io.BytesIO()
    lighter.save(buffer, "JPEG", quality=35)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_a_rescanned_page_hashes_close_and_another_page_far():
    original = perceptual.page_hash(page(1))
    assert original is not None and len(original) == 64
    again = perceptual.page_hash(rescanned(page(1)))
    other = perceptual.page_hash(page(2))
    assert perceptual.distance(original, again) <= 8
    assert perceptual.distance(original, other) > 30  # same letterhead, other lines
    # Close hashes share an LSH key, so the database finds them (then compares them in full).
    assert set(perceptual.lsh_keys(original)) & set(perceptual.lsh_keys(again))


def test_a_blank_page_has_no_hash():
    assert perceptual.page_hash(Image.new("L", (300, 400), 250)) is None


def test_minhash_estimates_the_shared_part_of_two_texts():
    words = [f"w{i}" for i in range(400)]
    text = " ".join(words)
    half_changed = " ".join(words[:200] + [f"x{i}" for i in range(200)])
    same = minhash.signature(text.upper())  # case does not count
    assert minhash.similarity(minhash.signature(text), same) == 1.0
    # 196 of the 592 distinct 5-grams are shared: Jaccard 0.33.
    estimate = minhash.similarity(minhash.signature(text), minhash.signature(half_changed))
    assert 0.2 < estimate < 0.45
    assert minhash.signature("too short to compare") is None
    assert len(minhash.band_keys(same)) == minhash.BANDS
