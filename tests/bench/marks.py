"""Similar-marks benchmark (issue 20, points 4 and 5): recall@10 and precision of the shape
descriptor (`similarity.marks_features`) against a pHash-only baseline, and search latency at
50,000 marks. It prints figures; it asserts nothing.

The labelled set is generated here (PIL): `--marks` logo-like images (shapes in colours, some
with a word) are stored with `--distractors` others; each stored mark is queried through five
variants — rescaled, rotated up to ±15°, recoloured, cropped 10 %, a word added — and a query
finds its mark when the mark is among the first ten (recall@10); precision is the share of
queries whose first answer is their mark (precision@1).

Latency: the index is filled to `--scale` marks (the generated marks' vectors, each copy
jittered, since what is timed is the search, not how the vectors came), and each query's time
covers its features and the search; p50 and p95 over the variant queries. Then (unless
`--no-database`) the same marks are stored in PostgreSQL as documents of as many dossiers and
the whole query is timed, permissions included, for an examiner and the public, and the first
query of a cold process (`tests.bench.marks_database`).

    python -m tests.bench.marks [--marks 100] [--distractors 200] [--scale 50000] [--seed 1]
        [--queries 200] [--no-database]
"""

from __future__ import annotations

import os

# One BLAS thread, as a web worker answering one request should run: on two cores shared with
# other processes, OpenBLAS's threads waiting for each other made the search 2-3 times slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import colorsys
import random
import statistics
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from similarity import marks_features
from similarity.marks_index import MarkIndex

WORDS = "ACME NOVA ZETA ORBIT LUMEN KORA VEGA PIXEL TERRA ALTO".split()
SLOGANS = "BEST QUALITY|SINCE 1990|THE ORIGINAL|FRESH DAILY|PREMIUM".split("|")
VARIANTS = ("rescaled", "rotated", "recoloured", "cropped", "words added")


def _colour(chooser: random.Random) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(chooser.random(), 0.6 + 0.4 * chooser.random(), 0.7)
    return int(red * 255), int(green * 255), int(blue * 255)


