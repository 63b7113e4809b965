from django import template
from django.utils.safestring import mark_safe

from core.richtext import sanitize_html

register = template.Library()


@register.filter(is_safe=True)
def richtext(value) -> str:
    """Show stored rich text: sanitised again with the same allow-list (it was on save), so a
    row written around the service, or an allow-list tightened since, still renders safely.
    Pictures load lazily (phones on weak data fetch only what scrolls into view)."""
    html = sanitize_html(value or "").replace("<img ", '<img loading="lazy" decoding="async" ')
    return mark_safe(html)  # noqa: S308 - nh3 output, plus two fixed attributes
