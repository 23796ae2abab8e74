"""`edms similarity <backfill|rebuild|status>`: operate the similar-documents index."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand

from similarity import embedding, vectorindex, vectorstores
from similarity.models import Chunk, EmbeddedText


class Command(BaseCommand):
    help = "Embed documents not yet embedded, rebuild the vector index file, show status."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        backfill = commands.add_parser(
            "backfill", help="Embed every document whose current text has no embeddings yet."
        )
        backfill.add_argument("--batch-size", type=int, default=200)
        commands.add_parser("rebuild", help="Refill the vector store afresh from the DB.")
        commands.add_parser(
            "status",
            help="How many documents are embedded and wait, and how far the index file lags.",
        )

    def handle(self, *args, action: str, **options):
        getattr(self, f"do_{action}")(**options)

    def do_backfill(self, *, batch_size: int = 200, **options):
        todo = list(embedding.documents_to_embed())
        started, chunks = time.monotonic(), 0
        for first in range(0, len(todo), max(batch_size, 1)):
            outcomes = embedding.embed_documents(todo[first : first + batch_size])
            chunks += sum(o.chunks for o in outcomes if not o.skipped)
            self._progress(min(first + batch_size, len(todo)), len(todo))
        vectorindex.flush()
        if todo:
            self.stderr.write("")
        seconds = time.monotonic() - started
        self.stdout.write(f"embedded {len(todo)} documents ({chunks} chunks) in {seconds:.1f} s")

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total}")
        sys.stderr.flush()

    def do_rebuild(self, **options):
        # The configured store: the embedded file, or the search cluster's k-NN index.
        count = vectorstores.configured().rebuild()
        self.stdout.write(f"rebuilt the vector index: {count} chunks")

    def do_status(self, **options):
        documents, chunks = EmbeddedText.objects.count(), Chunk.objects.count()
        waiting = embedding.waiting().count() + embedding.leftovers().count()
        self.stdout.write(f"{documents} documents embedded, {chunks} chunks")
        self.stdout.write(f"{waiting} documents wait for embeddings")
        if not vectorstores.uses_index_file():
            self.stdout.write(f"vector store: {vectorstores.configured().count()} chunks")
            return
        if not (vectorindex.directory() / vectorindex.FILE_NAME).exists():
            self.stdout.write("no index file yet: the first search or embedding builds it")
            return
        newer, removed = vectorindex.lag()
        self.stdout.write(
            f"index file: {newer} chunks not saved in it yet, {removed} removed ones still in it"
        )
