"""The chunks' vectors in OpenSearch's k-NN plugin (`knn_vector`, Lucene HNSW engine, cosine),
one index document per chunk, with the readers of its document beside the vector: the principals
that may read it, from when the public may (`dossier.access.document_readers`, the same rule
search indexes), and whether the public reads it only redacted (the chunks hold the original's
text, so such a document is never a dense match for the public: `similarity.finding`).

A search is one `knn` query per query passage with the caller's readers as its `filter`: Lucene
applies the filter during the graph search, so the k nearest *readable* chunks come back, however
few documents the caller may read. The Lucene engine is the one that needs no native library (the
launcher in `infra/opensearch` has no other: see README, "OpenSearch k-NN").

The readers are written with the chunks, and again after any other change of the document or its
dossier (`similarity.vector_subscribers`: a visibility, a secrecy order, a publication date).
Between a change and that refresh (a queued task) the store may offer a document the caller can
no longer read, which `similarity.dense` drops (it checks every candidate against the database),
or miss one the caller now may.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import numpy as np
from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as os_exceptions

from dossier.access import PUBLIC, document_readers
from dossier.models import Document
from similarity.embedder import DIMENSIONS
from similarity.models import Chunk, EmbeddedText
from similarity.vectorstores import StoreUnavailable

# HNSW graph parameters: Lucene's defaults' order (16 links per node), as the embedded index's.
GRAPH = {"m": 16, "ef_construction": 100}
BULK_CHUNK = 500


def _mapping() -> dict:
    return {
        "dynamic": "strict",
        "_source": {"excludes": ["vector"]},  # the database has it; the graph has it too
        "properties": {
            "vector": {
                "type": "knn_vector",
                "dimension": DIMENSIONS,
                "method": {
                    "name": "hnsw",
                    "engine": "lucene",
                    "space_type": "cosinesimil",
                    "parameters": GRAPH,
                },
            },
            "document": {"type": "keyword"},
            "principals": {"type": "keyword"},
            "public_from": {"type": "date", "format": "date"},
            "redacted": {"type": "boolean"},
        },
    }


class _Writer:
    def __init__(self):
        self.removed: list[int] = []
        self.added: list[dict] = []
        self.documents: set[str] = set()

    def remove(self, keys: list[int]) -> None:
        self.removed.extend(keys)

    def add(self, document: Document, keys: list[int], vectors: np.ndarray) -> None:
        fields = _reader_fields(document)
        self.documents.add(str(document.id))
        rows = np.asarray(vectors, dtype=np.float32).reshape(len(keys), DIMENSIONS)
        for key, row in zip(keys, rows, strict=True):
            self.added.append({"_id": str(key), "vector": row.tolist(), **fields})


def _reader_fields(document: Document) -> dict:
    readers = document_readers(document)
    return {
        "document": str(document.id),
        "principals": sorted(readers.principals),
        "public_from": readers.public_from.isoformat() if readers.public_from else None,
        "redacted": bool(document.redaction_required),
    }


class Store:
    indexes_readers = True

    def __init__(
        self,
        *,
        hosts: str | list[str],
        index: str = "edms-chunks",
        username: str | None = None,
        password: str | None = None,
        request_timeout: float = 30.0,
        shards: int = 1,
        replicas: int = 1,
        refresh: bool = False,
    ):
        self.index = index
        self.shards, self.replicas = shards, replicas
        # Tests ask for each write to be searchable when it returns; production lets the
        # cluster's refresh interval (1 s) do it.
        self.refresh = refresh
        self.client = OpenSearch(
            hosts if isinstance(hosts, list) else [h.strip() for h in hosts.split(",")],
            http_auth=(username, password or "") if username else None,
            timeout=request_timeout,
        )
        self._created = False

    def _ensure_index(self) -> None:
        if self._created:
            return
        if not self.client.indices.exists(index=self.index):
            body = {
                "settings": {
                    "index": {
                        "knn": True,
                        "number_of_shards": self.shards,
                        "number_of_replicas": self.replicas,
                    }
                },
                "mappings": _mapping(),
            }
            try:
                self.client.indices.create(index=self.index, body=body)
            except os_exceptions.RequestError as exc:  # another process created it meanwhile
                if exc.error != "resource_already_exists_exception":
                    raise
        self._created = True

    @contextlib.contextmanager
    def writing(self) -> Iterator[_Writer]:
        writer = _Writer()
        yield writer
        actions = [
            {"_op_type": "delete", "_index": self.index, "_id": str(key)} for key in writer.removed
        ]
        actions += [{"_index": self.index, **doc} for doc in writer.added]
        if not actions:
            return
        try:
            self._ensure_index()
            # A chunk removed before it reached the store is no error (404 on delete).
            helpers.bulk(
                self.client,
                actions,
                chunk_size=BULK_CHUNK,
                refresh=self.refresh,
                raise_on_error=True,
                ignore_status=(404,),
            )
        except os_exceptions.OpenSearchException as exc:  # unreachable, or a write refused
            # The database has committed these chunks; the store lacks them. Forgetting that
            # the documents were embedded makes the retry (and `edms similarity backfill`)
            # embed them again, rather than leave them unfindable until a rebuild.
            EmbeddedText.objects.filter(document_id__in=writer.documents).delete()
            raise StoreUnavailable(f"the k-NN index {self.index} refused a write: {exc}") from exc

    def search(
        self,
        query_vectors: np.ndarray,
        count: int,
        *,
        principals: frozenset[str] | None,
        today: dt.date,
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = len(query_vectors)
        keys = np.full((rows, count), -1, dtype=np.int64)
        similarities = np.full((rows, count), -2.0)
        readable = None if principals is None else _readable(principals, today)
        if readable is False or rows == 0 or count == 0:
            return keys, similarities
        self._ensure_index()
        body: list[dict] = []
        for vector in np.asarray(query_vectors, dtype=np.float32):
            knn: dict = {"vector": vector.tolist(), "k": count}
            if readable is not None:
                knn["filter"] = readable
            body += [{}, {"size": count, "_source": False, "query": {"knn": {"vector": knn}}}]
        answers = self.client.msearch(index=self.index, body=body)["responses"]
        for q, answer in enumerate(answers):
            if "error" in answer:
                raise RuntimeError(f"k-NN search failed: {answer['error']}")
            for i, hit in enumerate(answer["hits"]["hits"][:count]):
                keys[q, i] = int(hit["_id"])
                # The Lucene engine scores cosine similarity s as (1 + s) / 2.
                similarities[q, i] = 2.0 * float(hit["_score"]) - 1.0
        return keys, similarities

    def count(self) -> int:
        try:
            return int(self.client.count(index=self.index)["count"])
        except os_exceptions.NotFoundError:
            return 0

    def rebuild(self) -> int:
        self.client.indices.delete(index=self.index, ignore_unavailable=True)
        self._created = False
        self._ensure_index()
        helpers.bulk(
            self.client,
            self._all_chunks(),
            chunk_size=BULK_CHUNK,
            refresh=True,
            request_timeout=300,
        )
        return self.count()

    def refresh_readers(self, document_ids: list) -> None:
        # Chunks are written whole (vector from the database): the Lucene graph keeps a vector
        # per document version anyway, and an update script would need the painless module.
        self._ensure_index()
        helpers.bulk(
            self.client,
            self._all_chunks(document_ids),
            chunk_size=BULK_CHUNK,
            refresh=self.refresh,
        )

    def _all_chunks(self, document_ids: list | None = None) -> Iterator[dict]:
        fields: dict = {}  # per document, computed once
        rows = Chunk.objects.select_related("document__dossier").order_by("document_id", "id")
        if document_ids is not None:
            rows = rows.filter(document_id__in=document_ids)
        for chunk in rows.iterator(chunk_size=2000):
            document = chunk.document
            if document.id not in fields:
                fields = {document.id: _reader_fields(document)}  # rows come by document
            vector = np.frombuffer(bytes(chunk.vector), dtype=np.float32)
            yield {
                "_index": self.index,
                "_id": str(chunk.id),
                "vector": vector.tolist(),
                **fields[document.id],
            }


def _readable(principals: frozenset[str], today: dt.date) -> dict | bool:
    """The k-NN filter for a caller holding `principals` (as `dossier.access.Readers.allow`, and
    for the public only documents it reads unredacted); False when nothing is readable."""
    options: list[dict] = []
    outright = sorted(principals - {PUBLIC})
    if outright:
        options.append({"terms": {"principals": outright}})
    if PUBLIC in principals:
        options.append(
            {
                "bool": {
                    "filter": [
                        {"term": {"principals": PUBLIC}},
                        {"range": {"public_from": {"lte": today.isoformat()}}},
                        {"term": {"redacted": False}},
                    ]
                }
            }
        )
    if not options:
        return False
    return {"bool": {"should": options, "minimum_should_match": 1}}
