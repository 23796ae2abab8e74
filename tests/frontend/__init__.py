"""Tests of the web UI: pages over the test client, in a real browser, contrast."""
