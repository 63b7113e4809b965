"""Sections that apps built on `meetings` add to the meeting page, so that `meetings` shows
what they attach to a meeting (the motions put to its vote) without importing them.

    register_section(template="decisions/includes/_meeting_motions.html",
                     context=selectors.meeting_section)

`context(meeting=, user=)` returns the template's context, or None to leave the section out;
it should cost one query at most (the meeting page has a fixed query count).
"""

from collections.abc import Callable

_sections: list[tuple[str, Callable]] = []


def register_section(*, template: str, context: Callable) -> None:
    if any(t == template for t, _c in _sections):
        return  # ready() may run twice in tests
    _sections.append((template, context))


def sections_for(*, meeting, user) -> list[tuple[str, dict]]:
    out = []
    for template, context in _sections:
        data = context(meeting=meeting, user=user)
        if data is not None:
            out.append((template, data))
    return out
