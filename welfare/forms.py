"""Forms of the welfare pages and of the admin's handover, closing, featuring and totals
screens. Uploads go through `core`'s checked fields."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches import scope
from branches.models import Organization
from core.uploads import CheckedFileFormField, CheckedImageFormField

from .models import PairingCase

PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")


class FollowUpForm(forms.Form):
    visited_on = forms.DateField(
        label=_("visited on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("what was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photo_1 = CheckedImageFormField(label=_("photo"), required=False)
    photo_2 = CheckedImageFormField(label=_("photo"), required=False)
    photo_3 = CheckedImageFormField(label=_("photo"), required=False)
    cleared = forms.BooleanField(
        label=_("The photos are cleared for showing"),
        required=False,
        help_text=_(
            "Only when nobody can be recognised or the people in them agreed: then every "
            "member who sees the case sees them."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate

    @property
    def photos(self) -> list:
        return [self.cleaned_data[name] for name in PHOTO_FIELDS if self.cleaned_data.get(name)]


class HandoverForm(forms.Form):
    to_kind = forms.ChoiceField(label=_("handed over to (kind)"), choices=PairingCase.HandoverTo.choices)  # fmt: skip
    to = forms.CharField(
        label=_("handed over to"),
        max_length=120,
        help_text=_("e.g. the village committee of X village"),
    )
    contact = forms.CharField(
        label=_("contact"), max_length=120, help_text=_("A person and a phone number.")
    )
    on = forms.DateField(label=_("handed over on"), initial=date.today)
    document = CheckedFileFormField(
        label=_("signed handover document"),
        help_text=_("A PDF or an Office file, scanned or typed."),
    )
    note = forms.CharField(label=_("handover note"), required=False, widget=forms.Textarea)


class CloseForm(forms.Form):
    on = forms.DateField(label=_("closed on"), initial=date.today)
    reason = forms.CharField(label=_("reason for closing"), max_length=240)


class FeatureForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("feature to"),
        queryset=Organization.objects.none(),
        help_text=_(
            "Its members and everyone under it then see the activity on their welfare page."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = (
            scope.reviewed_organizations(user)
            .filter(kind__in=[Organization.Kind.COMMITTEE, Organization.Kind.GENERAL_BRANCH])
            .order_by("path")
        )


class PeriodForm(forms.Form):
    """The totals' period: a year, optionally one quarter or one month of it."""

    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("quarter"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("the whole year")), *((q, f"Q{q}") for q in range(1, 5))],
    )
    month = forms.TypedChoiceField(
        label=_("month"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((m, str(m)) for m in range(1, 13))],
    )

    def bounds(self) -> tuple[date, date]:
        year = self.cleaned_data["year"]
        month = self.cleaned_data.get("month")
        quarter = self.cleaned_data.get("quarter")
        if month:
            start = date(year, month, 1)
            end = date(year + (month == 12), month % 12 + 1, 1)
        elif quarter:
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        else:
            return date(year, 1, 1), date(year, 12, 31)
        return start, date.fromordinal(end.toordinal() - 1)
