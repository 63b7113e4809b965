from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin

from . import selectors, services
from .models import Event, Notice, NoticeAttachment


class NoticeAttachmentInline(admin.TabularInline):
    model = NoticeAttachment
    extra = 1
    fields = ["title", "file"]


@admin.register(Notice)
class NoticeAdmin(PublishButtonMixin, ScopedModelAdmin):
    list_display = [
        "title",
        "kind",
        "organization",
        "status",
        "pinned",
        "published_at",
        "expires_at",
    ]
    list_filter = ["status", "kind", "pinned", "organization"]
    search_fields = ["title", "summary"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    inlines = [NoticeAttachmentInline]
    actions = ["publish", "remind_unread"]
    fieldsets = [
        (None, {"fields": ["organization", "kind", "title", "summary", "body"]}),
        (
            _("Audience"),
            {
                "fields": ["for_office", "for_front_line", "for_remote"],
                "description": _(
                    "Members of the organisation and everything under it, in these categories."
                ),
            },
        ),
        (_("Display"), {"fields": ["pinned", "expires_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.is_published:
            fieldsets.append((_("Who has read it"), {"fields": ["read_stats"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ["read_stats"] if obj is not None and obj.is_published else []

    @admin.display(description=_("readers"))
    def read_stats(self, obj):
        return render_to_string(
            "notifications/admin/read_stats.html", selectors.notice_read_stats(notice=obj)
        )

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.NOTICE_FIELDS if f in form.cleaned_data}
        try:
            if change:
                changed = {f: v for f, v in data.items() if f in form.changed_data}
                stored = services.notice_update(notice=obj, by=request.user, fields=changed)
            else:
                stored = services.notice_create(by=request.user, **data)
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def _publish(self, request, notices) -> int:
        published = 0
        for notice in notices:
            if notice.is_published:
                continue
            services.notice_publish(notice=notice, by=request.user)
            published += 1
        if published:
            messages.success(
                request,
                ngettext(
                    "%(n)d notice published; its members are being notified.",
                    "%(n)d notices published; their members are being notified.",
                    published,
                )
                % {"n": published},
            )
        return published

    @admin.action(
        description=_("Publish the selected notices and notify their members"),
        permissions=["change"],
    )
    def publish(self, request, queryset):
        if not self._publish(request, queryset.select_related("organization")):
            messages.info(request, _("The selected notices were already published."))

    @admin.action(
        description=_("Remind the members who have not read them"), permissions=["change"]
    )
    def remind_unread(self, request, queryset):
        for notice in queryset.select_related("organization"):
            try:
                count = services.notice_remind(notice=notice, by=request.user)
            except ValidationError as exc:
                messages.warning(request, f"{notice}: {'; '.join(exc.messages)}")
                continue
            if count:
                messages.success(
                    request,
                    ngettext(
                        "%(notice)s: %(n)d member reminded.",
                        "%(notice)s: %(n)d members reminded.",
                        count,
                    )
                    % {"notice": notice, "n": count},
                )
            else:
                messages.info(
                    request,
                    _("%(notice)s: everyone has read it, or today's reminder has already gone out.")
                    % {"notice": notice},
                )

    def has_delete_permission(self, request, obj=None):
        # Published notices are part of the record; drafts can go.
        if obj is not None and obj.is_published and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Delivery diagnostics for IT: what was announced, to whom, and whether it went out."""

    list_display = [
        "created_at",
        "kind",
        "subject",
        "audience",
        "recipients",
        "fanned_out_at",
        "attempts",
    ]
    list_filter = ["kind", "audience"]
    search_fields = ["subject"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
