"""The query language examiners type, parsed into a small syntax tree the backends translate.

    brevet "exact phrase" (claims OR revendications) -draft NOT cancelled
    type:CLM dossier:BG/P/2024/* applicant:acme direction:in lang:fr
    date:2020-01-01..2021-06-30  date:2021  paten*  brevit~  brevit~2

Grammar (a recursive-descent parser over a token stream; AND binds tighter than OR, adjacent
clauses are ANDed):

    query   := or? EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | FIELD value | PHRASE | WORD

Operators are upper case (`AND`, `OR`, `NOT`), as in Lucene; lower-case `and` is a word.
Anything malformed raises `QuerySyntaxError` with a message a person can act on and the
character position, never a crash.

One module on purpose, though longer than most: the syntax tree, the lexer, the parser and the
checks of field values are one grammar, read against each other (the parser turns the lexer's
tokens into the tree's nodes; every check reports its fault at a token's position). Split into
files, they would only be read side by side.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from calendar import monthrange
from contextlib import contextmanager
from dataclasses import dataclass

from dossier.numbering import InvalidFileNumber, normalise_key

MAX_QUERY_CHARS = 2000
MAX_CLAUSES = 64
MAX_FUZZY_DISTANCE = 2
MAX_DEPTH = 32  # nested parentheses and negations; keeps recursion far from Python's limit


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; `position` is the 0-based character offset of the fault."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position + 1})"


# --- The syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchAll:
    """An empty query: every document the caller may see (filters still apply)."""


@dataclass(frozen=True)
class Term:
    """A word in the full text (`field=None`) or in a text field such as `applicant`."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Prefix:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Fuzzy:
    text: str
    distance: int = 1
    field: str | None = None


@dataclass(frozen=True)
class Keyword:
    """An exact value of a keyword field (`type:CLM`, `direction:in`, `lang:fr`)."""

    field: str
    value: str


@dataclass(frozen=True)
class KeywordSet:
    """Any of many exact values of a keyword field. Never typed by people: edms builds it, e.g.
    to leave out documents whose readers changed since they were indexed (`search.freshness`)."""

    field: str
    values: frozenset[str]


@dataclass(frozen=True)
class Wildcard:
    """A keyword field matched by a glob where `*` is any run of characters (`dossier:BG/P/*`)."""

    field: str
    pattern: str


@dataclass(frozen=True)
class DateRange:
    """Official date between `start` and `end`, both inclusive; either may be open (None)."""

    field: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = (
    MatchAll
    | Term
    | Phrase
    | Prefix
    | Fuzzy
    | Keyword
    | KeywordSet
    | Wildcard
    | DateRange
    | And
    | Or
) | Not

# --- Fields ---------------------------------------------------------------------------------

# Query field name → (index field, kind). Kinds: keyword (exact), text (analysed words),
# date (ranges). Aliases let people type what they say.
FIELDS: dict[str, tuple[str, str]] = {
    "type": ("type", "keyword"),
    "dossier": ("dossier", "keyword"),
    "applicant": ("applicant", "text"),
    "title": ("title", "text"),
    "direction": ("direction", "keyword"),
    "lang": ("language", "keyword"),
    "language": ("language", "keyword"),
    "ip": ("ip_type", "keyword"),
    "status": ("status", "keyword"),
    "date": ("official_date", "date"),
}
DIRECTIONS = ("in", "out", "internal")


# --- Lexer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # WORD PHRASE FIELD LPAREN RPAREN AND OR NOT MINUS EOF
    text: str
    position: int


_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT", "&&": "AND", "||": "OR"}
_FIELD_PREFIX = re.compile(r"([A-Za-z_]+):")
_DELIMITERS = set('()"')


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(Token("LPAREN", char, i))
            i += 1
        elif char == ")":
            tokens.append(Token("RPAREN", char, i))
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('a quoted phrase is not closed; add the closing "', i)
            tokens.append(Token("PHRASE", text[i + 1 : end], i))
            i = end + 1
        elif char == "-" and i + 1 < n and not text[i + 1].isspace():
            # Only reached where a token begins, so `x-ray` stays one word.
            tokens.append(Token("MINUS", char, i))
            i += 1
        else:
            field = _FIELD_PREFIX.match(text, i)
            if field:
                tokens.append(Token("FIELD", field.group(1).lower(), i))
                i = field.end()
                continue
            start = i
            while i < n and not text[i].isspace() and text[i] not in _DELIMITERS:
                i += 1
            word = text[start:i]
            tokens.append(Token(_OPERATORS.get(word, "WORD"), word, start))
    tokens.append(Token("EOF", "", n))
    return tokens


