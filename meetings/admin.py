"""Meetings in the secretaries' admin: planning and editing (saved through
`meetings.services`), the "Save and publish" button and action, and the attendance of each
meeting (read-only: members answer and sign in themselves, the recorder records)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin

from . import services
from .models import Attendance, Meeting


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for cancelling"),
        max_length=240,
        help_text=_("Sent to the expected attendees of an announced meeting."),
    )


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    can_delete = False
    fields = ["user", "rsvp", "leave_reason", "signed_in_at", "via", "recorded_by"]
    readonly_fields = fields
    verbose_name_plural = _("answers and sign-ins")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "recorded_by")


@admin.register(Meeting)
class MeetingAdmin(PublishButtonMixin, ScopedModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "kind", "organization", "starts_at", "status", "held_offline", "published_at"]  # fmt: skip
    list_filter = ["kind", "status", "held_offline", "format", "organization"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["organization", "host", "recorder", "lessons"]
    list_select_related = ["organization"]
    inlines = [AttendanceInline]
    actions = ["publish", "cancel"]
    readonly_fields = ["status", "published_at", "held_offline", "entered_at", "cancelled_reason"]
    fieldsets = [
        (None, {"fields": ["organization", "kind", "title", "agenda", "lessons"]}),
        (
            _("Time and place"),
            {"fields": [("starts_at", "ends_at"), "place", "format", "video_link"]},
        ),
        (_("People"), {"fields": ["host", "recorder"]}),
        (
            _("Status"),
            {
                "fields": [
                    "status",
                    "published_at",
                    "held_offline",
                    "entered_at",
                    "cancelled_reason",
                ]
            },
        ),
    ]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != Meeting.Status.PLANNED:
            return False  # held and cancelled meetings are kept as they were
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        names = (*services.MEETING_FIELDS, "lessons")
        data = {
            name: form.cleaned_data[name]
            for name in names
            if name in form.cleaned_data and (not change or name in form.changed_data)
        }
        try:
            if change:
                stored = services.meeting_update(meeting=obj, by=request.user, fields=data)
            else:
                stored = services.meeting_create(by=request.user, **data)
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def save_related(self, request, form, formsets, change):
        # The linked lessons were set by the service; the inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def _publish(self, request, meetings) -> int:
        published = 0
        for meeting in meetings:
            if meeting.is_published or meeting.status != Meeting.Status.PLANNED:
                continue
            services.meeting_publish(meeting=meeting, by=request.user)
            published += 1
        if published:
            messages.success(
                request,
                ngettext(
                    "%(n)d meeting announced; its attendees are being notified.",
                    "%(n)d meetings announced; their attendees are being notified.",
                    published,
                )
                % {"n": published},
            )
        return published

    @admin.action(description=_("Announce the selected meetings"), permissions=["change"])
    def publish(self, request, queryset):
        if not self._publish(request, queryset.select_related("organization")):
            messages.info(request, _("Nothing to announce: the selected meetings are announced already."))  # fmt: skip

    @admin.action(description=_("Cancel the selected meetings"), permissions=["change"])
    def cancel(self, request, queryset):
        meetings = list(
            queryset.filter(status=Meeting.Status.PLANNED).select_related("organization")
        )
        if not meetings:
            messages.info(request, _("Only planned meetings can be cancelled."))
            return None
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for meeting in meetings:
                services.meeting_cancel(
                    meeting=meeting, by=request.user, reason=form.cleaned_data["reason"]
                )
            messages.success(
                request,
                ngettext(
                    "%(n)d meeting cancelled; its attendees are being told.",
                    "%(n)d meetings cancelled; their attendees are being told.",
                    len(meetings),
                )
                % {"n": len(meetings)},
            )
            return None
        return TemplateResponse(
            request,
            "admin/meetings/meeting/cancel.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Cancel meetings"),
                "objects": meetings,
                "action": "cancel",
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
