"""Forms of the member's own pages (/me/, /join/) and of the admin's decision screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import validate_document

from .models import ContactAttempt, JoinRequest, Member, OutreachCase


class OwnContactForm(forms.ModelForm):
    """What a member may correct on their own record (services.OWN_FIELDS)."""

    class Meta:
        model = Member
        fields = ["phone", "position"]


class TransferForm(forms.Form):
    """Start a transfer to a branch of the group (`to_branch`, chosen from a search) or out of
    the group (`external_organization`)."""

    to_branch = forms.IntegerField(required=False, widget=forms.HiddenInput)
    external_organization = forms.CharField(
        label=_("receiving organisation outside the group"), max_length=200, required=False
    )
    letter_number = forms.CharField(label=_("letter number"), max_length=60, required=False)
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: moved to another project."),
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("to_branch")) == bool((data.get("external_organization") or "").strip()):
            raise forms.ValidationError(
                _("Name either a branch of the group or an organisation outside it.")
            )
        return data


class JoinRequestForm(forms.ModelForm):
    class Meta:
        model = JoinRequest
        fields = ["real_name", "phone", "letter_number", "details"]
        widgets = {"details": forms.Textarea(attrs={"rows": 3})}


class ReasonForm(forms.Form):
    """The admin's refusal screen."""

    reason = forms.CharField(
        label=_("reason for refusal"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The person asking reads it."),
    )


class ReleaseForm(forms.Form):
    letter_number = forms.CharField(
        label=_("letter number"),
        max_length=60,
        required=False,
        help_text=_("Required for a transfer out of the group; kept as given otherwise."),
    )


class ContactAttemptForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=ContactAttempt.Channel.choices)
    result = forms.CharField(
        label=_("result"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: no answer; spoke to a colleague; will come on Friday."),
    )


class CaseCloseForm(forms.Form):
    result = forms.ChoiceField(label=_("result"), choices=OutreachCase.Result.choices)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class MemberImportForm(forms.Form):
    sheet = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("One member per row, with the columns of the blank sheet, headers first."),
    )

    def clean_sheet(self):
        sheet = self.cleaned_data["sheet"]
        if sheet.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        # Core's document checks (content sniffed, zip-bomb and macro guards) before openpyxl
        # unpacks it.
        if validate_document(sheet) != "xlsx":
            raise forms.ValidationError(_("This is not an Excel (.xlsx) file."))
        return sheet
