"""Tests of ingestion: extractors, OCR, the pipeline, renditions, the sandbox, lanes, leases,
the sweeper, the Tika server, worker resumption."""
