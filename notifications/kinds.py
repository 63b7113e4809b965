"""Event kinds: how an event reads in the inbox and in e-mail, in the reader's language.
Apps register their kinds in ready(): `kinds.register("lesson_published", _("New lesson: %(subject)s"))`."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_formats: dict[str, Promise | str] = {}


def register(kind: str, text: Promise | str) -> None:
    _formats[kind] = text


def render(event) -> str:
    text = _formats.get(event.kind)
    if text is None:
        return event.subject
    try:
        return str(text) % {"subject": event.subject}
    except (KeyError, TypeError, ValueError):
        return str(text)


def register_defaults() -> None:
    register("notice_published", _("New notice: %(subject)s"))
    register("disclosure_published", _("Disclosure of enterprise affairs: %(subject)s"))
    register("decision_published", _("Decision announced: %(subject)s"))
    register("news_published", _("Party-building news: %(subject)s"))
    register("notice_reminder", _("Reminder, please read: %(subject)s"))
    register("message", _("%(subject)s"))
