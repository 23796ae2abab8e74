"""The Green Book (USPTO APS full text) reader, on texts written here in the format's layout;
the corpus's file goes through the whole pipeline in test_ingest_markup."""

from __future__ import annotations

from ingest import patent_greenbook

TWO_PATENTS = """PATN
WKU  040000001
TTL  Hinge with a long
      pin
ABST
PAL  A hinge whose pin is
      long.
BSUM
PAR  Hinges are old.
DETD
PAR  The pin is steel.
CLMS
STM  What is claimed is:
NUM  1.
PAR  1. A hinge comprising:
PA1  a pin; and
PA1  a leaf.
NUM  2.
PAR  2. The hinge of claim 1, wherein the pin is steel.
PATN
WKU  040000002
TTL  Another patent
CLMS
NUM  1.
PAR  1. Something else.
"""


def test_fields_are_read_with_continuation_lines_joined_and_a_claim_per_num_field():
    patent = patent_greenbook.patent_text(TWO_PATENTS)

    assert patent is not None
    assert patent.shape == "greenbook"
    assert patent.title == "Hinge with a long pin"
    assert patent.abstract == "A hinge whose pin is long."
    # Summary then detailed description; the claims' statement ("What is claimed is") is no claim.
    assert patent.description == "Hinges are old.\nThe pin is steel."
    assert patent.claims == [
        "1. A hinge comprising:\na pin; and\na leaf.",
        "2. The hinge of claim 1, wherein the pin is steel.",
    ]  # and nothing of the second patent


def test_other_text_is_not_read_as_green_book():
    assert patent_greenbook.patent_text("PATN is a word.\nWKU  no") is None
    assert patent_greenbook.patent_text("Dear examiner,\nPATN\nWKU  1\n") is None
    assert not patent_greenbook.looks_like(b"<?xml version='1.0'?><PATN/>")
    assert patent_greenbook.looks_like(b"PATN\r\nWKU  040000001\r\n")
