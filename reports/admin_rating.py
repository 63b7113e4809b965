"""The five-star ratings and practice accounts in the admin, scoped to the user's subtree.

Everything is read-only here: a rating changes only through its services (confirm from the
list's action or the rating's page, override with a reason on the rating's page, recompute),
and a practice account is written on its own page and shared by the action below."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches.admin_scope import ScopedModelAdmin

from .models import BranchRating, PracticeAccount, RatingDecision
from .services import rating as services
from .views import message_of


class ReadOnlyInline(admin.TabularInline):
    """A history shown under its object in the admin: nothing added, changed or removed."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return obj is not None


class RatingDecisionInline(ReadOnlyInline):
    model = RatingDecision
    fields = ["at", "action", "stars", "score", "reason", "by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(BranchRating)
class BranchRatingAdmin(ScopedModelAdmin):
    list_display = [
        "organization", "year", "score", "computed_stars", "stars", "status", "decided_at",
        "page_link",
    ]  # fmt: skip
    list_filter = ["year", "status", "computed_stars", "stars"]
    search_fields = ["organization__name"]
    list_select_related = ["organization"]
    ordering = ["-year", "organization__path"]
    inlines = [RatingDecisionInline]
    actions = ["confirm"]
    fields = [
        "organization", "year", "score", "computed_stars", "breakdown", "computed_at",
        "status", "stars", "reason", "decided_by", "decided_at", "page_link",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("page"))
    def page_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("reports:rating", args=[obj.pk]), _("Decide")
        )

    @admin.action(description=_("Confirm the computed stars"), permissions=["change"])
    def confirm(self, request, queryset):
        done = 0
        for rating in queryset.select_related("organization"):
            try:
                services.rating_confirm(rating=rating, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.warning(request, f"{rating}: {message_of(exc)}")
                continue
            done += 1
        if done:
            messages.success(
                request,
                ngettext(
                    "%(n)d rating confirmed; the branch is told.",
                    "%(n)d ratings confirmed; the branches are told.",
                    done,
                )
                % {"n": done},
            )


@admin.register(PracticeAccount)
class PracticeAccountAdmin(ScopedModelAdmin):
    list_display = ["title", "organization", "status", "created_at", "shared_at"]
    list_filter = ["status"]
    search_fields = ["title", "organization__name"]
    list_select_related = ["organization"]
    actions = ["share"]
    fields = ["organization", "rating", "title", "body", "status", "written_by", "shared_at", "shared_by"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Share with every member of the group"), permissions=["change"])
    def share(self, request, queryset):
        done = 0
        for account in queryset.select_related("organization", "rating"):
            try:
                services.practice_account_share(account=account, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.warning(request, f"{account}: {message_of(exc)}")
                continue
            done += 1
        if done:
            messages.success(
                request,
                ngettext("%(n)d account shared.", "%(n)d accounts shared.", done) % {"n": done},
            )
