"""`ingest.uploaded_images`: an uploaded query image is decoded in the sandbox and handed back
as a small upright RGB PNG, transparency over white; what cannot be read is refused with a
reason, within the sandbox's limits."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ingest import uploaded_images


def upload(image: Image.Image, fmt: str = "PNG", **options) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return SimpleUploadedFile(f"query.{fmt.lower()}", buffer.getvalue())


def test_a_large_photo_comes_back_small_upright_and_rgb():
    photo = Image.new("RGB", (3000, 1500), "navy")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turned 90° clockwise
    made = uploaded_images.bounded_png(upload(photo, "JPEG", exif=exif))
    with Image.open(io.BytesIO(made)) as png:
        assert png.format == "PNG" and png.mode == "RGB"
        assert png.size == (256, 512)  # upright: taller than wide, longer side 512


def test_transparency_is_background():
    clear = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    with Image.open(io.BytesIO(uploaded_images.bounded_png(upload(clear)))) as png:
        assert png.getpixel((20, 20)) == (255, 255, 255)


def test_more_pixels_than_allowed_are_refused_before_decoding():
    wide = upload(Image.new("1", (8000, 6000)))  # 48 megapixels, a few kB
    with pytest.raises(uploaded_images.UnreadableImage, match="8000 x 6000 pixels") as refused:
        uploaded_images.bounded_png(wide)
    assert refused.value.too_large


def test_a_non_image_is_unreadable():
    with pytest.raises(uploaded_images.UnreadableImage, match="not an image") as refused:
        uploaded_images.bounded_png(SimpleUploadedFile("query.png", b"%PDF-1.7\n" * 100))
    assert not refused.value.too_large


def test_the_sandbox_memory_cap_bounds_the_decoding(settings):
    """36 megapixels of RGBA (~140 MiB decoded, from a 150 kB PNG) under a 200 MiB cap: the
    child is stopped, the web process is not touched; a small image still passes."""
    settings.EDMS_INGEST_MEMORY_MIB = 200
    large = upload(Image.new("RGBA", (6000, 6000), (10, 20, 30, 255)))
    with pytest.raises(uploaded_images.UnreadableImage, match="within the limits") as refused:
        uploaded_images.bounded_png(large)
    assert refused.value.too_large
    assert uploaded_images.bounded_png(upload(Image.new("RGBA", (300, 300), "red")))
