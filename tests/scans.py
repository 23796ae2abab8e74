"""Scanned pages for the OCR tests, drawn with Pillow as a 300 dpi scanner would deliver them.

Arabic is shaped and laid out right to left by Pillow's libraqm (bundled in its wheels), so the
page shows joined Arabic letters as printed paper does."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

DPI = 300
A4_WIDTH = 2480  # pixels at 300 dpi
LINE_HEIGHT = 120


def page(lines: list[str], font_path: str, *, rtl: bool = False, mode: str = "L") -> Image.Image:
    """A page-wide strip of text at 300 dpi (14 pt type), as a scan of a printed letter."""
    image = Image.new(mode, (A4_WIDTH, 200 + LINE_HEIGHT * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, 58)
    for number, line in enumerate(lines):
        y = 100 + LINE_HEIGHT * number
        if rtl:
            width = draw.textlength(line, font=font, direction="rtl", language="ar")
            draw.text(
                (A4_WIDTH - 200 - width, y),
                line,
                font=font,
                fill="black",
                direction="rtl",
                language="ar",
            )
        else:
            draw.text((200, y), line, font=font, fill="black")
    return image


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, dpi=(DPI, DPI), **options)
    return buffer.getvalue()


def g4_tiff(pages: list[Image.Image]) -> bytes:
    """A multi-page bilevel TIFF compressed with CCITT Group 4, as fax and archive scans are."""
    bilevel = [p.convert("1") for p in pages]
    buffer = io.BytesIO()
    bilevel[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=bilevel[1:],
        compression="group4",
        dpi=(DPI, DPI),
    )
    return buffer.getvalue()
