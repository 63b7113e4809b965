"""Sections that apps built on `branches` add to the branch page, so that `branches` shows
what they know about an organisation (its five-star rating, say) without importing them.

    register_section(template="reports/includes/_branch_rating.html",
                     context=selectors.branch_section)

`context(organization=, user=)` returns the template's context, or None to leave the section
out; it should cost two queries at most (the branch page has a fixed query count).
"""

from collections.abc import Callable

_sections: list[tuple[str, Callable]] = []


def register_section(*, template: str, context: Callable) -> None:
    if any(t == template for t, _c in _sections):
        return  # ready() may run twice in tests
    _sections.append((template, context))


def sections_for(*, organization, user) -> list[tuple[str, dict]]:
    out = []
    for template, context in _sections:
        data = context(organization=organization, user=user)
        if data is not None:
            out.append((template, data))
    return out
