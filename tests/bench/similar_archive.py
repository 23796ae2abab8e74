"""An office's archive for the similar-documents benchmark: documents with text in the search
engine's index AND chunks in the vector index, so that both sides of a similar-documents query
meet realistic posting lists and neighbourhoods.

Texts are recombined from real ones (the labelled set's patents and the extracted corpus): each
document takes a run of sentences of one source (its topic) and some of others, with a few words
swapped for words of the same texts (drawn by their frequency there). Related documents thus share
passages and rare words, as the documents of related patents do, while common words have long
posting lists.

The bulk of the archive is written the fastest honest way: database rows in bulk, and what
`search.documents.build` makes of each row (the principals, metadata and analysis languages edms
would index) handed to the engine in the indexer's batches, with the composed text as the text;
chunks cut by `similarity.chunking` and embedded by the real model, stored, and indexed by the
configured vector store's `rebuild`. Only the query documents (whose text the API reads from its
blob) are filed through the actions and the real indexer and embedder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
import time
from collections.abc import Iterator

SENTENCE = re.compile(r"(?<=[.;:])\s+")
DOCUMENTS_PER_DOSSIER = 5  # a divisor of BATCH: each batch has its own dossiers
BATCH = 500  # the indexer's batch: one commit each
VISIBILITIES = ["public"] * 6 + ["confidential"] * 3 + ["internal"]


@dataclasses.dataclass
class Source:
    """A real text split into sentences, and its language."""

    sentences: list[str]
    language: str


def sources(texts: list[str]) -> list[Source]:
    from ingest.languages import detect_languages

    found = []
    for text in texts:
        sentences = [" ".join(s.split()) for s in SENTENCE.split(text) if 4 <= len(s.split()) <= 80]
        if len(sentences) >= 5:
            languages = detect_languages(text)
            found.append(Source(sentences, languages[0] if languages else "en"))
    return found


class Composer:
    """Texts recombined from `sources`, about `words` words each."""

    def __init__(self, pool: list[Source], rng: random.Random, words: int):
        self.pool = pool
        self.rng = rng
        self.words = words
        self.vocabulary = [w for s in pool for sentence in s.sentences for w in sentence.split()]

    def compose(self) -> tuple[str, str]:
        """(text, language) of a new document."""
        rng = self.rng
        topic = rng.choice(self.pool)
        at = rng.randrange(len(topic.sentences))
        target = int(self.words * rng.uniform(0.7, 1.3))
        sentences, count = [], 0
        while count < target:
            if rng.random() < 0.7:  # the topic's next sentence
                sentence = topic.sentences[at % len(topic.sentences)]
                at += 1
            else:  # a sentence of another text
                other = rng.choice(self.pool)
                sentence = rng.choice(other.sentences)
            sentences.append(sentence)
            count += len(sentence.split())
        words = " ".join(sentences).split(" ")
        for i in rng.sample(range(len(words)), k=len(words) // 20):
            words[i] = rng.choice(self.vocabulary)
        return " ".join(words), topic.language


def bulk_archive(composer: Composer, count: int, rng: random.Random) -> Iterator[tuple]:
    """Write `count` documents' database rows, in batches; yields each batch as
    [(document, text)] (the dossier loaded on each document)."""
    from dossier.models import Document, DocumentType, Dossier

    types = {code: DocumentType.objects.get(code=code) for code in ("CLM", "DESC", "ABST")}
    today = dt.date.today()
    for first in range(0, count, BATCH):
        size = min(BATCH, count - first)
        texts = [composer.compose() for _ in range(size)]
        numbers = range(
            first // DOCUMENTS_PER_DOSSIER, (first + size - 1) // DOCUMENTS_PER_DOSSIER + 1
        )
        dossiers = Dossier.objects.bulk_create(
            Dossier(
                key=_key(n),
                raw_key=_key(n),
                ip_type="patent",
                title=f"Archive patent {n}",
                language="en",
                # Seven in ten published (the public reads only those).
                published_at=today - dt.timedelta(days=30 + n % 3000) if n % 10 < 7 else None,
            )
            for n in numbers
        )
        by_number = dict(zip(numbers, dossiers, strict=True))
        documents = Document.objects.bulk_create(
            Document(
                dossier=by_number[n // DOCUMENTS_PER_DOSSIER],
                doc_type=rng.choice(list(types.values())),
                direction="in",
                visibility=rng.choice(VISIBILITIES),
                official_date=today - dt.timedelta(days=60 + n % 3000),
                title=f"Archive document {n}",
                language=texts[n - first][1],
            )
            for n in range(first, first + size)
        )
        yield [(d, texts[i][0]) for i, d in enumerate(documents)]


def _key(number: int) -> str:
    return f"BG/P/{2000 + number % 25}/{900000 + number}"


def index_batch(backend, batch: list[tuple]) -> None:
    """What the indexer writes for these rows (`search.documents.build`), with their text."""
    from search import documents as search_documents

    built = [
        dataclasses.replace(
            search_documents.build(
                search_documents.Source(document, None), max_text_chars=backend.max_text_chars
            ),
            text=text,
        )
        for document, text in batch
    ]
    backend.upsert(built)


def embed_batch(batch: list[tuple]) -> int:
    """The documents' chunks as `similarity.embedding` cuts, embeds and stores them (the vector
    index is rebuilt from the rows once at the end)."""
    from similarity import chunking, embedder, embedding
    from similarity.models import Chunk, EmbeddedText

    cut = [
        (
            document,
            chunking.passages(
                text, words=embedding.PASSAGE_WORDS, overlap=embedding.PASSAGE_OVERLAP, limit=64
            ),
        )
        for document, text in batch
    ]
    vectors = embedder.embed([p.text for _, passages in cut for p in passages])
    rows, at = [], 0
    for document, passages in cut:
        for p in passages:
            rows.append(
                Chunk(
                    document=document,
                    ordinal=p.ordinal,
                    start=p.start,
                    end=p.end,
                    passage=p.text,
                    vector=vectors[at].tobytes(),
                )
            )
            at += 1
    Chunk.objects.bulk_create(rows)
    EmbeddedText.objects.bulk_create(
        EmbeddedText(
            document=document,
            text_sha256="archive",
            model=embedder.MODEL_NAME,
            chunk_count=len(passages),
        )
        for document, passages in cut
    )
    return len(rows)


def build_archive(composer: Composer, count: int, rng: random.Random) -> None:
    """`count` documents in the database, the engine's index and the vector index; prints the
    time each part took."""
    from search.backends import get_backend
    from similarity import vectorstores

    backend = get_backend()
    seconds = {"rows": 0.0, "index": 0.0, "embed": 0.0}
    chunks, done = 0, 0
    started = time.perf_counter()
    batches = bulk_archive(composer, count, rng)
    while True:
        at = time.perf_counter()
        batch = next(batches, None)
        seconds["rows"] += time.perf_counter() - at
        if batch is None:
            break
        at = time.perf_counter()
        index_batch(backend, batch)
        seconds["index"] += time.perf_counter() - at
        at = time.perf_counter()
        chunks += embed_batch(batch)
        seconds["embed"] += time.perf_counter() - at
        done += len(batch)
        if done % 10_000 == 0 or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"\rarchive: {done}/{count} documents ({rate:,.0f}/s)", end="", flush=True)
    at = time.perf_counter()
    vectorstores.configured().rebuild()
    seconds["vector index"] = time.perf_counter() - at
    print(
        f"\narchive: {count} documents, {chunks} chunks (real embeddings), "
        + ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items())
    )
    print(f"search index: {backend.status()['size_bytes'] / 1024**2:,.0f} MiB")


def query_documents(composer: Composer, count: int) -> list[str]:
    """`count` documents filed through the actions (published dossiers, public documents: both
    the examiner and the public may ask for their similar documents), with a text blob, indexed
    by the indexer and embedded by the embedder; their ids."""
    from django.utils import timezone

    from search import indexer
    from similarity import embedding
    from tests.conftest import create_dossier, file_document
    from tests.search_support import give_text

    published = timezone.localdate() - dt.timedelta(days=400)
    filed = []
    for n in range(count):
        if n % 4 == 0:
            dossier = create_dossier(
                f"BG/P/2018/{700000 + n}", title=f"Query patent {n}", published_at=published
            )
        text, language = composer.compose()
        document = file_document(dossier, type_code="DESC", visibility="public")
        give_text(document, text, languages=[language])
        filed.append(str(document.id))
    indexer.sync()
    embedding.embed_documents(filed)
    return filed
