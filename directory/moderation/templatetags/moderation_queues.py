"""``{% moderation_queues as queues %}``: the dashboard's queue summaries for the user."""

from django import template

from directory.moderation.queues import queue_summaries

register = template.Library()


@register.simple_tag(takes_context=True)
def moderation_queues(context):
    """The :class:`~directory.moderation.queues.QueueSummary` list for the signed-in user."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return queue_summaries(request.user)
