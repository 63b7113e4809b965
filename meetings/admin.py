"""Meetings in the secretaries' admin: planning and editing (saved through
`meetings.services`), the "Save and publish" button and action, and the attendance of each
meeting (read-only: members answer and sign in themselves, the recorder records).

Once held, a meeting's plan is kept as it was; its minutes, their attachments and the photo of
the sign-in sheet stay editable until a secretary confirms the minutes, after which the whole
meeting is read-only. Actions mark meetings held and confirm minutes; a page enters a meeting
held offline (who was present, minutes, sign-in sheet); the changelist links to the ledger."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin
from core.richtext import sanitize_html
from lessons.forms import add_service_error

from . import services
from .models import Attendance, Meeting, MeetingAttachment
from .services import minutes as minutes_services
from .views.minutes import OfflineEntryForm

#: What the plan of a meeting is made of: read-only once it is held or cancelled.
PLANNING_FIELDS = [
    "organization", "kind", "title", "agenda", "lessons", "starts_at", "ends_at", "place",
    "format", "video_link", "host", "recorder",
]  # fmt: skip
MINUTES_INFO = ["minutes_written_by", "minutes_confirmed_at", "minutes_confirmed_by"]


def minutes_open(meeting: Meeting | None) -> bool:
    """Held, minutes not confirmed yet: the minutes and their attachments may change."""
    return (
        meeting is not None
        and meeting.status == Meeting.Status.HELD
        and meeting.minutes_confirmed_at is None
    )


class ReplaceOnlyFileWidget(AdminFileWidget):
    """The current file and an input to replace it, without the "clear" box: a sign-in sheet
    is replaced, never silently dropped."""

    @property
    def is_required(self):
        return True

    @is_required.setter
    def is_required(self, value):
        pass


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


class MeetingAttachmentInline(admin.TabularInline):
    """Attachments to the minutes: added (checked by `core`) and removed through the services
    while the minutes are open; an existing one is replaced by removing it and adding anew."""

    model = MeetingAttachment
    extra = 0
    fields = ["title", "file", "uploaded_at"]
    readonly_fields = ["uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return minutes_open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return minutes_open(obj) and super().has_delete_permission(request, obj)


@admin.register(Meeting)
class MeetingAdmin(PublishButtonMixin, ScopedModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "kind", "organization", "starts_at", "status", "held_offline", "published_at"]  # fmt: skip
    list_filter = ["kind", "status", "held_offline", "format", "organization"]
    search_fields = ["title", "place", "=short_code"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["organization", "host", "recorder", "lessons"]
    list_select_related = ["organization"]
    inlines = [AttendanceInline]
    actions = ["publish", "cancel", "mark_held", "confirm_minutes", "record_offline"]
    readonly_fields = ["status", "published_at", "held_offline", "entered_at", "cancelled_reason", "short_code"]  # fmt: skip
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
                    "short_code",
                ]
            },
        ),
    ]

    # -- held meetings: the minutes -----------------------------------------------------------
    def get_inlines(self, request, obj):
        if obj is not None and obj.status == Meeting.Status.HELD:
            return [MeetingAttachmentInline, AttendanceInline]
        return [AttendanceInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.status == Meeting.Status.HELD:
            minutes = "minutes" if minutes_open(obj) else "minutes_html"
            fieldsets.append(
                (
                    _("Minutes"),
                    {
                        "fields": [minutes, "sign_in_sheet", *MINUTES_INFO],
                        "description": _(
                            "Written by the recorder; once a secretary confirms them (action "
                            "“Confirm the minutes”), the minutes, their attachments and the "
                            "sign-in sheet can no longer be changed."
                        ),
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), *MINUTES_INFO, "minutes_html"]
        if obj is not None and obj.status != Meeting.Status.PLANNED:
            readonly += PLANNING_FIELDS  # the plan of a held meeting is kept as it was
        if obj is not None and not minutes_open(obj):
            readonly += ["minutes", "sign_in_sheet"]
        return readonly

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "sign_in_sheet":
            kwargs["widget"] = ReplaceOnlyFileWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("minutes"))
    def minutes_html(self, obj):
        return mark_safe(sanitize_html(obj.minutes))  # noqa: S308 - nh3 output

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == Meeting.Status.CANCELLED:
            return False  # cancelled meetings are kept as they were
        if obj is not None and obj.status == Meeting.Status.HELD and not minutes_open(obj):
            return False  # confirmed minutes: the whole meeting is read-only
        return super().has_change_permission(request, obj)

    def _save_minutes(self, request, obj, form) -> None:
        if not {"minutes", "sign_in_sheet"} & set(form.changed_data):
            return
        sheet = form.cleaned_data.get("sign_in_sheet") if "sign_in_sheet" in form.changed_data else None  # fmt: skip
        stored = minutes_services.minutes_save(
            meeting=obj,
            by=request.user,
            minutes=form.cleaned_data.get("minutes", obj.minutes),
            sign_in_sheet=sheet or None,
        )
        obj.__dict__.update(stored.__dict__)

    def save_model(self, request, obj, form, change):
        if change and obj.status == Meeting.Status.HELD:
            try:
                self._save_minutes(request, obj, form)
            except ValidationError as exc:
                raise PermissionDenied("; ".join(exc.messages)) from exc
            return
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

    def save_formset(self, request, form, formset, change):
        if formset.model is not MeetingAttachment:
            return super().save_formset(request, form, formset, change)
        meeting = form.instance
        # What the admin's change message (history) reads from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        try:
            for item in formset.deleted_forms:
                if item.instance.pk:
                    minutes_services.minutes_attachment_remove(
                        meeting=meeting, by=request.user, attachment_id=item.instance.pk
                    )
                    formset.deleted_objects.append(item.instance)
            for item in formset.extra_forms:
                if item.has_changed() and item not in formset.deleted_forms:
                    formset.new_objects.append(
                        minutes_services.minutes_attachment_add(
                            meeting=meeting,
                            by=request.user,
                            file=item.cleaned_data.get("file"),
                            title=item.cleaned_data.get("title", ""),
                        )
                    )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        return None

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

    # -- held, minutes confirmed, held offline ---------------------------------------------------
    def _each(self, request, queryset, service) -> int:
        """Run `service` on each meeting; a refusal is a warning naming the meeting."""
        count = 0
        for meeting in queryset.select_related("organization"):
            try:
                service(meeting=meeting, by=request.user)
            except (PermissionDenied, ValidationError) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.warning(request, f"{meeting}: {reason}")
            else:
                count += 1
        return count

    @admin.action(description=_("Mark the selected meetings as held"), permissions=["change"])
    def mark_held(self, request, queryset):
        n = self._each(
            request,
            queryset.exclude(status=Meeting.Status.HELD),
            minutes_services.meeting_mark_held,
        )
        if n:
            messages.success(
                request,
                ngettext("%(n)d meeting marked as held.", "%(n)d meetings marked as held.", n)
                % {"n": n},
            )

    @admin.action(description=_("Confirm the minutes of the selected meetings"), permissions=["change"])  # fmt: skip
    def confirm_minutes(self, request, queryset):
        n = self._each(
            request,
            queryset.filter(minutes_confirmed_at__isnull=True),
            minutes_services.minutes_confirm,
        )
        if n:
            messages.success(
                request,
                ngettext(
                    "The minutes of %(n)d meeting are confirmed.",
                    "The minutes of %(n)d meetings are confirmed.",
                    n,
                )
                % {"n": n},
            )

    @admin.action(description=_("Enter the selected meeting as held offline"), permissions=["change"])  # fmt: skip
    def record_offline(self, request, queryset):
        meetings = list(queryset[:2])
        if len(meetings) != 1:
            messages.info(request, _("Choose one meeting to enter as held offline."))
            return None
        return HttpResponseRedirect(
            reverse("admin:meetings_meeting_offline", args=[meetings[0].pk])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        meeting = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "can_enter_offline": meeting is not None
            and (meeting.status == Meeting.Status.PLANNED or meeting.held_offline)
            and meeting.minutes_confirmed_at is None
            and meeting.starts_at <= timezone.now(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/offline/",
                self.admin_site.admin_view(self.offline_view),
                name="meetings_meeting_offline",
            )
        ]
        return extra + super().get_urls()

    def offline_view(self, request, object_id):
        """Enter a meeting held where there is no network: who was present (the expected
        attendees, ticked), the minutes and a photo of the paper sign-in sheet."""
        meeting = self.get_object(request, unquote(object_id))  # scoped: None outside
        if meeting is None:
            raise Http404
        if not self.has_view_permission(request, meeting):
            raise PermissionDenied
        form = OfflineEntryForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            meeting=meeting,
            user=request.user,
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.meeting_record_offline(
                    meeting=meeting,
                    by=request.user,
                    present_user_ids=[u.pk for u in form.cleaned_data["present"]],
                    minutes=form.cleaned_data["minutes"],
                    sign_in_sheet=form.cleaned_data["sign_in_sheet"] or None,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The meeting is entered as held offline."))
                return HttpResponseRedirect(
                    reverse("admin:meetings_meeting_change", args=[meeting.pk])
                )
        blocked = ""
        if meeting.status == Meeting.Status.CANCELLED:
            blocked = _("This meeting is cancelled.")
        elif meeting.minutes_confirmed_at is not None:
            blocked = _("The minutes are confirmed: they can no longer be changed.")
        elif meeting.starts_at > timezone.now():
            blocked = _("A meeting can be entered only after it took place.")
        return TemplateResponse(
            request,
            "admin/meetings/meeting/offline.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": meeting,
                "title": _("Enter a meeting held offline"),
                "form": form,
                "blocked": blocked,
                "media": self.media + form.media,
            },
        )
