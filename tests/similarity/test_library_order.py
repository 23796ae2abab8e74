"""A process that uses the vector index still reads PDFs: usearch, loaded first, broke pikepdf's
conversion of PDF numbers (`similarity.vectorindex` imports pikepdf before it). Run in a fresh
Python, as a web process or a `similarity` worker starts, so no earlier test's imports help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import sys
import django
django.setup()
from similarity import vectorindex  # as the first similar-documents query or embedding task does
from PIL import Image
from ingest.image_pdf import image_to_pdf
import pikepdf
image = Image.new("1", (1700, 2200), 1)
image.save(sys.argv[1] + "/fax.tif", compression="group4", dpi=(200, 200))
image_to_pdf(sys.argv[1] + "/fax.tif", sys.argv[1] + "/fax.pdf")
with pikepdf.open(sys.argv[1] + "/fax.pdf") as pdf:
    print(float(pdf.pages[0].mediabox[2]))
"""


def test_pdf_numbers_read_after_the_vector_index_is_loaded(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "edms.settings"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # 1700 pixels at 200 dpi: 8.5 inches, 612 points.
    assert done.stdout.strip().splitlines()[-1] == "612.0"
