from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from branches import scope
from branches.admin_scope import ScopedModelAdmin
from branches.models import Organization
from core.exports import xlsx_response

from . import selectors, services
from .forms import MemberImportForm, ReasonForm, ReleaseForm
from .models import (
    TRANSFER_OPEN_Q,
    ActivityFact,
    ContactAttempt,
    Invitation,
    JoinRequest,
    Member,
    OutreachCase,
    Participation,
    Transfer,
)

User = get_user_model()


class MemberAddForm(forms.ModelForm):
    username = forms.CharField(label=_("user name"), max_length=150, help_text=_("Used to log in."))
    email = forms.EmailField(
        label=_("e-mail"), help_text=_("The member sets a password through this address.")
    )

    class Meta:
        model = Member
        fields = [
            "real_name",
            "branch",
            "project_site",
            "status",
            "category",
            "joined_party_on",
            "phone",
            "position",
        ]


class ParticipationInline(admin.TabularInline):
    model = Participation
    fk_name = "member"
    extra = 0
    fields = ["organization", "started_on", "ended_on", "note"]
    autocomplete_fields = ["organization"]
    verbose_name = _("participation in another organisation")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs["queryset"] = scope.managed_organizations(request.user).filter(
                kind__in=[k.value for k in Member.branch.field.related_model.PARTICIPATION_KINDS]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Member)
