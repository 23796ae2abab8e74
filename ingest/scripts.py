"""Which script a scanned page is written in, and which Tesseract packs read it.

When a document's language is unknown, the OCR step asks Tesseract's orientation-and-script
detection (`tesseract --psm 0`, the `osd` pack) which script each page shows (`page_scripts`, a
sandbox operation: it renders the untrusted file's pages with pypdfium2 or Pillow), and reads the
scan with the packs of the scripts found (`script_languages`, in the worker): a Chinese scan
OCR'd with English only comes back as junk. A document's declared language still wins (the OCR
step does not ask), and the office's list (`EDMS_OCR_LANGUAGES`) stays the fallback.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator

from ingest.extractors.base import ExtractionFailed
from ingest.image_formats import open_image
from ingest.image_pdf import embeddable
from ingest.languages import ocr_languages
from ingest.render import PDF_MEDIA_TYPE

# The pages looked at, spread over the document: OSD costs a tenth to a quarter of a page's OCR,
# and a long scan is rarely in more scripts than its first, middle and last pages show.
MAX_PAGES = 10
RENDER_DPI = 300  # what scanners deliver and Tesseract is trained on
MAX_PIXELS = 13_000_000  # an A3 page at ~250 dpi: a hostile page size cannot exhaust memory
# Tesseract's OSD names no script below 50 characters on a page (its `min_characters_to_try`);
# a two-line Arabic letter joins its letters into fewer shapes than that. Twenty still tells.
MIN_CHARACTERS = 20
OSD_TIMEOUT_S = 60

# Tesseract's packs for each script its OSD names, the most used in IP filings first. OSD tells
# Han from Japanese (Han with kana) and Korean (Han with Hangul), not simplified Chinese from
# traditional: a Han page gets both packs, the office's own preference first. Latin and Fraktur
# pages are read with the office's list (`script_languages`); "Common" (digits, punctuation)
# names no script.
SCRIPT_PACKS: dict[str, tuple[str, ...]] = {
    "Arabic": ("ara", "fas", "urd"),
    "Cyrillic": ("rus", "ukr", "bul", "srp", "mkd", "bel", "kaz"),
    "Han": ("chi_sim", "chi_tra"),
    "Japanese": ("jpn",),
    "Hiragana": ("jpn",),
    "Katakana": ("jpn",),
    "Korean": ("kor",),
    "Hangul": ("kor",),
    "Greek": ("ell",),
    "Hebrew": ("heb", "yid"),
    "Devanagari": ("hin", "mar", "nep"),
    "Thai": ("tha",),
    "Georgian": ("kat",),
    "Armenian": ("hye",),
    "Bengali": ("ben",),
    "Tamil": ("tam",),
    "Telugu": ("tel",),
    "Kannada": ("kan",),
    "Malayalam": ("mal",),
    "Gujarati": ("guj",),
    "Gurmukhi": ("pan",),
    "Khmer": ("khm",),
    "Lao": ("lao",),
    "Sinhala": ("sin",),
    "Myanmar": ("mya",),
    "Ethiopic": ("amh",),
    "Tibetan": ("bod",),
}
LATIN_SCRIPTS = ("Latin", "Fraktur")
# Every pack of a script is a language Tesseract weighs each doubtful word in: three at most.
MAX_PACKS_PER_SCRIPT = 3
_NON_LATIN_PACKS = {pack for packs in SCRIPT_PACKS.values() for pack in packs}


def page_scripts(*, path: str, media_type: str, max_pages: int = MAX_PAGES) -> dict:
    """Sandbox operation: the script Tesseract's OSD sees on the pages of a PDF or an image (at
    most `max_pages`, spread over it). Returns `{"pages": total, "scripts": [{"page": 1,
    "script": "Arabic", "confidence": 2.0}, …], "looked_at": [1, …]}`; a page with too little
    text to tell is left out of `scripts`. Raises `ExtractionFailed` when the file's pages
    cannot be rendered."""
    workdir = tempfile.mkdtemp(prefix="osd-")  # the job's directory (TMPDIR)
    total, pages = _pages(path, media_type, max_pages)
    found, looked_at = [], []
    for number, image in pages:
        looked_at.append(number)
        png = os.path.join(workdir, f"page-{number}.png")
        image.save(png)
        seen = _osd(png)
        os.remove(png)
        if seen is not None:
            found.append({"page": number, "script": seen[0], "confidence": seen[1]})
    return {"pages": total, "scripts": found, "looked_at": looked_at}


def _pages(path: str, media_type: str, max_pages: int) -> tuple[int, Iterator]:
    """How many pages the file has, and (page number, greyscale image) of those looked at."""
    if media_type == PDF_MEDIA_TYPE:
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise ExtractionFailed("damaged-pdf", f"pdfium: {exc}") from None
        return len(pdf), _pdf_pages(pdf, _sample(len(pdf), max_pages))
    from PIL import UnidentifiedImageError

    try:
        image = open_image(path)
        total = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise ExtractionFailed("unreadable-image", f"Pillow: {exc}") from None
    return total, _image_pages(image, _sample(total, max_pages))


def _sample(total: int, most: int) -> list[int]:
    """Page indexes: all of them, or `most` spread evenly from the first to the last."""
    if total <= most:
        return list(range(total))
    return sorted({round(i * (total - 1) / (most - 1)) for i in range(most)})


def _pdf_pages(pdf, indexes: list[int]) -> Iterator:
    import pypdfium2 as pdfium

    for index in indexes:
        try:
            page = pdf[index]
            width, height = page.get_size()  # points
            scale = min(RENDER_DPI / 72, math.sqrt(MAX_PIXELS / max(width * height, 1)))
            image = page.render(scale=scale, grayscale=True).to_pil()
        except pdfium.PdfiumError:
            continue  # a broken page tells no script; the others still may
        yield index + 1, image


def _image_pages(image, indexes: list[int]) -> Iterator:
    for index in indexes:
        image.seek(index)
        frame = embeddable(image.copy())  # opaque and 8-bit, as OCR reads it
        shrink = math.sqrt(MAX_PIXELS / max(frame.width * frame.height, 1))
        if shrink < 1:  # a 600 dpi scan: Tesseract tells its script as well from less
            frame = frame.resize((int(frame.width * shrink), int(frame.height * shrink)))
        yield index + 1, frame


def _osd(png: str) -> tuple[str, float] | None:
    """(script, confidence) as `tesseract --psm 0` tells them; None if it cannot tell."""
    command = ["tesseract", png, "stdout", "--psm", "0"]
    command += ["-c", f"min_characters_to_try={MIN_CHARACTERS}"]
    try:
        said = subprocess.run(
            command, capture_output=True, text=True, timeout=OSD_TIMEOUT_S, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    script = re.search(r"^Script: (\w+)", said, re.MULTILINE)
    confidence = re.search(r"^Script confidence: ([0-9.]+)", said, re.MULTILINE)
    if script is None or script.group(1) == "Common":
        return None
    return script.group(1), float(confidence.group(1)) if confidence else 0.0


def script_languages(
    scripts: Iterable[str], *preferred: str, installed: tuple[str, ...]
) -> list[str]:
    """The Tesseract packs to read pages of `scripts` with: each script's installed packs (those
    among `preferred` first), then `preferred` (the dossier's language, the office's list) as
    `ocr_languages` maps them, which is all a Latin page gets; English joins a Latin page when
    none of those reads Latin. OCRmyPDF reads a whole file with one language list, so a
    document whose pages are in different scripts is read with the union of their packs."""
    fallback = ocr_languages(*preferred, installed=installed)
    chosen: list[str] = []
    for script in dict.fromkeys(scripts):
        candidates = [pack for pack in fallback if pack in SCRIPT_PACKS.get(script, ())]
        candidates += SCRIPT_PACKS.get(script, ())
        packs = [pack for pack in dict.fromkeys(candidates) if pack in installed]
        chosen += [pack for pack in packs[:MAX_PACKS_PER_SCRIPT] if pack not in chosen]
        if script in LATIN_SCRIPTS and not any(reads_latin(pack) for pack in fallback):
            chosen += [] if "eng" not in installed or "eng" in chosen else ["eng"]
    return ocr_languages("+".join(chosen), *fallback, installed=installed)


def reads_latin(pack: str) -> bool:
    """Whether a Tesseract pack reads Latin script (every pack not listed for another script)."""
    return pack not in _NON_LATIN_PACKS


def unreadable(scripts: Iterable[str], installed: tuple[str, ...]) -> list[str]:
    """The scripts found that no installed pack reads."""
    return [
        script
        for script in dict.fromkeys(scripts)
        if script not in LATIN_SCRIPTS
        and not any(pack in installed for pack in SCRIPT_PACKS.get(script, ()))
    ]


def uncovered(
    scripts: Iterable[str], languages: Iterable[str], installed: tuple[str, ...]
) -> list[str]:
    """The scripts found that an installed pack reads but none of `languages` (those an OCR
    pass used) does: reading the pages again with their packs may turn junk into text."""
    used = set(languages)
    return [
        script
        for script in dict.fromkeys(scripts)
        if script not in LATIN_SCRIPTS
        and not used & set(SCRIPT_PACKS.get(script, ()))
        and any(pack in installed for pack in SCRIPT_PACKS.get(script, ()))
    ]


def debian_package(script: str) -> str:
    """The Debian package that reads a script (`tesseract-ocr-chi-sim`), for a note to operators."""
    pack = SCRIPT_PACKS.get(script, ("",))[0]
    return f"tesseract-ocr-{pack.replace('_', '-')}" if pack else "a Tesseract pack for it"
