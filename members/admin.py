from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches import scope
from branches.admin_scope import ScopedModelAdmin
from core.exports import xlsx_response

from . import selectors, services
from .models import ActivityFact, Member, Participation

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
    readonly_fields = ["last_active_at"]
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
        (_("Contact"), {"fields": ["phone", "position", "joined_party_on", "last_active_at"]}),
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
