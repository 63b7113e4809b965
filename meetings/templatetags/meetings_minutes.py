"""{% meeting_minutes meeting %}: the minutes block of the meeting detail page. Confirmed
minutes and their attachments for those who may see the meeting; for the recorder and the
managers also the draft and what they can do next (mark held, write, confirm, enter offline).
At most three queries whatever the meeting (see `minutes_block`)."""

from django import template

from ..selectors.minutes import minutes_block

register = template.Library()


@register.inclusion_tag("meetings/includes/_minutes.html", takes_context=True)
def meeting_minutes(context, meeting):
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    block = minutes_block(meeting=meeting, user=user)
    block.update(
        {
            "request": request,
            "user": user,
            "csrf_token": context.get("csrf_token"),
            "here": request.get_full_path() if request is not None else "",
        }
    )
    return block
