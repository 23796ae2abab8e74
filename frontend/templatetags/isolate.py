"""Dates and codes that keep their left-to-right order on right-to-left pages.

An ISO date holds no letter, so the Unicode bidirectional algorithm orders it by its neighbours:
on an Arabic page "2024-01-09 14:30" shows as "14:30 2024-01-09", and a date beside a file number
or a page count trades places with it. Each date is therefore its own left-to-right island
(`dir="ltr"` isolates an element, as `<bdi>` does); text whose direction is unknown (titles,
names, snippets) goes in `<bdi>` in the templates, which takes the direction of its first letter.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

NOTHING = "—"


@register.filter(expects_localtime=True)
def isodate(value: dt.date | str | None) -> SafeString | str:
    """`<time dir="ltr">2024-01-09</time>` (from a date, or a search hit's ISO string), or a
    dash for no date."""
    if not value:
        return NOTHING
    if isinstance(value, dt.datetime):
        value = value.date()
    text = value if isinstance(value, str) else value.isoformat()
    return format_html('<time datetime="{}" dir="ltr">{}</time>', text, text)


@register.filter(expects_localtime=True)
def isodatetime(value: dt.datetime | None) -> SafeString | str:
    """`<time dir="ltr">2024-01-09 14:30</time>` in the current time zone, or a dash."""
    if not value:
        return NOTHING
    return format_html(
        '<time datetime="{}" dir="ltr">{}</time>',
        value.isoformat(),
        format_date(value, "Y-m-d H:i"),
    )
