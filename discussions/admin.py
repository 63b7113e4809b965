"""Moderation in the admin: comments and board posts of the organisations in the user's
scope. Members write on the portal, never here; changes go through the services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.admin_scope import ScopedModelAdmin

from . import services
from .models import BoardPost, Comment
from .templatetags.discussions import display_name

STANDARD_REASON = _("Not in keeping with the rules of the board.")


def _messages_of(exc: Exception) -> str:
    return "; ".join(getattr(exc, "messages", None) or [str(exc)])


class HiddenFilter(admin.SimpleListFilter):
    title = _("visibility")
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("no", _("shown")), ("yes", _("hidden"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(hidden_at__isnull=True)
        return queryset


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["hidden_reason"]
        help_texts = {
            "hidden_reason": _("Write a reason and save to hide the comment from the members."),
        }


@admin.register(Comment)
class CommentAdmin(ScopedModelAdmin):
    form = CommentForm
    list_display = ["short_body", "author_name", "organization", "on", "created_at", "is_shown"]
    list_filter = [HiddenFilter, "organization", "content_type", "created_at"]
    search_fields = ["body", "author__member__real_name", "author__username"]
    list_select_related = ["organization", "author__member", "content_type"]
    date_hierarchy = "created_at"
    actions = ["hide_selected"]
    readonly_fields = [
        "author_name",
        "organization",
        "on",
        "parent",
        "body",
        "created_at",
        "deleted_at",
        "hidden_at",
        "hidden_by",
    ]
    fields = [*readonly_fields, "hidden_reason"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("target")

    @admin.display(description=_("text"))
    def short_body(self, obj):
        return Truncator(obj.body).chars(60) or gettext("(deleted)")

    @admin.display(description=_("author"), ordering="author__member__real_name")
    def author_name(self, obj):
        return display_name(obj.author)

    @admin.display(description=_("on"))
    def on(self, obj):
        target = obj.target
        if target is None:
            return "—"
        url = getattr(target, "get_absolute_url", None)
        label = f"{obj.content_type.name}: {Truncator(str(target)).chars(40)}"
        return format_html('<a href="{}">{}</a>', url(), label) if url else label

    @admin.display(description=_("shown"), boolean=True)
    def is_shown(self, obj):
        return obj.hidden_at is None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Moderators hide with a reason; the author deletes their own on the portal.
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.hidden_at is not None:
            return [*self.readonly_fields, "hidden_reason"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("hidden_reason", "")
        if not change or not reason or "hidden_reason" not in form.changed_data:
            return
        try:
            stored = services.comment_hide(comment=obj, by=request.user, reason=reason)
        except (PermissionDenied, ValidationError) as exc:
            raise PermissionDenied(_messages_of(exc)) from exc
        obj.__dict__.update(stored.__dict__)

    @admin.action(
        description=_("Hide the selected comments (standard reason)"), permissions=["change"]
    )
    def hide_selected(self, request, queryset):
        done = 0
        for comment in queryset.filter(hidden_at__isnull=True):
            try:
                services.comment_hide(comment=comment, by=request.user, reason=str(STANDARD_REASON))
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, _messages_of(exc))
        if done:
            messages.success(request, gettext("%(n)d comments hidden.") % {"n": done})


class BoardPostForm(forms.ModelForm):
    class Meta:
        model = BoardPost
        fields = ["answer", "hidden_reason"]
        help_texts = {
            "answer": _("Shown under the post as the branch's answer; the author is notified."),
            "hidden_reason": _("Write a reason and save to hide the post from the members."),
        }


@admin.register(BoardPost)
class BoardPostAdmin(ScopedModelAdmin):
    form = BoardPostForm
    list_display = [
        "short_body",
        "kind",
        "status",
        "author_name",
        "anonymous",
        "organization",
        "created_at",
        "answered_at",
    ]
    list_filter = ["status", "kind", "anonymous", "organization", "created_at"]
    search_fields = ["body", "answer", "author__member__real_name", "author__username"]
    list_select_related = ["organization", "author__member"]
    date_hierarchy = "created_at"
    actions = ["hide_selected", "mark_resolved"]
    readonly_fields = [
        "organization",
        "author_name",
        "anonymous",
        "kind",
        "status",
        "body",
        "created_at",
        "answered_by",
        "answered_at",
        "resolved_at",
        "hidden_by",
        "hidden_at",
    ]
    fieldsets = [
        (None, {"fields": ["organization", "author_name", "anonymous", "kind", "status", "body", "created_at"]}),
        (_("Official answer"), {"fields": ["answer", "answered_by", "answered_at", "resolved_at"]}),
        (_("Moderation"), {"fields": ["hidden_reason", "hidden_by", "hidden_at"]}),
    ]  # fmt: skip

    @admin.display(description=_("text"))
    def short_body(self, obj):
        return Truncator(obj.body).chars(60)

    @admin.display(description=_("author"), ordering="author__member__real_name")
    def author_name(self, obj):
        # Anonymous to members, never to the secretary and the committee.
        return display_name(obj.author)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_hidden:
            return [*self.readonly_fields, "answer", "hidden_reason"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            return
        try:
            if "answer" in form.changed_data and form.cleaned_data.get("answer", "").strip():
                obj = services.board_post_answer(
                    post=obj, by=request.user, answer=form.cleaned_data["answer"]
                )
            if "hidden_reason" in form.changed_data and form.cleaned_data.get("hidden_reason"):
                obj = services.board_post_hide(
                    post=obj, by=request.user, reason=form.cleaned_data["hidden_reason"]
                )
        except (PermissionDenied, ValidationError) as exc:
            raise PermissionDenied(_messages_of(exc)) from exc
        form.instance.__dict__.update(obj.__dict__)

    @admin.action(
        description=_("Hide the selected posts (standard reason)"), permissions=["change"]
    )
    def hide_selected(self, request, queryset):
        done = 0
        for post in queryset.exclude(status=BoardPost.Status.HIDDEN):
            try:
                services.board_post_hide(post=post, by=request.user, reason=str(STANDARD_REASON))
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, _messages_of(exc))
        if done:
            messages.success(request, gettext("%(n)d posts hidden.") % {"n": done})

    @admin.action(description=_("Mark the selected posts resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        done = 0
        for post in queryset.exclude(
            status__in=[BoardPost.Status.HIDDEN, BoardPost.Status.RESOLVED]
        ):
            try:
                services.board_post_resolve(post=post, by=request.user)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, _messages_of(exc))
        if done:
            messages.success(request, gettext("%(n)d posts marked resolved.") % {"n": done})
