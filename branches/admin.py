from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import scope, services
from .admin_scope import ScopedModelAdmin
from .models import Organization, ProjectSite, RoleAssignment


class OrganizationForm(forms.ModelForm):
    parent = forms.ModelChoiceField(
        label=_("parent organisation"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("The organisation this one belongs to. Empty only for the top committee."),
    )

    class Meta:
        model = Organization
        fields = ["name", "short_name", "kind", "contact_phone", "description"]


@admin.register(Organization)
class OrganizationAdmin(ScopedModelAdmin):
    scope_field = ""
    form = OrganizationForm
    list_display = ["indented_name", "kind", "numchild", "contact_phone"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]
    ordering = ["path"]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return format_html(
            '<span style="padding-left:{}em">{}</span>', (obj.depth - 1) * 1.5, obj.name
        )

    def get_fields(self, request, obj=None):
        fields = ["name", "short_name", "kind", "contact_phone", "description"]
        return (["parent", *fields]) if obj is None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.base_fields["parent"].queryset = scope.managed_organizations(request.user)
            form.base_fields["parent"].required = not request.user.is_superuser
        return form

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f] for f in services.ORGANIZATION_FIELDS if f in form.cleaned_data
        }
        try:
            if change:
                changed = {f: v for f, v in data.items() if f in form.changed_data}
                stored = services.organization_update(
                    organization=obj, by=request.user, fields=changed
                )
                obj.__dict__.update(stored.__dict__)
            else:
                created = services.organization_create(
                    parent=form.cleaned_data.get("parent"), by=request.user, **data
                )
                obj.__dict__.update(created.__dict__)
        except (PermissionDenied, ValidationError) as exc:
            raise PermissionDenied(str(exc)) from exc

    def has_delete_permission(self, request, obj=None):
        # Organisations close through their history (members, meetings); only IT deletes.
        return request.user.is_superuser


@admin.register(ProjectSite)
class ProjectSiteAdmin(ScopedModelAdmin):
    list_display = [
        "name",
        "province",
        "place",
        "coverage",
        "organization",
        "opened_on",
        "closed_on",
        "members_link",
    ]
    list_filter = ["coverage", "province", "organization"]
    search_fields = ["name", "province", "place"]
    date_hierarchy = "opened_on"
    autocomplete_fields = ["organization"]
    fields = [
        "name",
        "organization",
        "province",
        "place",
        "altitude_m",
        "coverage",
        "opened_on",
        "closed_on",
        "photo",
        "members_link",
    ]
    readonly_fields = ["members_link"]

    @admin.display(description=_("members"))
    def members_link(self, obj):
        """The members' page of the site: re-homing once it is closed, attaching while open
        (the page lives in `members`; only its URL name is known here)."""
        if obj is None or obj.pk is None:
            return "—"
        if obj.closed_on:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("members:site_rehome", args=[obj.pk]),
                _("Re-home the members"),
            )
        return format_html(
            '<a href="{}">{}</a>',
            reverse("members:site_attach", args=[obj.pk]),
            _("Attach members"),
        )

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f]
            for f in self.fields
            if f in form.cleaned_data and f not in self.readonly_fields
        }
        if change:
            changed = {f: v for f, v in data.items() if f in form.changed_data}
            site = services.site_update(site=obj, by=request.user, fields=changed)
            if changed.get("closed_on"):
                self.message_user(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _("The site is closed."),
                        reverse("members:site_rehome", args=[site.pk]),
                        _("Re-home its members"),
                    ),
                )
        else:
            site = services.site_open(by=request.user, **data)
        obj.__dict__.update(site.__dict__)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedModelAdmin):
    list_display = ["user", "person", "role", "title", "organization"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__member__real_name", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user__member", "organization"]
    fields = ["user", "organization", "role", "title"]

    @admin.display(description=_("real name"), ordering="user__member__real_name")
    def person(self, obj):
        member = getattr(obj.user, "member", None)
        return member.real_name if member else "—"

    def save_model(self, request, obj, form, change):
        if change:
            changed = {f: form.cleaned_data[f] for f in form.changed_data}
            stored = services.role_update(assignment=obj, by=request.user, fields=changed)
            obj.__dict__.update(stored.__dict__)
        else:
            created = services.role_assign(
                user=obj.user,
                organization=obj.organization,
                role=obj.role,
                title=obj.title,
                by=request.user,
            )
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request, obj):
        services.role_revoke(assignment=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user", "organization"):
            services.role_revoke(assignment=assignment, by=request.user)
