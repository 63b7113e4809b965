"""{% meeting_sections meeting %}: the sections other apps register for the meeting page
(`meetings.registry`)."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from meetings.registry import sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def meeting_sections(context, meeting):
    request = context.get("request")
    user = context.get("user")
    html = [
        render_to_string(name, {**data, "meeting": meeting, "user": user}, request=request)
        for name, data in sections_for(meeting=meeting, user=user)
    ]
    return mark_safe("".join(html))  # noqa: S308 - rendered templates, autoescaped
