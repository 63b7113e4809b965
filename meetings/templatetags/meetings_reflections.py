"""{% meeting_reflections meeting %}: the reflections block of the meeting detail page (my
reflection or the form to write it, the latest reflections, and for managers who has not
written). A fixed number of queries (see `selectors.reflections.reflections_block`)."""

from django import template

from discussions.context import with_param

from ..selectors.reflections import reflections_block

register = template.Library()


@register.inclusion_tag("meetings/includes/_reflections.html", takes_context=True)
def meeting_reflections(context, meeting):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    here = request.get_full_path() if request is not None else ""
    block = reflections_block(meeting=meeting, user=user)
    next_url = with_param(here, "edit", None) if here else ""
    return {
        **block,
        "meeting": meeting,
        "request": request,
        "user": user,
        "next_url": next_url,
        "edit_url": with_param(next_url, "edit", 1) + "#my-reflection",
        "editing": request is not None and request.GET.get("edit") == "1",
    }
