"""Tests of the operations page's view of the broker."""
