"""``{% number_notices owner %}``: the "who retired a number" notices on a contacts page."""

from django import template

from directory.numbers.selectors import notices_for

register = template.Library()


@register.inclusion_tag("numbers/_notices.html")
def number_notices(owner):
    """Render the open notices of ``owner`` (an entry) about contacts who retired a number."""
    return {"owner": owner, "notices": notices_for(owner) if owner is not None else []}
