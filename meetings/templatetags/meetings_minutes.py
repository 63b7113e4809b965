"""{% meeting_minutes meeting %}: the minutes block of the meeting detail page."""

from django import template

register = template.Library()


@register.inclusion_tag("meetings/includes/_minutes.html", takes_context=True)
def meeting_minutes(context, meeting):
    return {"meeting": meeting, "request": context.get("request"), "user": context.get("user")}