def logo(chooser: random.Random, size: int = 256) -> Image.Image:
    """A logo-like image: two to four shapes (ellipses, boxes, polygons, stars) in one or two
    colours on white, and half the time a word under them."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    colours = [_colour(chooser) for _ in range(2)]
    with_word = chooser.random() < 0.5
    bottom = size * (0.7 if with_word else 0.9)
    for _ in range(chooser.randint(2, 4)):
        x0, y0 = chooser.uniform(0.1, 0.55) * size, chooser.uniform(0.1, 0.45) * bottom
        x1 = x0 + chooser.uniform(0.2, 0.45) * size
        y1 = min(bottom, y0 + chooser.uniform(0.2, 0.5) * bottom)
        fill = chooser.choice(colours)
        kind = chooser.choice(("ellipse", "box", "polygon", "star", "ring"))
        if kind == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        elif kind == "box":
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        elif kind == "ring":
            draw.ellipse((x0, y0, x1, y1), outline=fill, width=max(4, int(size * 0.03)))
        else:
            cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
            points = chooser.randint(3, 7)
            corners = []
            for i in range(points * (2 if kind == "star" else 1)):
                radius = r if kind == "polygon" or i % 2 == 0 else r * 0.45
                angle = 2 * np.pi * i / (points * (2 if kind == "star" else 1)) + chooser.random()
                corners.append((cx + radius * np.cos(angle), cy + radius * np.sin(angle)))
            draw.polygon(corners, fill=fill)
    if with_word:
        font = ImageFont.load_default(size=int(size * 0.13))
        draw.text(
            (size / 2, size * 0.82), chooser.choice(WORDS), fill=colours[0], font=font, anchor="mm"
        )
    return image


def variant(image: Image.Image, kind: str, chooser: random.Random) -> Image.Image:
    size = image.width
    if kind == "rescaled":
        factor = chooser.choice((0.35, 0.5, 1.6))
        return image.resize((int(size * factor), int(size * factor)), Image.Resampling.LANCZOS)
    if kind == "rotated":
        angle = chooser.choice((-1, 1)) * chooser.uniform(5, 15)
        return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor="white")
    if kind == "recoloured":
        pixels = np.asarray(image.convert("HSV")).copy()
        pixels[..., 0] = (pixels[..., 0].astype(int) + chooser.randint(60, 190)) % 256
        recoloured = Image.fromarray(pixels, "HSV").convert("RGB")
        # A figure's colour, not the white around it: keep the background as it was.
        white = np.asarray(image).min(axis=2) > 240
        out = np.where(white[..., None], 255, np.asarray(recoloured))
        return Image.fromarray(out.astype(np.uint8))
    if kind == "cropped":
        cut = int(size * 0.1)
        box = [
            (cut, 0, size, size),
            (0, 0, size - cut, size),
            (0, cut, size, size),
            (0, 0, size, size - cut),
        ][chooser.randint(0, 3)]
        return image.crop(box)
    if kind == "words added":
        taller = Image.new("RGB", (size, int(size * 1.3)), "white")
        taller.paste(image, (0, 0))
        font = ImageFont.load_default(size=int(size * 0.1))
        ImageDraw.Draw(taller).text(
            (size / 2, size * 1.15),
            chooser.choice(SLOGANS),
            fill=(40, 40, 40),
            font=font,
            anchor="mm",
        )
        return taller
    raise ValueError(kind)


def _hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--marks", type=int, default=100)
    parser.add_argument("--distractors", type=int, default=200)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the whole query (permissions, filters, rows) with --scale marks stored "
        "in PostgreSQL (EDMS_BENCH_POSTGRES)",
    )
    parser.add_argument("--queries", type=int, default=200, help="timed queries per case")
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    stored = [logo(chooser) for _ in range(args.marks + args.distractors)]
    queries = [
        (index, kind, variant(stored[index], kind, chooser))
        for index in range(args.marks)
        for kind in VARIANTS
    ]

    vectors = np.stack([marks_features.mark_vectors(image) for image in stored])
    index = MarkIndex(list(range(len(stored))), vectors)
    hashes = [marks_features.phash(image) for image in stored]

    found = {"pHash": {k: [0, 0] for k in VARIANTS}, "shape": {k: [0, 0] for k in VARIANTS}}
    for target, kind, image in queries:
        query_hash = marks_features.phash(image)
        ranked = sorted(range(len(stored)), key=lambda i: (_hamming(query_hash, hashes[i]), i))
        found["pHash"][kind][0] += target in ranked[:10]
        found["pHash"][kind][1] += ranked[0] == target
        hits = index.search(marks_features.query_vectors(image), 10)
        found["shape"][kind][0] += target in [hit.key for hit in hits]
        found["shape"][kind][1] += bool(hits) and hits[0].key == target

    per_kind = args.marks
    print(
        f"{args.marks} marks among {args.distractors} distractors; {len(queries)} variant "
        f"queries ({per_kind} per kind)"
    )
    print(f"{'':12} {'recall@10':>22} {'precision@1':>22}")
    print(f"{'variant':12} {'pHash':>10} {'shape':>11} {'pHash':>10} {'shape':>11}")
    for kind in (*VARIANTS, "all"):
        kinds = VARIANTS if kind == "all" else (kind,)

        def share(method: str, which: int, kinds=kinds) -> float:
            return sum(found[method][k][which] for k in kinds) / (per_kind * len(kinds))

        print(
            f"{kind:12} {share('pHash', 0):>10.3f} {share('shape', 0):>11.3f} "
            f"{share('pHash', 1):>10.3f} {share('shape', 1):>11.3f}"
        )

    # Latency at scale: the stored vectors, copied with jitter up to `--scale` marks.
    jitter = np.random.default_rng(args.seed)
    copies = -(-args.scale // len(stored))
    big = np.concatenate([vectors] * copies)[: args.scale]
    big = big + jitter.normal(0, 0.02, big.shape).astype(np.float32)
    big /= np.linalg.norm(big, axis=2, keepdims=True)
    large = MarkIndex(list(range(len(big))), big)
    timings = []
    for _, _, image in queries[: args.queries]:
        start = time.perf_counter()
        large.search(marks_features.query_vectors(image), 10)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(
        f"latency at {len(large)} marks (features + search), {len(timings)} queries: "
        f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms (goal <= 200 ms); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if args.database:
        from tests.bench import marks_database

        marks_database.run(big, [image for _, _, image in queries[: args.queries]])
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
