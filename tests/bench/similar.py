"""Similar-documents benchmark (issue 20, points 4 and 5): quality of term-only against hybrid
similarity on a labelled set from the corpus's patents, the embedding rate, and the latency of a
similar-documents query at scale.

The labelled set: every patent file of `shared/corpus/patent`, read as edms reads it (the XML
ones and the Green Book one through edms's patent readers, the scanned PDFs through its
sandboxed OCR). A patent with claims gives its claims, an amended version of them (a claim
dropped, some words changed: the same application's next version), its abstract and its
description in four parts; a scanned PDF gives its front page, alone. The corpus's other
readable files join as candidates. Each patent document asks for its similar documents, and so
does each independent claim pasted alone; the same patent's documents are the relevant ones,
everything else is unrelated. Printed: recall@10, precision@R (R = relevant ones), MRR and the
unrelated pairs (the share of the top R that is unrelated; the share of relevant-unrelated pairs
ranked the wrong way round) for the engine's more-like-this alone and for the hybrid, on the
same index; and the dense side's hits at its threshold among related and unrelated pairs (its
false-positive rate).

Latency: what a caller waits for, over an archive of `--docs` documents that have text in the
embedded search engine's index and chunks (real embeddings) in the vector index
(`tests.bench.similar_archive`: texts recombined from the labelled set's and the corpus's real
texts). `GET /api/v1/documents/{id}/similar` goes through the real view with the test client, as
an examiner and as the public (whose permissions narrow both sides): authentication, the text
read as the caller reads it, the engine's more-like-this with highlighted snippets, the dense
side, permissions, fusion, the final check, the JSON. Printed per query: median and p95 of wall
time and of this process's CPU time (the figure to read on a shared machine), for the whole
request and for each side alone. `--data-dir` keeps the archive, so that a second run only times
the queries again (after a change to the code); `--profile` adds cProfile's heaviest functions.

    python -m tests.bench.similar [--docs 100000] [--queries 200] [--data-dir DIR] [--profile]
        [--opensearch-url URL]

With `--opensearch-url` (a node of `infra/opensearch.sh start`, whose launcher loads k-NN) the
vectors are kept in OpenSearch's k-NN (`EDMS_SIMILARITY_VECTORS=search`) instead of the embedded
file, for every figure: the labelled set's and the latency's.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from edms import localbroker
from tests.bench.search import CORPUS, percentile, setup_django


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=200, help="Words per archive document.")
    parser.add_argument("--query-docs", type=int, default=100)
    parser.add_argument("--corpus-files", type=int, default=120)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-chunks", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile the requests too")
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument(
        "--opensearch-url", default="", help="Keep the vectors in this node's k-NN plugin."
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="Keep the database and indexes here (not removed); a run that finds them there "
        "reuses the archive and only times the queries.",
    )
    return parser.parse_args(argv)


# --- The labelled set -----------------------------------------------------------------------

# Under the temporary directory: the scans' OCR text and the other files' extracted text.
OCR_CACHE = "edms-bench-similar-texts"
# The corpus's kinds of file read as the archive's other documents (not the broken files, nor
# archives, whose members are files of these kinds).
OTHER_KINDS = {"pdf", "office", "other", "email"}
OTHER_LABEL = "other corpus document"
# A dependent claim refers to another ("of claim 1", "according to any one of claims", "請求項１").
DEPENDENT = re.compile(r"\bclaims? \d|\bany (one )?of claims?\b|請求項", re.IGNORECASE)


@dataclass
class Patent:
    """What the corpus gives of one application: its claims, description and abstract (empty
    when the file has none), or only its front page (the scanned PDFs: bibliography, abstract
    and a drawing)."""

    claims: str = ""
    independent_claims: list[str] = field(default_factory=list)
    description: str = ""
    abstract: str = ""
    front_page: str = ""
    source: str = ""


def patents(ocr_cache: Path) -> dict[str, Patent]:
    """Patent name -> its texts, from every patent file of the corpus: the XML ones and the
    Green Book one through edms's own readers (`ingest.patent_xml`, `ingest.patent_greenbook`),
    the scanned PDFs through edms's sandboxed OCR (their text cached in `ocr_cache`). Files
    without claims and a description (the trademark XML) or without text are left out. No
    other file of the corpus has claims and a description (its manifest lists none)."""
    from ingest import patent_greenbook, patent_xml

    found = {}
    for path in sorted((CORPUS / "patent").glob("*.xml")):
        root = patent_xml.parse(str(path))
        text = patent_xml.patent_text(root) if root is not None else None
        if text is not None and text.claims and text.description:
            found[path.stem] = _patent(text, f"XML ({text.shape})")
    for path in sorted((CORPUS / "patent").glob("*.greenbook")):
        text = patent_greenbook.patent_text(path.read_text(errors="replace"))
        if text is not None and text.claims and text.description:
            found[path.stem] = _patent(text, "Green Book")
    for path in sorted((CORPUS / "patent").glob("*.pdf")):
        text = ocr(path, ocr_cache)
        if len(text.split()) > 50:
            found[path.stem] = Patent(front_page=text, source="scanned PDF, OCR")
    return found


def _patent(text, source: str) -> Patent:
    return Patent(
        claims="\n".join(text.claims),
        independent_claims=[c for c in text.claims if not DEPENDENT.search(c)],
        description=text.description,
        abstract=text.abstract,
        source=source,
    )


def ocr(path: Path, cache: Path) -> str:
    """The text of a scanned PDF as ingest's OCR step reads it (`ingest.ocr.ocr_to_pdfa` in the
    sandbox, every page rendered and read, in English), cached by the file's digest."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return _cached(cache, digest, "ocr", lambda: _ocr(path))


