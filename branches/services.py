"""Writes on the organisation tree, project sites, role assignments and the timeline."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import model_update

from . import scope
from .models import Organization, ProjectSite, RoleAssignment, TimelineEntry

ORGANIZATION_FIELDS = ("name", "short_name", "kind", "description", "contact_phone")
SITE_FIELDS = (
    "name",
    "province",
    "place",
    "altitude_m",
    "coverage",
    "organization",
    "opened_on",
    "closed_on",
    "photo",
)


def _require_manage(by, organization: Organization, roles=scope.MANAGE_ROLES) -> None:
    if not scope.can_manage(by, organization, roles):
        raise PermissionDenied(_("You may not manage %(org)s.") % {"org": organization})


def timeline_record(
    *,
    organization: Organization,
    kind: str,
    params: dict | None = None,
    url: str = "",
    at: datetime | None = None,
) -> TimelineEntry:
    """Add a line to an organisation's activity timeline (shown on its branch page)."""
    return TimelineEntry.objects.create(
        organization=organization,
        kind=kind,
        params=params or {},
        url=url,
        occurred_at=at or timezone.now(),
    )


@transaction.atomic
def organization_create(*, parent: Organization | None, by, **fields) -> Organization:
    """Create an organisation under `parent` (a root needs a superuser)."""
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if parent is None:
        if not (by.is_active and by.is_superuser):
            raise PermissionDenied(_("Only an administrator may create a top-level organisation."))
        org = Organization.objects.add_root(fields)
    else:
        _require_manage(by, parent)
        parent.refresh_from_db(fields=["path", "depth", "numchild"])
        org = Organization.objects.add_child(parent, fields)
    timeline_record(
        organization=org,
        kind="organization_created",
        params={"name": org.name},
        url=org.get_absolute_url(),
    )
    return org


@transaction.atomic
def organization_update(*, organization: Organization, by, fields: dict) -> Organization:
    stored = Organization.objects.select_for_update(of=("self",)).get(pk=organization.pk)
    _require_manage(by, stored)
    model_update(instance=stored, fields=fields, allowed=ORGANIZATION_FIELDS)
    return stored


@transaction.atomic
def site_open(
    *, by, organization: Organization, name: str, province: str, opened_on: date, **fields
) -> ProjectSite:
    _require_manage(by, organization)
    site = ProjectSite(
        organization=organization, name=name, province=province, opened_on=opened_on, **fields
    )
    site.full_clean()
    site.save()
    timeline_record(
        organization=organization,
        kind="site_opened",
        params={"site": site.name},
        at=timezone.make_aware(datetime.combine(opened_on, datetime.min.time())),
    )
    return site


@transaction.atomic
def site_update(*, site: ProjectSite, by, fields: dict) -> ProjectSite:
    stored = (
        ProjectSite.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=site.pk)
    )
    _require_manage(by, stored.organization)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    was_open = stored.closed_on is None
    model_update(instance=stored, fields=fields, allowed=SITE_FIELDS)
    if was_open and stored.closed_on is not None:
        timeline_record(
            organization=stored.organization,
            kind="site_closed",
            params={"site": stored.name},
            at=timezone.make_aware(datetime.combine(stored.closed_on, datetime.min.time())),
        )
    return stored


def site_close(*, site: ProjectSite, by, on: date) -> ProjectSite:
    if site.closed_on is not None:
        raise ValidationError(_("This site is already closed."))
    return site_update(site=site, by=by, fields={"closed_on": on})


def _sync_staff(user) -> None:
    """Staff status follows role assignments (superusers keep theirs)."""
    should_be_staff = user.is_superuser or RoleAssignment.objects.filter(user=user).exists()
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])
    scope.forget(user)


@transaction.atomic
def role_assign(
    *, user, organization: Organization, role: str, by, title: str = ""
) -> RoleAssignment:
    """Give `user` a role over `organization`. Reviewers assign roles in their subtree."""
    _require_manage(by, organization, scope.REVIEW_ROLES)
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, organization=organization, role=role, defaults={"title": title}
    )
    _sync_staff(user)
    if created:
        person = getattr(getattr(user, "member", None), "real_name", "") or user.get_username()
        timeline_record(
            organization=organization, kind="role_assigned", params={"person": person, "role": role}
        )
    return assignment


@transaction.atomic
def role_update(*, assignment: RoleAssignment, by, fields: dict) -> RoleAssignment:
    stored = (
        RoleAssignment.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .get(pk=assignment.pk)
    )
    _require_manage(by, stored.organization, scope.REVIEW_ROLES)
    if "organization" in fields:
        _require_manage(by, fields["organization"], scope.REVIEW_ROLES)
    old_user = stored.user
    model_update(instance=stored, fields=fields, allowed=("user", "organization", "role", "title"))
    _sync_staff(stored.user)
    if old_user.pk != stored.user_id:
        _sync_staff(old_user)
    return stored


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment, by) -> None:
    """Remove a role; the user loses staff status with their last one."""
    stored = (
        RoleAssignment.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .get(pk=assignment.pk)
    )
    _require_manage(by, stored.organization, scope.REVIEW_ROLES)
    stored.delete()
    _sync_staff(stored.user)
