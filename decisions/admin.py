"""Motions in the secretaries' admin: raising a draft (saved through `decisions.services`),
its attachments, "Save and open the vote", closing early, and the follow-up of a decision
(owner and due date). Once the vote is open, the motion is read-only.

Nothing here shows who voted what in a secret ballot: voter records and ballots have no
admin at all, and the counts of a secret ballot appear only once frozen at the close. The
named votes of a public vote are listed (read-only) when its count may be shown."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches import scope
from branches.admin_scope import PublishButtonMixin, ScopedModelAdmin
from branches.models import Organization

from . import selectors, services
from .models import Motion, MotionAttachment, ProgressUpdate, Vote

STATUS_FIELDS = [
    "status", "raised_by", "opened_at", "closed_at", "closed_by", "result", "count",
    "turnout_now",
]  # fmt: skip
FOLLOW_UP_FIELDS = ["owner", "due_on"]


def _draft(obj) -> bool:
    return obj is None or obj.status == Motion.Status.DRAFT


class MotionAttachmentInline(admin.TabularInline):
    """Documents of a draft (checked by `core`); fixed once the vote is open."""

    model = MotionAttachment
    extra = 0
    fields = ["title", "file", "uploaded_at"]
    readonly_fields = ["uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return _draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _draft(obj) and super().has_delete_permission(request, obj)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PublicVoteInline(ReadOnlyInline):
    """The named votes of a public vote, when its count may be shown (never a secret one)."""

    model = Vote
    fields = ["user", "choice", "cast_at", "changed_at"]
    readonly_fields = fields
    verbose_name_plural = _("votes (public vote)")

    def has_view_permission(self, request, obj=None):
        # Shown through the motion (the inline itself needs no permission of its own).
        return obj is not None and not obj.secret and obj.results_visible

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user__member")


class ProgressUpdateInline(ReadOnlyInline):
    model = ProgressUpdate
    fields = ["created_at", "author", "percent", "body"]
    readonly_fields = fields
    verbose_name_plural = _("progress reports (written on the decision's page)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__member")


class MotionAdminForm(forms.ModelForm):
    class Meta:
        model = Motion
        fields = [*services.MOTION_FIELDS, *FOLLOW_UP_FIELDS]

    def clean(self):
        data = super().clean()
        motion = self.instance
        if motion.pk and motion.is_decision and set(FOLLOW_UP_FIELDS) & set(self.changed_data):
            try:
                services.decision_assign_check(
                    motion=motion, owner=data.get("owner"), due_on=data.get("due_on")
                )
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    self.add_error(field, errors)
        return data


@admin.register(Motion)
class MotionAdmin(PublishButtonMixin, ScopedModelAdmin):
    form = MotionAdminForm
    list_display = ["title", "organization", "status", "closes_at", "secret", "result", "progress"]  # fmt: skip
    list_filter = ["status", "result", "secret", "electorate", "organization"]
    search_fields = ["title"]
    date_hierarchy = "opens_at"
    autocomplete_fields = ["organization", "meeting", "owner"]
    list_select_related = ["organization"]
    inlines = [MotionAttachmentInline]
    actions = ["open_votes", "close_votes"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["organization", "meeting", "title", "body"]}),
            (
                _("The vote"),
                {
                    "fields": [
                        "electorate",
                        ("opens_at", "closes_at"),
                        "secret",
                        "changeable",
                        "results_hidden",
                        "quorum_percent",
                        ("threshold", "majority_of"),
                    ]
                },
            ),
        ]
        if obj is not None:
            fieldsets.append((_("Status and result"), {"fields": STATUS_FIELDS}))
        if obj is not None and obj.is_decision:
            fieldsets.append(
                (
                    _("Follow-up"),
                    {
                        "fields": [*FOLLOW_UP_FIELDS, "progress", "done_at"],
                        "description": _(
                            "The owner (a member of the organisation) and the secretaries "
                            "report progress on the decision's page; members see it there and "
                            "on the branch timeline."
                        ),
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = [*STATUS_FIELDS, "progress", "done_at"]
        if not _draft(obj):
            readonly += list(services.MOTION_FIELDS)
        if obj is not None and obj.is_decision and not selectors.can_assign(request.user, obj):
            readonly += FOLLOW_UP_FIELDS
        return readonly

    def get_inlines(self, request, obj):
        inlines = [MotionAttachmentInline]
        if obj is not None and not obj.secret and obj.results_visible:
            inlines.append(PublicVoteInline)
        if obj is not None and obj.is_decision:
            inlines.append(ProgressUpdateInline)
        return inlines

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial.setdefault("opens_at", now)
        initial.setdefault("closes_at", now + timedelta(days=settings.NETBRANCH_VOTE_DAYS))
        paths = scope.managed_paths(request.user, selectors.RAISE_ROLES)
        if len(paths) == 1:  # a secretary of one branch: that branch
            org = Organization.objects.filter(path=paths[0]).values_list("pk", flat=True).first()
            initial.setdefault("organization", org)  # fmt: skip
        return initial

    @admin.display(description=_("count"))
    def count(self, obj):
        if obj.status == Motion.Status.CLOSED:
            return _("for %(f)s, against %(a)s, abstain %(s)s of %(n)s entitled") % {
                "f": obj.votes_for, "a": obj.votes_against, "s": obj.votes_abstain,
                "n": obj.electorate_size,
            }  # fmt: skip
        if obj.results_visible:
            counts = selectors.count_votes(obj)
            return _("so far: for %(f)s, against %(a)s, abstain %(s)s") % {
                "f": counts["for"], "a": counts["against"], "s": counts["abstain"],
            }  # fmt: skip
        return _("hidden until the close")

    @admin.display(description=_("voted so far"))
    def turnout_now(self, obj):
        if obj.status != Motion.Status.OPEN:
            return "—"
        return _("%(n)s of %(total)s entitled") % {
            "n": selectors.turnout(obj),
            "total": selectors.electorate_users(obj).count(),
        }

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Motion.Status.DRAFT:
            return False  # a vote that was opened stays on record
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # drafts are deleted one by one
        return actions

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                data = {n: form.cleaned_data[n] for n in services.MOTION_FIELDS if n in form.cleaned_data}  # fmt: skip
                stored = services.motion_create(by=request.user, **data)
            elif obj.status == Motion.Status.DRAFT:
                data = {
                    n: form.cleaned_data[n]
                    for n in services.MOTION_FIELDS
                    if n in form.changed_data and n in form.cleaned_data
                }
                stored = services.motion_update(motion=obj, by=request.user, fields=data)
            elif obj.is_decision and set(FOLLOW_UP_FIELDS) & set(form.changed_data):
                stored = services.decision_assign(
                    motion=obj,
                    by=request.user,
                    owner=form.cleaned_data.get("owner"),
                    due_on=form.cleaned_data.get("due_on"),
                )
            else:
                return
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def _each(self, request, queryset, service) -> int:
        """Run `service` on each motion; a refusal is a warning naming the motion."""
        count = 0
        if hasattr(queryset, "select_related"):
            queryset = queryset.select_related("organization")
        for motion in queryset:
            try:
                service(motion=motion, by=request.user)
            except (PermissionDenied, ValidationError) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.warning(request, f"{motion}: {reason}")
            else:
                count += 1
        return count

    def _publish(self, request, motions) -> int:
        n = self._each(
            request, [m for m in motions if m.status == Motion.Status.DRAFT], services.motion_open
        )
        if n:
            messages.success(
                request,
                ngettext(
                    "%(n)d vote opened; those entitled to vote are being told.",
                    "%(n)d votes opened; those entitled to vote are being told.",
                    n,
                )
                % {"n": n},
            )
        return n

    @admin.action(description=_("Open the vote on the selected motions"), permissions=["change"])
    def open_votes(self, request, queryset):
        if not self._publish(request, list(queryset.select_related("organization"))):
            messages.info(request, _("Nothing to open: only drafts can be opened."))

    @admin.action(description=_("Close the vote now and count"), permissions=["change"])
    def close_votes(self, request, queryset):
        n = self._each(request, queryset.filter(status=Motion.Status.OPEN), services.motion_close)
        if n:
            messages.success(
                request,
                ngettext("%(n)d vote closed and counted.", "%(n)d votes closed and counted.", n)
                % {"n": n},
            )
        else:
            messages.info(request, _("Nothing to close: only open votes can be closed."))
