from django import template
from django.utils.safestring import mark_safe

from core.richtext import sanitize_html

register = template.Library()


@register.filter(is_safe=True)
def richtext(value) -> str:
    """Show stored rich text: sanitised again with the same allow-list (it was on save), so a
    row written around the service, or an allow-list tightened since, still renders safely."""
    return mark_safe(sanitize_html(value or ""))  # noqa: S308 - nh3 output
