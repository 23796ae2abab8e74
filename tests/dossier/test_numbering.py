"""File numbers (dossier/numbering.py): the IPAS form, Unicode NFC, padding, the raw key kept."""

from __future__ import annotations

import unicodedata

import pytest

from dossier.numbering import FileNumber, InvalidFileNumber, normalise_key, parse_file_number
from tests.factories import DossierFactory

COMPOSED_DE = "\u0419"  # Й as one code point
DECOMPOSED_DE = "\u0418\u0306"  # И + combining breve: renders the same, compares different


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BG/P/2024/000123", FileNumber("BG", "P", 2024, 123)),
        ("BG/N/2020/123456", FileNumber("BG", "N", 2020, 123456)),
        ("BG/Д/2023/17", FileNumber("BG", "Д", 2023, 17)),
        ("  BG / P / 2018 / 112748 ", FileNumber("BG", "P", 2018, 112748)),
        ("bg/p/2024/5", FileNumber("BG", "P", 2024, 5)),
        ("EP/A/1999/999999999", FileNumber("EP", "A", 1999, 999999999)),
    ],
)
def test_accepted_forms(raw, expected):
    assert parse_file_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("BG/P/2024", "3 part"),
        ("BG/P/2024/1/2", "5 part"),
        ("B/P/2024/1", "office"),
        ("BGR/P/2024/1", "office"),
        ("Б1/P/2024/1", "office"),
        ("ЯЯ/P/2024/1", "office"),  # ST.3 codes are Latin letters
        ("BG/PP/2024/1", "file type"),
        ("BG/1/2024/1", "file type"),
        ("BG/P/20x4/1", "series"),
        ("BG/P/24/1", "series"),
        ("BG/P/२०२४/1", "series"),  # Devanagari digits are digits, but not ASCII ones
        ("XX/P/2024/1234567890", "serial"),
        ("BG/P/2024/", "serial"),
        ("BG/P/2024/12a", "serial"),
    ],
)
def test_rejected_forms_say_which_part_is_wrong(raw, complaint):
    with pytest.raises(InvalidFileNumber, match=complaint):
        parse_file_number(raw)


def test_non_string_is_rejected():
    with pytest.raises(InvalidFileNumber):
        parse_file_number(None)  # type: ignore[arg-type]


def test_decomposed_letter_names_the_same_case_as_the_composed_one():
    composed = f"BG/{COMPOSED_DE}/2023/17"
    decomposed = f"BG/{DECOMPOSED_DE}/2023/17"
    assert composed != decomposed
    assert normalise_key(decomposed) == normalise_key(composed) == composed
    assert unicodedata.is_normalized("NFC", normalise_key(decomposed))


def test_lower_case_office_and_file_type_are_upper_cased():
    assert normalise_key("bg/д/2023/17") == "BG/Д/2023/17"


def test_padded_and_unpadded_serials_are_the_same_key():
    assert normalise_key("BG/P/2024/000123") == normalise_key("BG/P/2024/123") == "BG/P/2024/123"


def test_display_pads_the_serial_to_the_configured_width(settings):
    number = parse_file_number("BG/P/2024/123")
    assert number.display == "BG/P/2024/000123"
    settings.EDMS_SERIAL_PADDING = 9
    assert number.display == "BG/P/2024/000000123"
    settings.EDMS_SERIAL_PADDING = 2
    assert number.display == "BG/P/2024/123", "a serial wider than the padding is not cut"


@pytest.mark.django_db
def test_dossier_keeps_the_raw_key_next_to_the_normalised_one():
    raw = f" bg/{DECOMPOSED_DE}/2023/0017 "
    dossier = DossierFactory(key=raw, ip_type="design")
    assert dossier.key == f"BG/{COMPOSED_DE}/2023/17"
    assert dossier.raw_key == raw.strip()
    assert dossier.display_key == f"BG/{COMPOSED_DE}/2023/000017"


@pytest.mark.django_db
def test_every_form_of_a_number_reaches_the_same_dossier(registry):
    first = DossierFactory(key="BG/P/2024/000123")
    again = DossierFactory(key="bg/p/2024/123", title="Renamed")
    assert again.pk == first.pk
    for form in ("BG/P/2024/123", "BG/P/2024/000123", "bg/p/2024/0123", "BG%2FP%2F2024%2F123"):
        response = registry.get(f"/api/v1/dossiers/{form}")
        assert response.status_code == 200, (form, response.content)
        assert response.json()["id"] == str(first.pk)
        assert response.json()["key"] == "BG/P/2024/000123"
        assert response.json()["title"] == "Renamed"


@pytest.mark.django_db
def test_non_latin_key_in_a_url_in_either_normal_form(registry):
    dossier = DossierFactory(key=f"BG/{COMPOSED_DE}/2023/17", ip_type="design")
    for encoded in ("%D0%99", "%D0%98%CC%86"):  # Й composed, then decomposed
        response = registry.get(f"/api/v1/dossiers/BG/{encoded}/2023/17")
        assert response.status_code == 200, (encoded, response.content)
        assert response.json()["id"] == str(dossier.pk)