# --- Parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.clauses = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def parse(self) -> Node:
        if self.current.kind == "EOF":
            return MatchAll()
        node = self.parse_or()
        if self.current.kind == "RPAREN":
            raise QuerySyntaxError(
                "a closing parenthesis has no opening one", self.current.position
            )
        if self.current.kind != "EOF":  # pragma: no cover - parse_and consumes everything else
            raise QuerySyntaxError(f"unexpected {self.current.text!r}", self.current.position)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.kind == "OR":
            operator = self.advance()
            if self.current.kind in ("EOF", "RPAREN", "OR", "AND"):
                raise QuerySyntaxError("OR needs a clause on both sides", operator.position)
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.current.kind not in ("EOF", "RPAREN", "OR"):
            if self.current.kind == "AND":
                operator = self.advance()
                if self.current.kind in ("EOF", "RPAREN", "OR", "AND"):
                    raise QuerySyntaxError("AND needs a clause on both sides", operator.position)
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        token = self.current
        if token.kind in ("NOT", "MINUS"):
            self.advance()
            if self.current.kind in ("EOF", "RPAREN", "OR", "AND"):
                what = "NOT" if token.kind == "NOT" else "-"
                raise QuerySyntaxError(
                    f"{what} must be followed by what to exclude", token.position
                )
            with self.nested(token):
                return Not(self.parse_unary())
        return self.parse_primary()

    @contextmanager
    def nested(self, token: Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"the query nests deeper than {MAX_DEPTH} levels", token.position
            )
        try:
            yield
        finally:
            self.depth -= 1

    def parse_primary(self) -> Node:
        token = self.advance()
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QuerySyntaxError(f"the query has more than {MAX_CLAUSES} clauses", token.position)
        if token.kind == "LPAREN":
            if self.current.kind == "RPAREN":
                raise QuerySyntaxError("empty parentheses", token.position)
            with self.nested(token):
                node = self.parse_or()
            if self.current.kind != "RPAREN":
                raise QuerySyntaxError(
                    "a parenthesis is not closed; add the closing )", token.position
                )
            self.advance()
            return node
        if token.kind == "PHRASE":
            return _phrase(token, field=None)
        if token.kind == "WORD":
            return _word(token, field=None)
        if token.kind == "FIELD":
            return self.parse_field(token)
        if token.kind in ("AND", "OR"):
            raise QuerySyntaxError(f"{token.text} needs a clause on both sides", token.position)
        if token.kind == "RPAREN":
            raise QuerySyntaxError("a closing parenthesis has no opening one", token.position)
        raise QuerySyntaxError("the query ends where a word was expected", token.position)

    def parse_field(self, token: Token) -> Node:
        name = token.text
        if name not in FIELDS:
            known = ", ".join(f"{f}:" for f in FIELDS)
            raise QuerySyntaxError(
                f"unknown field {name}:; known fields are {known}", token.position
            )
        value = self.current
        adjacent = value.position == token.position + len(name) + 1
        if value.kind not in ("WORD", "PHRASE") or not adjacent:
            raise QuerySyntaxError(f"{name}: needs a value right after the colon", token.position)
        self.advance()
        index_field, kind = FIELDS[name]
        if kind == "text":
            return (
                _phrase(value, index_field) if value.kind == "PHRASE" else _word(value, index_field)
            )
        if kind == "date":
            return _date_range(index_field, value)
        return _keyword(name, index_field, value)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _phrase(token: Token, field: str | None) -> Node:
    text = _clean(token.text)
    if not text:
        raise QuerySyntaxError('an empty phrase ("") matches nothing; remove it', token.position)
    return Phrase(text, field)


