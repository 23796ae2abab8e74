"""The embedded engine's index schema: its fields and how their text is analysed.

Text is analysed several ways, each in its own field: with the stemmer of each language the
document is in (`text_fr`, ...), word by word without stemming (`text`, which also keeps the
text for snippets), and character by character for CJK scripts (`text_cjk`), so that Chinese or
Japanese words are found inside unsegmented runs. The redacted copy's text of a document the
public reads only redacted is analysed the same ways into fields of its own (`public_text`,
`public_text_fr`, ..., `public_text_cjk`; `REDACTED`), which the public's queries read instead of
the original's (`ORIGINAL`); `redacted` marks such a document. An index built before those
fields existed does not open (`edms search reindex` builds one that does). Every process that
opens the index registers these analyzers (`embedded.Backend._open`), else tantivy could not
read the fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import tantivy

from search.backends.base import CJK, STEMMED_LANGUAGES


@dataclass(frozen=True)
class TextFields:
    """The fields one text is analysed into: word by word (`plain`, which also stores it for
    snippets), with each language's stemmer (`languages`), by CJK character (`cjk`)."""

    plain: str
    languages: dict[str, str]
    cjk: str

    @property
    def unstemmed(self) -> tuple[str, str]:
        """What prefix and fuzzy queries read: the text word by word, and the metadata."""
        return (self.plain, "meta")


def _text_fields(prefix: str) -> TextFields:
    languages = {code: f"{prefix}_{code}" for code in STEMMED_LANGUAGES}
    return TextFields(plain=prefix, languages=languages, cjk=f"{prefix}_cjk")


ORIGINAL = _text_fields("text")  # the original's text: what its readers search
REDACTED = _text_fields("public_text")  # the redacted copy's: what the public searches instead
REDACTED_MARK = "yes"  # the `redacted` keyword of a document the public reads only redacted

KEYWORD_FIELDS = ("type", "direction", "language", "ip_type", "status", "year", "state")
KEYWORD_FIELDS += ("redacted",)
FIELD_ANALYZERS = {"meta": "plain", "title": "plain", "applicant": "plain"}
for _fields in (ORIGINAL, REDACTED):
    FIELD_ANALYZERS[_fields.plain] = "plain"
    FIELD_ANALYZERS |= {field: code for code, field in _fields.languages.items()}
MAX_TOKEN_BYTES = 80
# Tantivy keeps dates as nanoseconds since 1970 in 64 bits: clamp to what fits.
EARLIEST, LATEST = dt.date(1700, 1, 1), dt.date(2262, 1, 1)


def _analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def words() -> tantivy.TextAnalyzerBuilder:
        return (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
            .filter(tantivy.Filter.lowercase())
        )

    analyzers = {"plain": words().build()}
    for code, language in STEMMED_LANGUAGES.items():
        analyzers[code] = words().filter(tantivy.Filter.stemmer(language)).build()
    # One token per CJK character (positions kept): a word is found as a phrase of characters.
    analyzers["cjk"] = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(CJK.pattern)).build()
    return analyzers


ANALYZERS = _analyzers()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    builder.add_text_field("id_stamp", tokenizer_name="raw", fast=True)
    builder.add_text_field("dossier", stored=True, tokenizer_name="raw", fast=True)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    # Stored: a hit's snippet comes from the text its caller reads (`base.reads_redacted`).
    builder.add_text_field("principals", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="plain")
    builder.add_text_field("dossier_title", stored=True, tokenizer_name="plain")
    builder.add_text_field("applicant", tokenizer_name="plain")
    builder.add_text_field("meta", tokenizer_name="plain")
    for fields in (ORIGINAL, REDACTED):
        builder.add_text_field(fields.plain, stored=True, tokenizer_name="plain")
        for code, field in fields.languages.items():
            builder.add_text_field(field, tokenizer_name=code)
        builder.add_text_field(fields.cjk, tokenizer_name="cjk")
    builder.add_text_field("analysis", stored=True, tokenizer_name="raw")
    builder.add_date_field("official_date", stored=True, indexed=True, fast=True)
    builder.add_integer_field("date_sort", indexed=False, fast=True)
    builder.add_date_field("public_from", indexed=True, fast=True)
    builder.add_integer_field("version", stored=True)
    return builder.build()


SCHEMA = _schema()


def midnight(day: dt.date) -> dt.datetime:
    day = min(max(day, EARLIEST), LATEST)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def date_number(day: dt.date | None) -> int:
    return day.year * 10000 + day.month * 100 + day.day if day else 0
