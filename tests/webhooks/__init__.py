"""Tests of webhooks: signed deliveries, retries, the upgrade across the move into an app of
their own."""
