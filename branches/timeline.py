"""Timeline entry kinds. An entry stores a kind and parameters; its text is rendered in the
reader's language from the format registered here. Apps register their kinds in ready()."""

from collections.abc import Callable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Format = Promise | str | Callable[[dict], str]
_formats: dict[str, Format] = {}


def register(kind: str, text: Format) -> None:
    """`text` is a lazily translated format with %(name)s placeholders, or a callable taking
    the parameters and returning the text."""
    _formats[kind] = text


def render_entry(entry) -> str:
    text = _formats.get(entry.kind)
    if text is None:
        return entry.kind
    if callable(text) and not isinstance(text, Promise):
        return text(entry.params)
    try:
        return str(text) % entry.params
    except (KeyError, TypeError, ValueError):
        return str(text)


def _role_assigned(params: dict) -> str:
    from .models import RoleAssignment

    try:
        role = RoleAssignment.Role(params.get("role")).label
    except ValueError:
        role = params.get("role", "")
    return _("%(person)s became %(role)s") % {"person": params.get("person", ""), "role": role}


def register_defaults() -> None:
    register("site_opened", _("Project site %(site)s opened"))
    register("site_closed", _("Project site %(site)s closed"))
    register("role_assigned", _role_assigned)
    register("organization_created", _("%(name)s was set up"))
