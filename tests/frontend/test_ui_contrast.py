"""The UI's colour pairs meet WCAG 2.1 AA contrast (4.5:1 for text), read from the stylesheet
itself so a palette change that hurts readability fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "app.css"
AA_TEXT = 4.5


def palette() -> dict[str, str]:
    text = CSS.read_text()
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", text))


def rule_colour(selector: str, prop: str) -> str:
    """The first `prop: #rrggbb` declared in the rule for `selector` (literal colours only)."""
    text = CSS.read_text()
    # The selector starts a rule (or a selector list) and is not the prefix of a longer one.
    rule = r"(?:^|\})\s*" + re.escape(selector) + r"(?=[\s,{])[^{]*\{([^}]*)\}"
    for body in re.findall(rule, text, flags=re.MULTILINE):
        found = re.search(rf"(?<![-\w]){prop}:\s*(#[0-9a-fA-F]{{6}})", body)
        if found:
            return found.group(1)
    raise AssertionError(f"no {prop} colour for {selector} in {CSS.name}")


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


COLOUR = palette()
TEXT_PAIRS = [
    ("ink", "page"),
    ("ink", "paper"),
    ("muted", "paper"),
    ("muted", "page"),
    ("accent", "paper"),
    ("accent", "page"),
    ("accent-ink", "accent"),
    ("ok", "paper"),
    ("warn", "paper"),
    ("bad", "paper"),
]


@pytest.mark.parametrize(("foreground", "background"), TEXT_PAIRS)
def test_palette_text_pairs_meet_aa(foreground, background):
    ratio = contrast(COLOUR[foreground], COLOUR[background])
    assert ratio >= AA_TEXT, f"--{foreground} on --{background}: {ratio:.2f}:1"


@pytest.mark.parametrize(
    "selector",
    [
        ".badge",
        ".badge.public",
        ".badge.confidential",
        ".badge.internal",
        "mark",
        ".dropzone.over",
    ],
)
def test_ink_is_readable_on_tinted_backgrounds(selector):
    background = rule_colour(selector, "background")
    ratio = contrast(COLOUR["ink"], background)
    assert ratio >= AA_TEXT, f"ink on {selector} ({background}): {ratio:.2f}:1"


def test_top_bar_text_is_readable():
    ratio = contrast("#ffffff", rule_colour(".topbar", "background"))
    assert ratio >= AA_TEXT, f"top bar: {ratio:.2f}:1"


def test_focus_ring_is_visible_against_the_page():
    # WCAG 2.1 non-text contrast: 3:1 for the focus indicator against its surroundings.
    assert contrast(COLOUR["focus"], COLOUR["ink"]) >= 3
