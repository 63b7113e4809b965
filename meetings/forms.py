"""Forms of the member pages: the answer before a meeting and the secretary's cancelling.
They only check the input; the services decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Attendance, Meeting

REASON_MAX = Attendance._meta.get_field("leave_reason").max_length
CANCEL_REASON_MAX = Meeting._meta.get_field("cancelled_reason").max_length


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("answer"),
        choices=Attendance.Rsvp.choices,
        error_messages={"required": _("Say whether you will come.")},
    )
    reason = forms.CharField(
        label=_("reason for leave"), max_length=REASON_MAX, required=False, strip=True
    )

    def clean(self):
        data = super().clean()
        if data.get("answer") == Attendance.Rsvp.LEAVE and not data.get("reason"):
            self.add_error("reason", _("Give a reason for your leave."))
        return data

    @property
    def coming(self) -> bool:
        return self.cleaned_data["answer"] == Attendance.Rsvp.COMING


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for cancelling"),
        max_length=CANCEL_REASON_MAX,
        strip=True,
        error_messages={"required": _("Say why the meeting is cancelled.")},
    )


class RecordForm(forms.Form):
    user = forms.IntegerField(min_value=1)
