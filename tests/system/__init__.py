"""Tests of the whole system: crash safety, chaos on the cluster, bulk import under edms run,
streaming uploads through gunicorn, the security suites, schemathesis."""
