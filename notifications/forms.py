from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EmailPreference


class EmailPreferenceForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("E-mail me"), choices=EmailPreference.Mode.choices, widget=forms.RadioSelect
    )