def _ocr(path: Path) -> str:
    from django.conf import settings

    from ingest.renditions import ocr_preprocessing
    from ingest.sandbox import Limits, SandboxFailure
    from ingest.sandbox import run as run_sandboxed

    with tempfile.TemporaryDirectory() as workdir:
        text_path = Path(workdir) / "ocr.txt"
        try:
            run_sandboxed(
                "ingest.ocr:ocr_to_pdfa",
                {
                    "path": str(path),
                    "media_type": "application/pdf",
                    "languages": ["eng"],
                    "output_path": str(Path(workdir) / "ocr.pdf"),
                    "text_path": str(text_path),
                    "preprocessing": ocr_preprocessing()[0],
                    "force": True,  # one of the two has a text layer, and it is unreadable
                },
                limits=Limits(
                    timeout_s=settings.EDMS_OCR_TIMEOUT, memory_mib=settings.EDMS_OCR_MEMORY_MIB
                ),
                workdir=workdir,
            )
        except SandboxFailure as failure:
            print(f"OCR of {path.name} failed: {failure}", file=sys.stderr)
            return ""
        return text_path.read_text(errors="replace")


def other_documents(cache: Path) -> list[tuple[str, str, str]]:
    """(name, label, text) of the corpus's other readable files (letters, forms, articles, a
    book, spreadsheets: what an office's archive holds besides patents), through edms's
    sandboxed extractor, cached like the OCR: candidates unrelated to every patent. Never
    queries: whether two of them are alike (the test suites' files often are) is unknown."""
    found = []
    with open(CORPUS / "manifest.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        if row["kind"] not in OTHER_KINDS:
            continue
        path = CORPUS / row["file"]
        text = _cached(cache, row["sha256"], "text", lambda path=path: extract(path))
        if len(text.split()) > 50:
            found.append((path.stem, OTHER_LABEL, text))
    return found


def extract(path: Path) -> str:
    """The file's text as ingest's extraction step reads it (sandboxed); "" if it fails."""
    from django.conf import settings

    from ingest.sandbox import Limits, SandboxFailure
    from ingest.sandbox import run as run_sandboxed

    with tempfile.TemporaryDirectory() as workdir:
        text_path = Path(workdir) / "text.txt"
        try:
            run_sandboxed(
                "ingest.extractors:extract_to_file",
                {
                    "path": str(path),
                    "config": settings.EDMS_EXTRACTOR,
                    "max_chars": 400_000,
                    "text_path": str(text_path),
                },
                limits=Limits(timeout_s=60, memory_mib=1024),
                workdir=workdir,
            )
        except SandboxFailure:
            return ""
        return text_path.read_text(errors="replace") if text_path.exists() else ""


def _cached(cache: Path, digest: str, kind: str, read) -> str:
    cached = cache / f"{digest}.{kind}.txt"
    if cached.exists():
        return cached.read_text()
    text = read()
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_text(text)
    return text


def amended(claims: str, rng: random.Random) -> str:
    """The next version of a claim set: one claim dropped, words changed here and there."""
    parts = [p for p in re.split(r"\n+", claims) if p.strip()]
    if len(parts) > 2:
        del parts[rng.randrange(1, len(parts))]
    words = "\n".join(parts).split(" ")
    for i in rng.sample(range(len(words)), k=len(words) // 20):
        words[i] = rng.choice(["substantially", "further", "configured", "respective", "said"])
    return " ".join(words)


def labelled_set(
    rng: random.Random, ocr_cache: Path
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(patent, label, text) of every document of the set, and the pasted queries: (patent,
    one of its independent claims, alone), the corpus's other documents last. A patent with
    claims gives its claims, their amended next version, its abstract and its description in
    four parts; a scanned front page stands alone, so it is unrelated to every other document
    (and, as a query, has nothing relevant to find)."""
    documents, pasted = [], []
    for name, patent in patents(ocr_cache).items():
        if patent.front_page:
            documents.append((name, "front page (OCR)", patent.front_page))
            continue
        quarter = len(patent.description) // 4
        documents += [
            (name, "claims", patent.claims),
            (name, "claims v2", amended(patent.claims, rng)),
            *([(name, "abstract", patent.abstract)] if patent.abstract.strip() else []),
            *[
                (
                    name,
                    f"description part {n + 1}",
                    patent.description[n * quarter : (n + 1) * quarter],
                )
                for n in range(4)
            ],
        ]
        pasted += [(name, claim) for claim in patent.independent_claims]
    return documents + other_documents(ocr_cache), pasted


def file_set(documents) -> list:
    from search import indexer
    from similarity import embedding
    from tests.conftest import create_dossier, file_document
    from tests.search_support import give_text

    filed = []
    keys = {name: n + 1 for n, name in enumerate(dict.fromkeys(p for p, _, _ in documents))}
    for name, label, text in documents:
        dossier = create_dossier(f"BG/P/2020/{keys[name]}", title=name)
        document = file_document(dossier, type_code="CLM" if "claims" in label else "DESC")
        give_text(document, text)
        filed.append(document)
    indexer.sync()
    embedding.embed_documents([str(d.id) for d in filed])
    return filed


def quality(documents, filed, pasted, user) -> dict[str, dict[str, float]]:
    """Each measure's mean over the queries with relevant documents, for the term side alone
    and for the hybrid (the dense side's own hits: `dense_threshold`)."""
    from search.more_like_this import more_like_this
    from similarity import finding
    from similarity.hybrid import TermMatch

    patent_of = {str(d.id): documents[i][0] for i, d in enumerate(filed)}
    scores = {"term only": [], "hybrid": []}
    for patent, text, document in _queries(documents, filed, pasted):
        exclude = str(document.id) if document is not None else None
        relevant = {d for d, p in patent_of.items() if p == patent} - {exclude}
        if not relevant:  # a scanned front page: measured by `dense_threshold` only
            continue
        unrelated = set(patent_of) - relevant - {exclude}
        terms = more_like_this(user, text, exclude=exclude, limit=10)
        term_ids = [t.id for t in terms]
        matches = [TermMatch(document_id=_uuid(t.id), score=t.score) for t in terms]
        hybrid = finding.similar(
            user, text, terms=matches, exclude=document.id if document else None, limit=10
        )
        hybrid_ids = [r["document"] for r in hybrid]
        scores["term only"].append(_measures(term_ids, relevant, unrelated))
        scores["hybrid"].append(_measures(hybrid_ids, relevant, unrelated))
    return {
        name: {key: statistics.mean(m[key] for m in rows) for key in rows[0]}
        for name, rows in scores.items()
    }


def dense_threshold(documents, filed, pasted, user) -> dict[str, tuple[int, int]]:
    """{"related" | "unrelated": (pairs the dense side returns, pairs)}: which (query, document)
    pairs score at least `dense.MIN_SIMILARITY` (their best passage pair), i.e. which documents
    the dense side offers the fusion at all, with a shared passage as the reason. Every query,
    a scanned front page's included (all its pairs are unrelated)."""
    from similarity import chunking, dense, embedder, embedding, finding

    patent_of = {d.id: documents[i][0] for i, d in enumerate(filed)}
    counts = {"related": [0, 0], "unrelated": [0, 0]}
    for patent, text, document in _queries(documents, filed, pasted):
        exclude = document.id if document is not None else None
        passages = chunking.passages(
            text,
            words=embedding.PASSAGE_WORDS,
            overlap=embedding.PASSAGE_OVERLAP,
            limit=dense.MAX_QUERY_PASSAGES,
        )
        texts = [p.text for p in passages]
        found = {
            m.document_id
            for m in dense.nearest(
                embedder.embed(texts),
                texts,
                allowed=finding.allowed_for(user),
                exclude=exclude,
                limit=len(filed),
            )
        }
        for document_id, other in patent_of.items():
            if document_id == exclude:
                continue
            pair = counts["related" if other == patent else "unrelated"]
            pair[0] += document_id in found
            pair[1] += 1
    return {kind: (hits, total) for kind, (hits, total) in counts.items()}


def report_quality(documents, filed, pasted, user) -> None:
    """Print the set's size and the measures of both sides (`quality`, `dense_threshold`)."""
    from similarity.dense import MIN_SIMILARITY

    others = sum(1 for _, label, _ in documents if label == OTHER_LABEL)
    patents_count = len({p for p, label, _ in documents if label != OTHER_LABEL})
    alone = sum(1 for _, label, _ in documents if label == "front page (OCR)")
    queries = len(documents) - others + len(pasted)
    print(
        f"labelled set: {len(documents) - others} documents of {patents_count} corpus patents "
        f"({alone} of them a scanned front page only, unrelated to all others) among {others} "
        f"other corpus documents; {queries} queries (each patent document, and each "
        "independent claim pasted alone)"
    )
    figures = quality(documents, filed, pasted, user)
    columns = ["recall@10", "precision@R", "MRR", "unrelated@R", "misordered"]
    print(f"{'':12}" + "".join(f" {c:>12}" for c in columns))
    for name, row in figures.items():
        print(f"{name:12}" + "".join(f" {row[c]:>12.3f}" for c in columns))
    print(
        "  (unrelated@R: share of the top R not of the query's patent; misordered: share of "
        "(relevant, unrelated) pairs with the unrelated one ranked higher)"
    )
    pairs = dense_threshold(documents, filed, pasted, user)
    (tp, related), (fp, unrelated) = pairs["related"], pairs["unrelated"]
    print(
        f"dense side at its threshold (cosine >= {MIN_SIMILARITY}): {tp} of {related} related "
        f"pairs found ({tp / related:.3f}), {fp} of {unrelated} unrelated pairs "
        f"({fp / unrelated:.3f}: the false-positive rate)"
    )


def _queries(documents, filed, pasted):
    """(patent, text, the document it is, or None for a pasted claim) of every query: each
    patent document (a front page too) and pasted claim, none of the other documents."""
    queries = [
        (documents[i][0], documents[i][2], d)
        for i, d in enumerate(filed)
        if documents[i][1] != OTHER_LABEL
    ]
    return queries + [(patent, claim, None) for patent, claim in pasted]


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def _measures(ranked: list[str], relevant: set[str], unrelated: set[str]) -> dict[str, float]:
    """Of the first ten ranked: recall@10, precision@R, MRR, and the unrelated pairs: the share
    of unrelated documents in the top R, and the share of (relevant, unrelated) pairs ranked the
    wrong way round (an unrelated document above a relevant one; one not in the ten ranks below
    all that are, two not in it count half)."""
    r, ranked = len(relevant), ranked[:10]
    first = next((n for n, d in enumerate(ranked) if d in relevant), None)
    rank = {d: n for n, d in enumerate(ranked)}
    beyond = len(ranked) + 1
    wrong = 0.0
    for u in unrelated:
        for d in relevant:
            mine, theirs = rank.get(d, beyond), rank.get(u, beyond)
            wrong += 1.0 if theirs < mine else 0.5 if theirs == mine else 0.0
    return {
        "recall@10": len(set(ranked) & relevant) / r,
        "precision@R": len(set(ranked[:r]) & relevant) / r,
        "MRR": 0.0 if first is None else 1.0 / (first + 1),
        "unrelated@R": len(set(ranked[:r]) & unrelated) / r,
        "misordered": wrong / (len(unrelated) * r) if unrelated else 0.0,
    }


# --- Speed ----------------------------------------------------------------------------------


def embedding_rate(documents, count: int) -> tuple[float, float]:
    """(chunks per second of wall time, per second of this process's CPU time) for `count`
    passages of the set's texts, 120 words each."""
    from similarity import chunking, embedder, embedding

    passages = []
    for _, _, text in documents:
        passages += [
            p.text
            for p in chunking.passages(
                text, words=embedding.PASSAGE_WORDS, overlap=embedding.PASSAGE_OVERLAP, limit=10**6
            )
        ]
    passages = (passages * (count // max(len(passages), 1) + 1))[:count]
    embedder.embed(passages[:10])  # the model loaded
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.embed(passages)
    return count / (time.perf_counter() - wall), count / (time.process_time() - cpu)


def archive(args, documents) -> list[str]:
    """The archive of `args.docs` documents (`tests.bench.similar_archive`), texts recombined
    from the labelled set's and the corpus's; the ids of its query documents."""
    from tests.bench import similar_archive
    from tests.bench.search import corpus_documents

    logging.getLogger("ingest.pipeline").setLevel(logging.WARNING)  # not a line per document
    rng = random.Random(args.seed)
    started = time.perf_counter()
    corpus = [d.text for d in corpus_documents(args.corpus_files, random.Random(args.seed + 1))]
    pool = similar_archive.sources([text for _, _, text in documents] + corpus)
    print(
        f"archive texts: recombined from {len(pool)} real texts ({len(corpus)} corpus files "
        f"extracted in {time.perf_counter() - started:.0f} s)"
    )
    composer = similar_archive.Composer(pool, rng, words=args.words)
    similar_archive.build_archive(composer, args.docs - args.query_docs, rng)
    return similar_archive.query_documents(composer, args.query_docs)


@dataclass
class Samples:
    """Milliseconds per query: wall and this process's CPU time (the CPU time is the figure to
    read on a machine shared with other work)."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def timed(self, function, *args, **kwargs):
        started, used = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        self.wall.append((time.perf_counter() - started) * 1000)
        self.cpu.append((time.process_time() - used) * 1000)
        return result

    def line(self) -> str:
        return (
            f"wall p50 {statistics.median(self.wall):6.1f} p95 {percentile(self.wall, 0.95):6.1f}"
            f" | CPU p50 {statistics.median(self.cpu):6.1f} p95 {percentile(self.cpu, 0.95):6.1f}"
        )


def latency(args, query_ids: list[str], user, label: str) -> None:
    """`GET /api/v1/documents/{id}/similar` through the real view (authentication, the text read
    as the caller reads it, the engine's more-like-this with snippets, the dense side,
    permissions, fusion, the final check, JSON), then its two sides alone on the same texts."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.test import APIClient

    from dossier.models import Document
    from search.more_like_this import more_like_this
    from similarity import finding

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    caller = user or AnonymousUser()
    whole, term, dense = Samples(), Samples(), Samples()
    found = 0
    client.get(f"/api/v1/documents/{query_ids[0]}/similar")  # indexes opened, model loaded
    for n in range(args.queries):
        document_id = query_ids[n % len(query_ids)]
        response = whole.timed(client.get, f"/api/v1/documents/{document_id}/similar")
        assert response.status_code == 200, response.content
        found += len(response.json()["results"])
    for n in range(args.queries):
        document = Document.objects.get(id=query_ids[n % len(query_ids)])
        text = finding.readable_text(caller, document)
        term.timed(more_like_this, caller, text, exclude=str(document.id), limit=10)
        dense.timed(finding.similar, caller, text, terms=[], exclude=document.id, limit=10)
    print(f"{label}, {args.queries} queries, {found / args.queries:.1f} results each (ms):")
    print(f"  whole request   {whole.line()}")
    print(f"  term side only  {term.line()}  (more-like-this with snippets)")
    print(f"  dense side only {dense.line()}  (embedding, vectors, permissions, final check)")
    if args.profile:
        profile(client, query_ids, args.queries)


def profile(client, query_ids: list[str], queries: int) -> None:
    """Where a request's time goes: cProfile's heaviest functions over `queries` requests."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(queries):
        client.get(f"/api/v1/documents/{query_ids[n % len(query_ids)]}/similar")
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with ExitStack() as stack:
        if args.data_dir:  # kept: a second run with it only times the queries again
            data = Path(args.data_dir)
            data.mkdir(parents=True, exist_ok=True)
        else:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.tmp_dir)))
        stack.enter_context(localbroker.running(data))
        setup_django(data)
        from django.conf import settings

        from dossier.roles import Role
        from tests.factories import UserFactory

        settings.EDMS_SEARCH = {
            "BACKEND": "search.backends.embedded.Backend",
            "OPTIONS": {"path": str(data / "search")},
        }
        if args.opensearch_url:
            settings.EDMS_SIMILARITY_VECTOR_STORE = {
                "BACKEND": "similarity.vectorstores.opensearch.Store",
                "OPTIONS": {
                    "hosts": args.opensearch_url,
                    "index": f"edms-bench-chunks-{data.name.lower()}",
                    "replicas": 0,
                    "refresh": True,  # the labelled set is queried as soon as it is embedded
                },
            }
            if not args.data_dir:
                stack.callback(_drop_vector_index)
        user = UserFactory(role=Role.EXAMINER)
        built = data / "query-documents.txt"
        if built.exists():
            query_ids = built.read_text().split()
            print(f"archive: reused from {data} ({args.docs} documents asked)")
        else:
            query_ids = build_all(args, user)
            if args.data_dir:
                built.write_text("\n".join(query_ids))
        load = os.getloadavg()
        print(f"load average before timing: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        latency(args, query_ids, user, f"similar documents at {args.docs} documents, examiner")
        latency(args, query_ids, None, f"similar documents at {args.docs} documents, public")
    return 0


def build_all(args, user) -> list[str]:
    """The labelled set, its quality figures, the embedding rate, then the archive; the ids of
    the archive's query documents."""
    from django.conf import settings

    from search.backends import build
    from similarity.embedder import MODEL_NAME

    build(settings.EDMS_SEARCH).reset()
    rng = random.Random(args.seed)
    documents, pasted = labelled_set(rng, Path(args.tmp_dir or tempfile.gettempdir()) / OCR_CACHE)
    print(f"model: {MODEL_NAME}")
    filed = file_set(documents)
    report_quality(documents, filed, pasted, user)
    wall, cpu = embedding_rate(documents, args.embed_chunks)
    print(
        f"embedding: {wall:.0f} chunks/s of wall time ({cpu:.0f} per CPU-second), 120-word passages"
    )
    return archive(args, documents)


def _drop_vector_index() -> None:
    from similarity import vectorstores

    store = vectorstores.configured()
    store.client.indices.delete(index=store.index, ignore_unavailable=True)


if __name__ == "__main__":
    sys.exit(main())
