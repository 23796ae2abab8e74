"""Patent XML: the parser edms reads it with, and the fields of the shapes offices publish.

    WIPO ST.36 and its national variants (EP, US grant and pre-grant, the JP gazette):
        invention-title (EP: B542), abstract, claims/claim, description
    WIPO ST.96 (namespaced): InventionTitle, Abstract, Claims/Claim, Description
    USPTO ST.32 ("SGML as XML", PATDOC): B540, SDOAB, SDOCL//CLM, SDODE

The parser never loads a DTD, never resolves an entity (an external one could name a local file
or a URL; the corpus's ST.32 files declare dozens) and never touches the network. Entities a
DTD would have defined are read as the HTML entities they are named after (`&ldquo;`).
Runs in the sandbox child (`ingest.markup`).
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass

from lxml import etree

# Each shape, by the local names of its title, abstract, claims container, claim, description.
SHAPES = {
    "st36": ("invention-title", "abstract", "claims", "claim", "description"),
    "ep": ("B542", "abstract", "claims", "claim", "description"),
    "st96": ("InventionTitle", "Abstract", "Claims", "Claim", "Description"),
    "st32": ("B540", "SDOAB", "SDOCL", "CLM", "SDODE"),
}
# Elements that start a line of their own in the text (paragraphs, headings, claim parts).
_BLOCKS = {
    "p", "para", "heading", "h", "claim-text", "claimtext", "li", "br", "row", "ptext",
    "stext", "clmstep", "title", "entry",
}  # fmt: skip
# Not text a person reads: ST.96 numbers and types each claim in elements of their own.
_SKIPPED = {"ClaimNumber", "ClaimTypeCategory"}
# What a version's metadata keeps of the abstract and each claim, and of all claims together.
MAX_CLAIM_CHARS = 5000
MAX_CLAIMS_CHARS = 50000
_BLANKS = re.compile(r"[ \t\r\f\v]+")


@dataclass
class PatentText:
    shape: str
    title: str
    abstract: str
    claims: list[str]
    description: str

    def fields(self) -> dict:
        """The fields as stored on the version (shown by the API): bounded whatever the file
        claims; the text holds everything."""
        claims, room = [], MAX_CLAIMS_CHARS
        for claim in self.claims:
            if room <= 0:
                break
            claims.append(claim[: min(MAX_CLAIM_CHARS, room)])
            room -= len(claims[-1])
        return {
            "shape": self.shape,
            "title": self.title[:1000],
            "abstract": self.abstract[:MAX_CLAIM_CHARS],
            "claims": claims,
            "claim_count": len(self.claims),
            "description_chars": len(self.description),
        }

    def reading_order(self) -> str:
        """Title, abstract, claims, description: what a person reads, in that order."""
        parts = [self.title, self.abstract, *self.claims, self.description]
        return "\n\n".join(part for part in parts if part) + "\n"


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,  # lxml's limits on depth and text size stay on
        remove_comments=True,
        remove_pis=True,
        recover=True,  # an undeclared entity or a stray `&` loses a character, not the file
    )


def parse(path: str) -> etree._Element | None:
    """The root element, or None when it is not XML at all."""
    try:
        return etree.parse(path, safe_parser()).getroot()
    except (etree.XMLSyntaxError, ValueError):
        return None


def patent_text(root: etree._Element) -> PatentText | None:
    """The fields of a patent document of a known shape; None for other XML."""
    first = _first_by_local_name(root)
    for shape, (title, abstract, claims, claim, description) in SHAPES.items():
        # Its title, and claims or an abstract: a journal article's `abstract` is no patent;
        # nor is an EP publication ST.36's (its titles are in its bibliography, B540).
        if title not in first or (claims not in first and abstract not in first):
            continue
        containers = [el for el in root.iter() if _local_name(el) == claims]
        return PatentText(
            shape=shape,
            title=_title(root, title),
            abstract=_text(first[abstract]) if abstract in first else "",
            claims=[_text(el) for c in containers for el in c.iter() if _local_name(el) == claim],
            description=_text(first[description]) if description in first else "",
        )
    return None


def _title(root: etree._Element, name: str) -> str:
    """The title in the document's own language when it has several (EP: de, en, fr)."""
    titles = [el for el in root.iter(tag=etree.Element) if _local_name(el) == name]
    language = (root.get("lang") or "").lower()
    for title in titles:
        label = title.getprevious()  # EP's B541 names the language of the B542 that follows
        said = title.get("lang") or (label.text if label is not None else "") or ""
        if said.strip().lower() == language:
            return _text(title)
    return _text(titles[0]) if titles else ""


def _first_by_local_name(root: etree._Element) -> dict[str, etree._Element]:
    first: dict[str, etree._Element] = {}
    for element in root.iter(tag=etree.Element):
        first.setdefault(_local_name(element), element)
    return first


def _local_name(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: etree._Element) -> str:
    """The element's text, blanks collapsed, a line per block (walked without recursion)."""
    parts: list[str] = []
    walk = etree.iterwalk(element, events=("start", "end"))
    for event, node in walk:
        if isinstance(node, etree._Entity):
            if event == "start":
                parts.append(html.entities.html5.get(f"{node.name};", ""))
                parts.append(node.tail or "")
            continue
        if _local_name(node) in _SKIPPED:
            if event == "start":
                walk.skip_subtree()
            else:
                parts.append(node.tail or "")
            continue
        block = _local_name(node).lower() in _BLOCKS
        if event == "start":
            parts.append("\n" if block else "")
            parts.append(node.text or "")
        else:
            parts.append("\n" if block else "")
            if node is not element:
                parts.append(node.tail or "")
    lines = (_BLANKS.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
