"""Tests of the domain: access, audit, numbering, events and their dispatch, processing facts,
requeue hooks, blob backends (filesystem, S3), fixity, edms import."""
