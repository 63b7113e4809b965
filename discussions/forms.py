"""Forms of the comment thread, the like button and the board. They only parse the request:
the services check the rules (length, rate, permission) and give the messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import conf
from .models import BoardPost


class TargetForm(forms.Form):
    """What a comment or a like is about: a content type id and an object id."""

    content_type = forms.IntegerField(min_value=1)
    object_id = forms.IntegerField(min_value=1)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    parent = forms.IntegerField(required=False, min_value=1)
    client_token = forms.UUIDField(required=False)


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class BoardPostForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("This is a"),
        choices=BoardPost.Kind.choices,
        initial=BoardPost.Kind.QUESTION,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("What would you like to say?"),
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    anonymous = forms.BooleanField(
        label=_("Post anonymously (the secretary and the committee still see my name)"),
        required=False,
    )
    client_token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs["maxlength"] = conf.board_post_max_length()


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Official answer"),
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
