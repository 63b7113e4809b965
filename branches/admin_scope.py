"""The scoped admin base class. Every admin class of the project extends it.

It limits, to the organisation subtrees of the user's role assignments:
- the changelist and every view that loads an object (another organisation's row by raw id
  is a 404, not a redirect to the index),
- foreign-key and many-to-many choices (the related model's own scoped admin decides, so a
  POST naming another branch's row fails validation), raw-id and autocomplete lookups (Django
  asks the related admin's `get_queryset`),
- list filters on relations (only values present in the scoped rows),
- actions (Django applies them to `get_queryset()` filtered by the posted ids).
Superusers see everything.
"""

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from . import scope
from .models import Organization


class ScopedModelAdmin(admin.ModelAdmin):
    #: Lookup from this model to the Organization that scopes it ("organization",
    #: "member__branch"); "" when the model is Organization itself. Override
    #: `scope_queryset` for rules a single path cannot express.
    scope_field: str = "organization"
    list_per_page = 50

    def scope_queryset(self, request, queryset: QuerySet) -> QuerySet:
        paths = scope.managed_paths(request.user)
        prefix = f"{self.scope_field}__" if self.scope_field else ""
        return queryset.filter(scope.subtree_q(paths, prefix=prefix))

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.is_active and user.is_superuser:
            return qs
        if not scope.has_role(user):
            return qs.none()
        return self.scope_queryset(request, qs)

    # -- choices -------------------------------------------------------------------------------
    def scoped_choices(self, request, related_model) -> QuerySet | None:
        """The rows of `related_model` this user may pick, or None when it is not scoped."""
        related_admin = self.admin_site._registry.get(related_model)
        if isinstance(related_admin, ScopedModelAdmin):
            return related_admin.get_queryset(request)
        if related_model is Organization:
            return scope.managed_organizations(request.user)
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            qs = self.scoped_choices(request, db_field.related_model)
            if qs is not None:
                kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            qs = self.scoped_choices(request, db_field.related_model)
            if qs is not None:
                kwargs["queryset"] = qs
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # -- filters -------------------------------------------------------------------------------
    def get_list_filter(self, request):
        """Relation filters list only values found in the scoped rows, never the whole table."""
        out = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                try:
                    field = self.model._meta.get_field(item)
                except FieldDoesNotExist:
                    field = None
                if isinstance(
                    field, models.ForeignKey | models.ManyToManyField | models.OneToOneField
                ):
                    item = (item, RelatedOnlyFieldListFilter)
            out.append(item)
        return out

    # -- objects -------------------------------------------------------------------------------
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with a message; outside the scope the row simply does
        # not exist for this user.
        raise Http404(_("No such object."))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def _in_scope(self, request, obj) -> bool:
        if obj is None or (request.user.is_active and request.user.is_superuser):
            return True
        cache = request.__dict__.setdefault("_netbranch_in_scope", {})
        key = (type(obj), obj.pk)
        if key not in cache:
            cache[key] = self.get_queryset(request).filter(pk=obj.pk).exists()
        return cache[key]


class PublishButtonMixin:
    """A "Save and publish" button (`name="_publish"` in the change form's template): after the
    object is saved, `_publish(request, [obj])` runs, the same method the admin's publish
    action calls."""

    def _publish(self, request, objects) -> int:  # pragma: no cover - each admin defines it
        raise NotImplementedError

    def response_add(self, request, obj, post_url_continue=None):
        if "_publish" in request.POST:
            self._publish(request, [obj])
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_publish" in request.POST:
            self._publish(request, [obj])
        return super().response_change(request, obj)
