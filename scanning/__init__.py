"""Digitization: cover sheets, scan batches split at them, routing, and quality control."""
