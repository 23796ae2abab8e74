"""A separate writer process for the vector-index tests: embeds the documents named on the
command line one task after the other, as a `similarity` worker process does, then either stops
as a worker process does (`--then stop`: its copy saved, as on `worker_process_shutdown`) or
says "committed" and waits to be killed (`--then wait`).

    python -m tests.similarity.index_writer --then stop|wait DOCUMENT_ID...
"""

from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--then", choices=["stop", "wait"], required=True)
    parser.add_argument("documents", nargs="+")
    args = parser.parse_args()
    import django

    django.setup()
    from similarity import embedding, vectorindex

    for document_id in args.documents:
        embedding.embed_document(document_id)
    if args.then == "stop":
        vectorindex.flush()
        return 0
    print("committed", flush=True)
    time.sleep(600)
    return 1


if __name__ == "__main__":
    sys.exit(main())
