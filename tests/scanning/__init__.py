"""Tests of digitization: the watched folder, splitting, quality control, the move out of
ingest."""
