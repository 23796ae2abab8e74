"""Similar-documents benchmark (issue 20, points 4 and 5): quality of term-only against hybrid
similarity on a labelled set from the corpus's patents, the embedding rate, and the latency of a
similar-documents query at scale.

The labelled set: each patent of `shared/corpus/patent` (the XML ones through edms's own patent
reader; the PDFs through the sandboxed extractor, split at "What is claimed is") gives its claims,
its description in two halves, and an amended version of its claims (claims renumbered, one
dropped, some words changed: the same application's next version). Each of these documents asks
for its similar documents; the other documents of the same patent are the relevant ones, every
other patent's are unrelated. Printed: recall@10, precision@R (R = relevant ones) and MRR for
the engine's more-like-this alone and for the hybrid, on the same index.

Latency: the dense side (vector index, permission filter, passages) and the fusion for one
query, over `--docs` documents of synthetic vectors (random unit vectors, as many chunks each as
`--chunks`; their rows are in the database as well) — the term side is the search engine's and
is measured by `tests.bench.search`.

    python -m tests.bench.similar [--docs 100000] [--chunks 2] [--queries 200]
        [--opensearch-url URL]

With `--opensearch-url` (a node of `infra/opensearch.sh start`, whose launcher loads k-NN) the
vectors are kept in OpenSearch's k-NN (`EDMS_SIMILARITY_VECTORS=search`) instead of the embedded
file, for every figure: the labelled set's and the latency's.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from edms import localbroker
from tests.bench.search import CORPUS, percentile, setup_django

CLAIMED = re.compile(r"(what is claimed is|we claim|i claim|claims?:)", re.IGNORECASE)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--chunks", type=int, default=2, help="Chunks per synthetic document.")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-chunks", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--tmp-dir", default=None)
    parser.add_argument(
        "--opensearch-url", default="", help="Keep the vectors in this node's k-NN plugin."
    )
    return parser.parse_args(argv)


# --- The labelled set -----------------------------------------------------------------------


def patents() -> dict[str, tuple[str, str]]:
    """Patent name -> (claims, description), from the corpus."""
    from ingest import patent_xml

    found = {}
    for path in sorted((CORPUS / "patent").glob("*.xml")):
        root = patent_xml.parse(str(path))
        text = patent_xml.patent_text(root) if root is not None else None
        if text is not None and text.claims and text.description:
            found[path.stem] = ("\n".join(text.claims), text.description)
    for path in sorted((CORPUS / "patent").glob("*.pdf")):
        text = extract(path)
        match = CLAIMED.search(text)
        if match and len(text) > 2000:
            found[path.stem] = (text[match.end() :], text[: match.start()])
    return found


def extract(path: Path) -> str:
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
        return text_path.read_text(errors="replace")


def amended(claims: str, rng: random.Random) -> str:
    """The next version of a claim set: one claim dropped, words changed here and there."""
    parts = [p for p in re.split(r"\n+", claims) if p.strip()]
    if len(parts) > 2:
        del parts[rng.randrange(1, len(parts))]
    words = "\n".join(parts).split(" ")
    for i in rng.sample(range(len(words)), k=len(words) // 20):
        words[i] = rng.choice(["substantially", "further", "configured", "respective", "said"])
    return " ".join(words)


def labelled_set(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(patent, label, text) of every document of the set, and the pasted queries: (patent,
    its first claim alone)."""
    documents, pasted = [], []
    for name, (claims, description) in patents().items():
        quarter = len(description) // 4
        documents += [
            (name, "claims", claims),
            (name, "claims v2", amended(claims, rng)),
            *[
                (name, f"description part {n + 1}", description[n * quarter : (n + 1) * quarter])
                for n in range(4)
            ],
        ]
        first_claim = re.split(r"\n+", claims.strip())[0]
        pasted.append((name, first_claim))
    return documents, pasted


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
    from search.more_like_this import more_like_this
    from similarity import finding
    from similarity.hybrid import TermMatch

    patent_of = {str(d.id): documents[i][0] for i, d in enumerate(filed)}
    scores = {"term only": [], "hybrid": []}
    queries = [(documents[i][0], documents[i][2], d) for i, d in enumerate(filed)]
    queries += [(patent, claim, None) for patent, claim in pasted]
    for patent, text, document in queries:
        exclude = str(document.id) if document is not None else None
        relevant = {d for d, p in patent_of.items() if p == patent} - {exclude}
        terms = more_like_this(user, text, exclude=exclude, limit=10)
        term_ids = [t.id for t in terms]
        matches = [TermMatch(document_id=_uuid(t.id), score=t.score) for t in terms]
        hybrid = finding.similar(
            user, text, terms=matches, exclude=document.id if document else None, limit=10
        )
        hybrid_ids = [r["document"] for r in hybrid]
        scores["term only"].append(_measures(term_ids, relevant))
        scores["hybrid"].append(_measures(hybrid_ids, relevant))
    return {
        name: {key: statistics.mean(m[key] for m in rows) for key in rows[0]}
        for name, rows in scores.items()
    }


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


