"""The pages of the committee review: `reports` (activity reports), `review` (the committee
dashboard), `rating` (five-star ratings and practice accounts). The two helpers below turn a
service's refusal into a message or a form's errors; the admin uses the first too."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def message_of(exc: Exception) -> str:
    """The text of a service's ValidationError or PermissionDenied, for a flash message."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where it names one of the form's."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
