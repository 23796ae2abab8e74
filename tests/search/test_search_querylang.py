"""The query language parser: what each construct becomes, and clear errors for the rest."""

from __future__ import annotations

import datetime as dt

import pytest

from search.querylang import (
    And,
    DateRange,
    Fuzzy,
    Keyword,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    QuerySyntaxError,
    Term,
    Wildcard,
    parse,
    positive_terms,
)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("   ", MatchAll()),
        ("brevet", Term("brevet")),
        ("brevet revendication", And((Term("brevet"), Term("revendication")))),
        ('"exact phrase"', Phrase("exact phrase")),
        ("a AND b", And((Term("a"), Term("b")))),
        ("a && b || c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a (b OR c)", And((Term("a"), Or((Term("b"), Term("c")))))),
        ("-draft", Not(Term("draft"))),
        ("NOT draft", Not(Term("draft"))),
        ("x-ray", Term("x-ray")),
        ("claims -draft", And((Term("claims"), Not(Term("draft"))))),
        ("a and b", And((Term("a"), Term("and"), Term("b")))),  # lower case: a word
        ("paten*", Prefix("paten")),
        ("brevit~", Fuzzy("brevit", 1)),
        ("brevit~2", Fuzzy("brevit", 2)),
        ("type:CLM", Keyword("type", "CLM")),
        ("type:clm", Keyword("type", "CLM")),
        ("TYPE:oa", Keyword("type", "OA")),
        ("direction:IN", Keyword("direction", "in")),
        ("lang:FR", Keyword("language", "fr")),
        ("ip:Patent", Keyword("ip_type", "patent")),
        ("dossier:BG/P/2024/000123", Keyword("dossier", "BG/P/2024/123")),
        ("dossier:bg/p/2024/*", Wildcard("dossier", "BG/P/2024/*")),
        ("applicant:acme", Term("acme", "applicant")),
        ('applicant:"acme corp"', Phrase("acme corp", "applicant")),
        ("title:pump*", Prefix("pump", "title")),
        (
            "date:2020-01-01..2021-06-30",
            DateRange("official_date", dt.date(2020, 1, 1), dt.date(2021, 6, 30)),
        ),
        ("date:2021", DateRange("official_date", dt.date(2021, 1, 1), dt.date(2021, 12, 31))),
        ("date:2021-02", DateRange("official_date", dt.date(2021, 2, 1), dt.date(2021, 2, 28))),
        ("date:2020..", DateRange("official_date", dt.date(2020, 1, 1), None)),
        ("date:..2020-05", DateRange("official_date", None, dt.date(2020, 5, 31))),
        ("براءة الاختراع", And((Term("براءة"), Term("الاختراع")))),
        ("изобретение", Term("изобретение")),
        ("专利申请", Term("专利申请")),
        ('"特許 出願"', Phrase("特許 出願")),
    ],
)
def test_parses(text, tree):
    assert parse(text) == tree


def test_unicode_is_normalised_to_nfc():
    decomposed = "bre\u0301vet"  # é as e + combining accent
    assert parse(decomposed) == Term("brévet")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"open', "not closed"),
        ("(a OR b", "parenthesis is not closed"),
        ("a)", "no opening one"),
        ("AND a", "both sides"),
        ("a OR", "both sides"),
        ("a AND", "both sides"),
        ("a OR OR b", "both sides"),
        ("NOT", "followed by"),
        ("a -", "no letters or digits"),
        ("()", "empty parentheses"),
        ('""', "empty phrase"),
        ("type:", "needs a value"),
        ("type: CLM", "needs a value"),
        ("colour:red", "unknown field colour:"),
        ("date:yesterday", "is not a date"),
        ("date:2021-02-30", "not a real date"),
        ("date:2022..2021", "ends before it starts"),
        ("date:..", "at least one end"),
        ("direction:up", "direction is one of"),
        ("pa*ent", "end of a word"),
        ("*", "end of a word"),
        ("word~9", "fuzzy distance"),
        ("dossier:12345", "dossier:"),
        ("???", "end of a word"),
        ("!!!", "no letters or digits"),
    ],
)
def test_malformed_queries_raise_a_clear_error(text, message):
    with pytest.raises(QuerySyntaxError) as error:
        parse(text)
    assert message in str(error.value)


def test_errors_point_at_the_fault():
    with pytest.raises(QuerySyntaxError) as error:
        parse('claims "open')
    assert error.value.position == 7
    assert "at character 8" in str(error.value)


def test_limits_keep_the_parser_bounded():
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse("a " * 1500)
    with pytest.raises(QuerySyntaxError, match="clauses"):
        parse(" ".join(f"w{i}" for i in range(100)))
    deep = "(" * 30 + "a" + ")" * 30
    assert parse(deep) == Term("a")
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("(" * 600 + "a" + ")" * 600)
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("NOT " * 400 + "a")


def test_positive_terms_leave_out_negations_and_fields():
    tree = parse('brevet "a phrase" -draft type:CLM applicant:acme paten*')
    assert positive_terms(tree) == [Term("brevet"), Phrase("a phrase"), Prefix("paten")]