def _measures(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    r = len(relevant)
    first = next((n for n, d in enumerate(ranked) if d in relevant), None)
    return {
        "recall@10": len(set(ranked[:10]) & relevant) / r,
        "precision@R": len(set(ranked[:r]) & relevant) / r,
        "MRR": 0.0 if first is None else 1.0 / (first + 1),
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


def synthetic_index(args, rng: np.random.Generator) -> None:
    """`args.docs` documents of `args.chunks` synthetic vectors each, in the database and the
    vector index (the database rows as bulk inserts: what the latency needs, not actions). Each
    vector is a real passage's vector of the labelled set plus noise (cosine 0.3 to 0.95 to it),
    so the queries meet many neighbours near enough to count, as in an office's archive of
    related patents, rather than the empty neighbourhood random vectors would give."""
    from dossier.models import Document, DocumentType
    from similarity import vectorstores
    from similarity.embedder import DIMENSIONS
    from similarity.models import Chunk
    from tests.conftest import create_dossier

    dossier = create_dossier("BG/P/2019/1", title="Synthetic")
    real = np.frombuffer(
        b"".join(bytes(v) for v in Chunk.objects.values_list("vector", flat=True)),
        dtype=np.float32,
    ).reshape(-1, DIMENSIONS)
    doc_type = DocumentType.objects.get(code="DESC")
    batch = 5000
    for first in range(0, args.docs, batch):
        documents = Document.objects.bulk_create(
            Document(dossier=dossier, doc_type=doc_type, direction="in", visibility="public")
            for _ in range(min(batch, args.docs - first))
        )
        n = len(documents) * args.chunks
        noise = rng.standard_normal((n, DIMENSIONS)) / np.sqrt(DIMENSIONS)
        vectors = real[rng.integers(0, len(real), n)] + noise * rng.uniform(0.3, 3.0, (n, 1))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        Chunk.objects.bulk_create(
            Chunk(
                document=d,
                ordinal=c,
                start=0,
                end=0,
                passage="synthetic",
                vector=vectors[n * args.chunks + c].tobytes(),
            )
            for n, d in enumerate(documents)
            for c in range(args.chunks)
        )
    started = time.perf_counter()
    store = type(vectorstores.configured()).__module__.rsplit(".", 1)[-1]
    vectorstores.configured().rebuild()
    print(
        f"vector store ({store}): {args.docs} synthetic documents, "
        f"{args.docs * args.chunks} chunks, "
        f"built in {time.perf_counter() - started:.1f} s"
    )


def latency(args, documents, user) -> tuple[list[float], list[float]]:
    """Milliseconds of wall time and of this process's CPU time, per query (the CPU time is the
    figure to read on a machine shared with other work)."""
    from similarity import finding

    texts = [text[:3000] for _, _, text in documents]
    finding.similar(user, texts[0], terms=[], exclude=None, limit=10)  # index opened
    wall, cpu = [], []
    for n in range(args.queries):
        started, used = time.perf_counter(), time.process_time()
        finding.similar(user, texts[n % len(texts)], terms=[], exclude=None, limit=10)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.tmp_dir)))
        stack.enter_context(localbroker.running(tmp))
        setup_django(tmp)
        from django.conf import settings

        from dossier.roles import Role
        from search.backends import build
        from similarity.embedder import MODEL_NAME
        from tests.factories import UserFactory

        settings.EDMS_SEARCH = {
            "BACKEND": "search.backends.embedded.Backend",
            "OPTIONS": {"path": str(tmp / "search")},
        }
        build(settings.EDMS_SEARCH).reset()
        if args.opensearch_url:
            settings.EDMS_SIMILARITY_VECTOR_STORE = {
                "BACKEND": "similarity.vectorstores.opensearch.Store",
                "OPTIONS": {
                    "hosts": args.opensearch_url,
                    "index": f"edms-bench-chunks-{tmp.name.lower()}",
                    "replicas": 0,
                    "refresh": True,  # the labelled set is queried as soon as it is embedded
                },
            }
            stack.callback(_drop_vector_index)
        user = UserFactory(role=Role.EXAMINER)
        rng = random.Random(args.seed)
        documents, pasted = labelled_set(rng)
        patents_count = len({p for p, _, _ in documents})
        print(f"model: {MODEL_NAME}")
        print(
            f"labelled set: {len(documents)} documents of {patents_count} corpus patents; "
            f"{len(documents) + len(pasted)} queries (each document, and each first claim "
            "pasted alone)"
        )
        filed = file_set(documents)
        figures = quality(documents, filed, pasted, user)
        print(f"{'':12} {'recall@10':>10} {'precision@R':>12} {'MRR':>6}")
        for name, row in figures.items():
            print(
                f"{name:12} {row['recall@10']:>10.3f} {row['precision@R']:>12.3f} "
                f"{row['MRR']:>6.3f}"
            )
        wall, cpu = embedding_rate(documents, args.embed_chunks)
        print(
            f"embedding: {wall:.0f} chunks/s of wall time ({cpu:.0f} per CPU-second), "
            "120-word passages"
        )
        synthetic_index(args, np.random.default_rng(args.seed))
        wall, cpu = latency(args, documents, user)
        print(
            f"similar documents (dense side, permissions, fusion) at {args.docs} documents, "
            f"{len(wall)} queries (synthetic vectors): wall median {statistics.median(wall):.1f} "
            f"ms, p95 {percentile(wall, 0.95):.1f} ms; CPU median {statistics.median(cpu):.1f} "
            f"ms, p95 {percentile(cpu, 0.95):.1f} ms"
        )
    return 0


def _drop_vector_index() -> None:
    from similarity import vectorstores

    store = vectorstores.configured()
    store.client.indices.delete(index=store.index, ignore_unavailable=True)


if __name__ == "__main__":
    sys.exit(main())
