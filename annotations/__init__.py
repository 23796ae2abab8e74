"""Notes and annotations on a version's pages, kept apart from its file (issue 16, point 6)."""