_FUZZY = re.compile(r"^(?P<word>.+?)~(?P<distance>\d*)$")


def _word(token: Token, field: str | None) -> Node:
    text = _clean(token.text)
    fuzzy = _FUZZY.match(text)
    if fuzzy:
        distance = int(fuzzy["distance"]) if fuzzy["distance"] else 1
        if not 0 <= distance <= MAX_FUZZY_DISTANCE:
            raise QuerySyntaxError(
                f"fuzzy distance is 0 to {MAX_FUZZY_DISTANCE} (word~ or word~2)", token.position
            )
        return Fuzzy(_plain_word(fuzzy["word"], token), distance, field)
    if text.endswith("*") and len(text) > 1:
        return Prefix(_plain_word(text[:-1], token), field)
    return Term(_plain_word(text, token), field)


def _plain_word(text: str, token: Token) -> str:
    if "*" in text or "?" in text:
        raise QuerySyntaxError(
            "wildcards go at the end of a word only (paten*)", token.position + text.find("*")
        )
    if not any(ch.isalnum() for ch in text):
        raise QuerySyntaxError(f"{text!r} has no letters or digits to search for", token.position)
    return text


def _keyword(name: str, index_field: str, token: Token) -> Node:
    value = _clean(token.text)
    if not value:
        raise QuerySyntaxError(f"{name}: needs a value", token.position)
    if index_field == "direction":
        value = value.lower()
        if value not in DIRECTIONS:
            raise QuerySyntaxError(
                f"direction is one of {', '.join(DIRECTIONS)}, not {value!r}", token.position
            )
    elif index_field in ("type", "dossier"):
        value = value.upper()
    elif index_field in ("language", "ip_type"):
        value = value.lower()
    if "*" in value:
        if index_field == "dossier":
            value = _dossier_pattern(value)
        return Wildcard(index_field, value)
    if index_field == "dossier":
        value = _dossier_key(value, token)
    return Keyword(index_field, value)


def _dossier_key(value: str, token: Token) -> str:
    try:
        return normalise_key(value)
    except InvalidFileNumber as exc:
        raise QuerySyntaxError(f"dossier: {exc}", token.position) from None


def _dossier_pattern(value: str) -> str:
    # Keys are stored with unpadded serials: BG/P/2024/000* is not a useful pattern, but a
    # whole leading part (BG/P/2024/*) is the common case and works as typed.
    return "/".join(part.strip() for part in value.split("/"))


_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _date_bounds(text: str, token: Token) -> tuple[dt.date, dt.date]:
    """The first and last day named by `2021`, `2021-06` or `2021-06-30`."""
    match = _DATE.match(text)
    if not match:
        raise QuerySyntaxError(
            f"{text!r} is not a date; write 2021-06-30, 2021-06 or 2021", token.position
        )
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            return dt.date(year, month, 1), dt.date(year, month, monthrange(year, month)[1])
        return dt.date(year, month, day), dt.date(year, month, day)
    except ValueError:
        raise QuerySyntaxError(f"{text!r} is not a real date", token.position) from None


def _date_range(field: str, token: Token) -> DateRange:
    text = _clean(token.text)
    if ".." not in text:
        start, end = _date_bounds(text, token)
        return DateRange(field, start, end)
    low, _, high = text.partition("..")
    if not low and not high:
        raise QuerySyntaxError("a date range needs at least one end (2020-01-01..)", token.position)
    start = _date_bounds(low, token)[0] if low else None
    end = _date_bounds(high, token)[1] if high else None
    if start and end and start > end:
        raise QuerySyntaxError(f"the date range {text} ends before it starts", token.position)
    return DateRange(field, start, end)


def parse(text: str) -> Node:
    """Parse a query typed by a person; raises `QuerySyntaxError` when it is malformed."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    return _Parser(text).parse()


def positive_terms(node: Node) -> list[Node]:
    """The word-like clauses that are not negated: what snippets should highlight."""
    if isinstance(node, Term | Phrase | Prefix | Fuzzy):
        return [node] if node.field is None else []
    if isinstance(node, And | Or):
        return [leaf for child in node.children for leaf in positive_terms(child)]
    return []
