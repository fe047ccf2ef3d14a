"""Template helpers for the page components in ``templates/components/``."""

from __future__ import annotations

from collections.abc import Sequence

from django import template

register = template.Library()


@register.filter
def at(items: Sequence, index: int):
    """``items|at:i``: the item at position ``i`` of a list, or ``""`` past its end.

    Used by the table component to label each cell with its column's title.
    """
    try:
        return items[int(index)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def is_mapping(value) -> bool:
    """``value|is_mapping``: whether a table cell is a dict (text with a link or code)."""
    return isinstance(value, dict)


@register.filter
def handle_display(handle) -> str:
    """``handle|handle_display``: an external handle as people write it, hosts as
    Unicode U-labels (``@alice@bücher.example``), never its A-label canonical form
    (:func:`directory.display.handle_display`)."""
    from directory.display import handle_display as display

    return display(handle)
