"""The ingestion pipeline: every version is identified, its text extracted (and, in later
slices, OCR'd and rendered) so that examiners can read and search it."""