class MemberAdmin(ScopedModelAdmin):
    list_display = [
        "real_name",
        "branch",
        "status",
        "category",
        "contact_status",
        "project_site",
        "phone",
        "last_active_at",
    ]
    list_filter = ["status", "category", "contact_status", "branch", "project_site__coverage"]
    search_fields = ["real_name", "phone", "user__username", "user__email"]
    list_select_related = ["branch", "project_site"]
    autocomplete_fields = ["branch", "project_site"]
    readonly_fields = ["last_active_at", "archived_at"]
    inlines = [ParticipationInline]
    actions = ["export_xlsx"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "real_name",
                    "branch",
                    "project_site",
                    "status",
                    "category",
                    "contact_status",
                ]
            },
        ),
        (
            _("Contact"),
            {"fields": ["phone", "position", "joined_party_on", "last_active_at", "archived_at"]},
        ),
    ]

    def scope_queryset(self, request, queryset):
        return queryset.filter(selectors.member_scope_q(scope.managed_paths(request.user)))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MemberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (_("Account"), {"fields": ["username", "email"]}),
                (None, {"fields": ["real_name", "branch", "project_site", "status", "category"]}),
                (_("Contact"), {"fields": ["phone", "position", "joined_party_on"]}),
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.MEMBER_FIELDS if f in form.cleaned_data}
        try:
            if change:
                changed = {f: v for f, v in data.items() if f in form.changed_data}
                stored = services.member_update(member=obj, by=request.user, fields=changed)
            else:
                stored = services.member_create(
                    by=request.user,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    **data,
                )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def save_formset(self, request, form, formset, change):
        """Participations go through their services (kinds, scope, one open per organisation)."""
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if obj.ended_on is None:
                services.participation_end(participation=obj, by=request.user)
        for item in instances:
            try:
                if item.pk is None:
                    services.participation_start(
                        member=form.instance,
                        organization=item.organization,
                        by=request.user,
                        started_on=item.started_on,
                        note=item.note,
                    )
                elif item.ended_on and "ended_on" in _changed(formset, item):
                    services.participation_end(
                        participation=item, by=request.user, ended_on=item.ended_on
                    )
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))

    def has_change_permission(self, request, obj=None):
        """Members who only take part here (registered elsewhere) are read-only: their record
        belongs to the branch that holds their registration."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return obj.branch is not None and scope.can_manage(request.user, obj.branch)

    def has_delete_permission(self, request, obj=None):
        # A member's history stays; leaving goes through a transfer (archived), not a delete.
        return request.user.is_superuser

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="members_member_import",
            ),
            path(
                "import/blank.xlsx",
                self.admin_site.admin_view(self.import_blank),
                name="members_member_import_blank",
            ),
        ]
        return urls + super().get_urls()

    def import_blank(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return xlsx_response(
            filename="members-import.xlsx",
            headers=services.IMPORT_COLUMNS,
            rows=[],
            sheet_title=str(_("members")),
        )

    def import_view(self, request):
        """Upload a sheet: all rows are imported, or none and every bad row is listed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = MemberImportForm(request.POST or None, request.FILES or None)
        rejected, status = [], 200
        if request.method == "POST" and form.is_valid():
            try:
                created = services.members_import(
                    by=request.user, rows=services.read_rows(form.cleaned_data["sheet"])
                )
            except services.ImportRejected as exc:
                rejected, status = exc.rows, 400
            except ValidationError as exc:
                form.add_error("sheet", exc)
                status = 400
            else:
                messages.success(
                    request,
                    ngettext("%(n)d member imported.", "%(n)d members imported.", len(created))
                    % {"n": len(created)},
                )
                return redirect("admin:members_member_changelist")
        elif request.method == "POST":
            status = 400
        return TemplateResponse(
            request,
            "admin/members/member/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import members from Excel"),
                "form": form,
                "rejected": rejected,
                "columns": services.IMPORT_COLUMNS,
            },
            status=status,
        )

    @admin.action(description=_("Export the selected members to Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        headers = [
            _("real name"),
            _("registered branch"),
            _("membership"),
            _("category"),
            _("contact status"),
            _("project site"),
            _("phone"),
            _("joined the Party on"),
        ]
        rows = (
            (
                m.real_name,
                m.branch.name if m.branch else "",
                m.get_status_display(),
                m.get_category_display(),
                m.get_contact_status_display(),
                m.project_site.name if m.project_site else "",
                m.phone,
                m.joined_party_on,
            )
            for m in queryset.select_related("branch", "project_site").iterator(chunk_size=2000)
        )
        return xlsx_response(
            filename="members.xlsx", headers=headers, rows=rows, sheet_title=str(_("members"))
        )


def _changed(formset, item) -> list[str]:
    for form in formset.forms:
        if form.instance is item:
            return form.changed_data
    return []


@admin.register(ActivityFact)
class ActivityFactAdmin(ScopedModelAdmin):
    list_display = ["member", "kind", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["member__real_name"]
    list_select_related = ["member"]
    date_hierarchy = "occurred_at"

    def scope_queryset(self, request, queryset):
        return queryset.filter(
            selectors.member_scope_q(scope.managed_paths(request.user), prefix="member__")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    """Accounts of the members and staff in scope. Only administrators change accounts:
    secretaries create members (with their account) from the member page."""

    list_display = ["username", "email", "member_name", "is_staff", "is_active", "last_login"]
    list_select_related = ["member"]
    search_fields = ["username", "email", "member__real_name"]

    @admin.display(description=_("real name"), ordering="member__real_name")
    def member_name(self, obj):
        member = getattr(obj, "member", None)
        return member.real_name if member else "—"

    def scope_queryset(self, request, queryset):
        paths = scope.managed_paths(request.user)
        return queryset.filter(
            Q(member__in=Member.objects.filter(selectors.member_scope_q(paths)).values("pk"))
            | Q(
                pk__in=scope.RoleAssignment.objects.filter(
                    scope.subtree_q(paths, prefix="organization__")
                ).values("user")
            )
        )


# --- transfers and join requests -----------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                TRANSFER_OPEN_Q, requested_at__lt=selectors.transfer_overdue_cutoff()
            )
        return queryset


class TransferAddForm(forms.ModelForm):
    """The secretary starts a transfer for a member; `transfer_request` does the writing, the
    form reports the usual mistakes next to the fields."""

    class Meta:
        model = Transfer
        fields = ["member", "to_branch", "external_organization", "letter_number", "reason"]

    def clean(self):
        data = super().clean()
        member, to_branch = data.get("member"), data.get("to_branch")
        if (to_branch is None) == (not data.get("external_organization", "").strip()):
            raise ValidationError(
                _("Name either a branch of the group or an organisation outside it.")
            )
        if member is not None:
            if to_branch is not None and to_branch.pk == member.branch_id:
                self.add_error("to_branch", _("The member is registered there already."))
            if selectors.transfers_open().filter(member=member).exists():
                self.add_error("member", _("The member already has a transfer in progress."))
        return data

    def _post_clean(self):
        pass  # the service validates and saves the transfer


def _decide_each(request, objects, step, **kwargs) -> int:
    """Run the service `step` on each object; a refusal is a warning naming the object."""
    key = kwargs.pop("_key", "transfer")
    done = 0
    for obj in objects:
        try:
            step(by=request.user, **{key: obj}, **kwargs)
        except (PermissionDenied, ValidationError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.warning(request, f"{obj}: {reason}")
        else:
            done += 1
    return done


def _action_page(admin_obj, request, *, template, title, objects, action, form):
    return TemplateResponse(
        request,
        template,
        {
            **admin_obj.admin_site.each_context(request),
            "opts": admin_obj.model._meta,
            "title": title,
            "objects": objects,
            "action": action,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(Transfer)
class TransferAdmin(ScopedModelAdmin):
    """Transfers leaving or entering the user's organisations: A's secretary releases, B's
    accepts; the reviewer filters the overdue ones across the group."""

    list_display = [
        "member",
        "from_branch",
        "destination_display",
        "state",
        "requested_at",
        "is_overdue",
        "letter_number",
    ]
    list_filter = ["state", OverdueFilter]
    search_fields = ["member__real_name", "letter_number", "external_organization"]
    list_select_related = ["member", "from_branch", "to_branch"]
    date_hierarchy = "requested_at"
    actions = ["release", "accept", "refuse", "withdraw"]
    readonly_fields = [
        "member",
        "from_branch",
        "to_branch",
        "external_organization",
        "letter_number",
        "state",
        "reason",
        "refusal_reason",
        "requested_at",
        "requested_by",
        "released_at",
        "released_by",
        "closed_at",
        "closed_by",
        "overdue_notified_at",
    ]

    def scope_queryset(self, request, queryset):
        return queryset.filter(selectors.transfer_scope_q(scope.managed_paths(request.user)))

    @admin.display(description=_("to"), ordering="to_branch__name")
    def destination_display(self, obj):
        return obj.destination

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.is_open and obj.requested_at < selectors.transfer_overdue_cutoff()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TransferAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return TransferAddForm._meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "to_branch":
            # The receiving branch is usually outside the secretary's own subtree.
            kwargs["queryset"] = Organization.objects.filter(
                kind__in=Organization.REGISTRATION_KINDS
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            stored = services.transfer_request(
                member=data["member"],
                by=request.user,
                to_branch=data["to_branch"],
                external_organization=data["external_organization"],
                letter_number=data["letter_number"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            raise PermissionDenied("; ".join(exc.messages)) from exc
        obj.__dict__.update(stored.__dict__)

    def has_change_permission(self, request, obj=None):
        # Steps are actions on the list; the record itself is read-only.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def _transfers(self, queryset):
        return list(queryset.select_related("member", "from_branch", "to_branch"))

    @admin.action(description=_("Release the selected transfers (branch left)…"), permissions=["change"])  # fmt: skip
    def release(self, request, queryset):
        transfers = self._transfers(queryset.filter(state=Transfer.State.REQUESTED))
        if not transfers:
            messages.info(request, _("Only requested transfers can be released."))
            return None
        form = ReleaseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            n = _decide_each(
                request,
                transfers,
                services.transfer_release,
                letter_number=form.cleaned_data["letter_number"],
            )
            if n:
                messages.success(
                    request,
                    ngettext("%(n)d transfer released.", "%(n)d transfers released.", n) % {"n": n},
                )
            return None
        return _action_page(
            self,
            request,
            template="admin/members/transfer/release.html",
            title=_("Release transfers"),
            objects=transfers,
            action="release",
            form=form,
        )

    @admin.action(description=_("Accept the selected transfers (receiving branch)"), permissions=["change"])  # fmt: skip
    def accept(self, request, queryset):
        n = _decide_each(request, self._transfers(queryset), services.transfer_accept)
        if n:
            messages.success(
                request,
                ngettext(
                    "%(n)d transfer accepted; the member is registered here now.",
                    "%(n)d transfers accepted; the members are registered here now.",
                    n,
                )
                % {"n": n},
            )

    @admin.action(description=_("Refuse the selected transfers…"), permissions=["change"])
    def refuse(self, request, queryset):
        transfers = [t for t in self._transfers(queryset) if t.is_open]
        if not transfers:
            messages.info(request, _("Only transfers in progress can be refused."))
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            n = _decide_each(
                request, transfers, services.transfer_refuse, reason=form.cleaned_data["reason"]
            )
            if n:
                messages.success(
                    request,
                    ngettext("%(n)d transfer refused.", "%(n)d transfers refused.", n) % {"n": n},
                )
            return None
        return _action_page(
            self,
            request,
            template="admin/members/transfer/refuse.html",
            title=_("Refuse transfers"),
            objects=transfers,
            action="refuse",
            form=form,
        )

    @admin.action(description=_("Withdraw the selected transfers"), permissions=["change"])
    def withdraw(self, request, queryset):
        n = _decide_each(request, self._transfers(queryset), services.transfer_withdraw)
        if n:
            messages.success(
                request,
                ngettext("%(n)d transfer withdrawn.", "%(n)d transfers withdrawn.", n) % {"n": n},
            )


@admin.register(JoinRequest)
class JoinRequestAdmin(ScopedModelAdmin):
    """Requests to be registered with a branch: its secretary approves or refuses them."""

    scope_field = "branch"
    list_display = ["real_name", "branch", "state", "created_at", "letter_number", "phone", "user"]
    list_filter = ["state"]
    search_fields = ["real_name", "phone", "letter_number", "user__username"]
    list_select_related = ["branch", "user"]
    actions = ["approve", "refuse"]
    readonly_fields = [
        "user",
        "branch",
        "real_name",
        "phone",
        "letter_number",
        "details",
        "state",
        "refusal_reason",
        "created_at",
        "decided_at",
        "decided_by",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve the selected requests (register them here)"), permissions=["change"])  # fmt: skip
    def approve(self, request, queryset):
        requests = list(
            queryset.filter(state=JoinRequest.State.PENDING).select_related("branch", "user")
        )
        n = _decide_each(request, requests, services.join_request_approve, _key="join_request")
        if n:
            messages.success(
                request,
                ngettext(
                    "%(n)d person registered and welcomed.",
                    "%(n)d people registered and welcomed.",
                    n,
                )
                % {"n": n},
            )
        elif not requests:
            messages.info(request, _("Only pending requests can be decided."))

    @admin.action(description=_("Refuse the selected requests…"), permissions=["change"])
    def refuse(self, request, queryset):
        requests = list(
            queryset.filter(state=JoinRequest.State.PENDING).select_related("branch", "user")
        )
        if not requests:
            messages.info(request, _("Only pending requests can be decided."))
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            n = _decide_each(
                request,
                requests,
                services.join_request_refuse,
                _key="join_request",
                reason=form.cleaned_data["reason"],
            )
            if n:
                messages.success(
                    request,
                    ngettext("%(n)d request refused.", "%(n)d requests refused.", n) % {"n": n},
                )
            return None
        return _action_page(
            self,
            request,
            template="admin/members/joinrequest/refuse.html",
            title=_("Refuse join requests"),
            objects=requests,
            action="refuse",
            form=form,
        )


# --- outreach cases ----------------------------------------------------------------------------


class OpenCaseFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("open")), ("no", _("closed"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(closed_at__isnull=self.value() == "yes")
        return queryset


class ContactAttemptInline(admin.TabularInline):
    model = ContactAttempt
    extra = 0
    fields = ["at", "channel", "result", "by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutreachCase)
class OutreachCaseAdmin(ScopedModelAdmin):
    """Open and closed outreach cases of the user's subtree (the reviewer's overview); they
    are opened and worked on from the radar page."""

    scope_field = "organization"
    list_display = [
        "member",
        "organization",
        "opened_at",
        "days_open",
        "assigned_to",
        "closed_at",
        "result",
    ]
    list_filter = [OpenCaseFilter, "result", "organization__kind"]
    search_fields = ["member__real_name"]
    list_select_related = ["member", "organization", "assigned_to"]
    date_hierarchy = "opened_at"
    inlines = [ContactAttemptInline]
    readonly_fields = [
        "member",
        "organization",
        "opened_by",
        "assigned_to",
        "opened_at",
        "closed_at",
        "closed_by",
        "result",
        "note",
    ]
    fields = readonly_fields

    @admin.display(description=_("days open"), ordering="opened_at")
    def days_open(self, obj):
        end = obj.closed_at or timezone.now()
        return (end - obj.opened_at).days

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


# --- invitations ---------------------------------------------------------------------------------


class InvitationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Invitation.State.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == Invitation.State.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        if value == Invitation.State.USED:
            return queryset.filter(used_at__isnull=False)
        if value == Invitation.State.EXPIRED:
            return queryset.filter(
                used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
            )
        if value == Invitation.State.PENDING:
            return queryset.filter(selectors.invitation_pending_q(now))
        return queryset


@admin.register(Invitation)
class InvitationAdmin(ScopedModelAdmin):
    """The invitations of the user's subtree, read-only (the token is never shown: only its
    hash is kept). They are made on the branch's invitations page; withdrawn here or there."""

    scope_field = "branch"
    list_display = [
        "__str__",
        "branch",
        "state",
        "created_by",
        "created_at",
        "expires_at",
        "used_by",
        "used_at",
    ]
    list_filter = [InvitationStateFilter]
    search_fields = ["email", "real_name", "branch__name", "used_by__username"]
    list_select_related = ["branch", "created_by", "used_by"]
    date_hierarchy = "created_at"
    actions = ["revoke"]
    readonly_fields = [
        "branch",
        "email",
        "real_name",
        "status",
        "category",
        "created_by",
        "created_at",
        "expires_at",
        "emailed_at",
        "used_at",
        "used_by",
        "member",
        "revoked_at",
        "revoked_by",
        "page",
    ]
    fields = readonly_fields

    @admin.display(description=_("state"))
    def state(self, obj):
        return Invitation.State(obj.state_at(timezone.now())).label

    @admin.display(description=_("invitations page"))
    def page(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("members:invitations_branch", args=[obj.branch_id]),
            _("Invite to this branch"),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Withdraw the selected invitations"), permissions=["change"])
    def revoke(self, request, queryset):
        pending = list(
            queryset.filter(selectors.invitation_pending_q(timezone.now())).select_related("branch")
        )
        n = _decide_each(request, pending, services.invitation_revoke, _key="invitation")
        if n:
            messages.success(
                request,
                ngettext("%(n)d invitation withdrawn.", "%(n)d invitations withdrawn.", n)
                % {"n": n},
            )
        else:
            messages.info(request, _("Only pending invitations can be withdrawn."))
