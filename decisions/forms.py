"""Forms of the decision pages: the vote and a progress report."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import CheckedImageFormField

from .models import Choice

PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("My vote"), choices=Choice.choices, widget=forms.RadioSelect)


class ProgressForm(forms.Form):
    body = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    percent = forms.IntegerField(
        label=_("Progress (%)"),
        min_value=0,
        max_value=100,
        help_text=_("100 % marks the decision as carried out."),
    )
    photo_1 = CheckedImageFormField(label=_("Photo"), required=False)
    photo_2 = CheckedImageFormField(label=_("Photo"), required=False)
    photo_3 = CheckedImageFormField(label=_("Photo"), required=False)

    @property
    def photos(self) -> list:
        return [self.cleaned_data[name] for name in PHOTO_FIELDS if self.cleaned_data.get(name)]
