"""{% organization_sections organization %}: the sections other apps register for the branch
page (`branches.registry`)."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from branches.registry import sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def organization_sections(context, organization):
    request = context.get("request")
    user = context.get("user")
    html = [
        render_to_string(
            name, {**data, "organization": organization, "user": user}, request=request
        )
        for name, data in sections_for(organization=organization, user=user)
    ]
    return mark_safe("".join(html))  # noqa: S308 - rendered templates, autoescaped
