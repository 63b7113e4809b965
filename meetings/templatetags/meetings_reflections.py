"""{% meeting_reflections meeting %}: the reflections block of the meeting detail page."""

from django import template

register = template.Library()


@register.inclusion_tag("meetings/includes/_reflections.html", takes_context=True)
def meeting_reflections(context, meeting):
    return {"meeting": meeting, "request": context.get("request"), "user": context.get("user")}
