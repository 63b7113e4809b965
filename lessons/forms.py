"""Admin forms of the study sync. They run the services' own checks (reading time, the
micro-lesson limit, video links) while the form is validated, so that a secretary sees the
reason next to the field instead of an error page, and nothing is saved."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.richtext import sanitize_html

from . import services
from .models import Lesson


def add_service_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it,
    otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class LessonAdminForm(forms.ModelForm):
    """The lesson form. `wants_publish` / `wants_schedule` are set by the admin from the
    button that was pressed."""

    wants_publish = False
    wants_schedule = False

    class Meta:
        model = Lesson
        fields = ["kind", "title", "body"]  # the admin passes the fields of its fieldsets

    def clean(self):
        cleaned = super().clean()
        get = cleaned.get
        video_file = get("video_file", getattr(self.instance, "video_file", ""))
        probe = Lesson(
            kind=get("kind", self.instance.kind),
            body=sanitize_html(get("body", self.instance.body) or ""),  # what will be shown
            video_url=get("video_url", self.instance.video_url) or "",
            video_minutes=get("video_minutes", self.instance.video_minutes),
        )
        probe.video_file = video_file or ""
        try:
            services._check_video(probe)
        except ValidationError as exc:
            add_service_error(self, exc)
        if (
            probe.kind == Lesson.Kind.VIDEO
            and not probe.video_minutes
            and "video_minutes" in self.fields
        ):
            self.add_error(
                "video_minutes", _("Give the video's length: it counts in the reading time.")
            )
        try:
            services._apply_reading_time(probe)  # reading_minutes() and the micro-lesson limit
        except ValidationError as exc:
            add_service_error(self, exc)
        self.reading_minutes = probe.reading_minutes

        if self.wants_schedule:
            publish_at = get("publish_at")
            if self.instance.pk and self.instance.status == Lesson.Status.PUBLISHED:
                self.add_error(None, _("This lesson is already published."))
            elif not publish_at:
                self.add_error("publish_at", _("Choose when the lesson publishes itself."))
            elif publish_at <= timezone.now():
                self.add_error("publish_at", _("Choose a time in the future."))
        return cleaned


class PlanItemFormSet(BaseInlineFormSet):
    """The items of a study plan. When the secretary presses "Save and publish", the plan must
    have items and its lessons must be published, as `plan_publish` requires: said here, next
    to the items, rather than after the save."""

    wants_publish = False

    def clean(self):
        super().clean()
        if not self.wants_publish or any(self.errors):
            return
        items = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not items:
            raise ValidationError(_("Add at least one lesson or document to the plan first."))
        drafts = [
            str(item["lesson"])
            for item in items
            if item.get("lesson") is not None and item["lesson"].status != Lesson.Status.PUBLISHED
        ]
        if drafts:
            raise ValidationError(
                _("Publish the plan's lessons first: %(titles)s.") % {"titles": "、".join(drafts)}
            )
