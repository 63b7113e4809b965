"""The committee review in the admin, scoped to the user's subtree. Activity reports are
read-mostly here: they are written, submitted, approved and returned through their services,
on the report's own page (linked from each row) or by the "approve" action below."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches.admin_scope import ScopedModelAdmin

from .admin_rating import ReadOnlyInline  # also registers the ratings' admin classes
from .models import ActivityReport, ReportAttachment, ReportEvent
from .services import reports as report_services
from .views import message_of


class ReportEventInline(ReadOnlyInline):
    model = ReportEvent
    fields = ["at", "action", "by", "comment"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class ReportAttachmentInline(ReadOnlyInline):
    model = ReportAttachment
    fields = ["title", "file", "uploaded_at"]
    readonly_fields = fields


@admin.register(ActivityReport)
class ActivityReportAdmin(ScopedModelAdmin):
    list_display = [
        "organization", "period_label", "status", "due_on", "submitted_at", "reviewed_at",
        "overdue_flagged_at", "page_link",
    ]  # fmt: skip
    list_filter = ["status", "period_kind", "period_start", "due_on"]
    search_fields = ["organization__name", "narrative", "review_comment"]
    list_select_related = ["organization"]
    ordering = ["-period_start", "organization__path"]
    date_hierarchy = "period_start"
    inlines = [ReportAttachmentInline, ReportEventInline]
    actions = ["approve"]
    fields = [
        "organization", "period_kind", "period_start", "period_end", "due_on", "status",
        "narrative", "figures", "figures_at", "prepared_by", "submitted_at", "reviewed_at",
        "reviewed_by", "review_comment", "overdue_flagged_at", "page_link",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("period"), ordering="period_start")
    def period_label(self, obj):
        return obj.period.label()

    @admin.display(description=_("page"))
    def page_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("reports:report", args=[obj.pk]), _("Open")
        )

    @admin.action(description=_("Approve the selected submitted reports"), permissions=["change"])
    def approve(self, request, queryset):
        done, refused = 0, []
        for report in queryset.select_related("organization"):
            try:
                report_services.report_approve(report=report, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                refused.append(f"{report}: {message_of(exc)}")
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(n)d report approved.", "%(n)d reports approved.", done) % {"n": done},
                messages.SUCCESS,
            )
        for line in refused[:10]:
            self.message_user(request, line, messages.WARNING)
