"""Reads for the branch pages. Every function costs a fixed number of queries."""

from django.core.paginator import Paginator
from django.http import Http404

from . import scope
from .models import Organization, RoleAssignment, TimelineEntry


def access_organization_by_id(*, organization_id: int, user) -> Organization:
    """The organisation if the user may see it (on their path to the root, or managed by
    them); 404 otherwise, so that pages do not reveal what exists elsewhere."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None or not scope.can_see(user, org):
        raise Http404
    return org


def people_in_charge(*, organization: Organization) -> list[RoleAssignment]:
    order = {role: i for i, role in enumerate(RoleAssignment.Role)}
    rows = list(
        RoleAssignment.objects.filter(organization=organization)
        .exclude(role=RoleAssignment.Role.REVIEWER)
        .select_related("user__member")
    )
    return sorted(rows, key=lambda a: (order[a.role], a.pk))


def secretaries_of(*, organizations: list[Organization]) -> dict[int, RoleAssignment]:
    """The secretary of each organisation (one query)."""
    rows = RoleAssignment.objects.filter(
        organization__in=[o.pk for o in organizations], role=RoleAssignment.Role.SECRETARY
    ).select_related("user__member")
    return {a.organization_id: a for a in rows}


def organization_detail(*, organization: Organization, page: int | str = 1) -> dict:
    """What the branch page shows: path, people in charge, sites, sub-organisations and one
    page of the timeline. Six queries whatever the size of the branch."""
    timeline = Paginator(
        TimelineEntry.objects.filter(organization=organization).order_by("-occurred_at", "-id"), 20
    )
    return {
        "organization": organization,
        "path": list(scope.path_to_root(organization, include_self=False)),
        "people": people_in_charge(organization=organization),
        "sites": list(organization.sites.order_by("closed_on", "-opened_on")),
        "children": list(Organization.objects.get_children(organization)),
        "timeline": timeline.get_page(page),
    }


def assignments_for_user(*, user) -> list[RoleAssignment]:
    return list(RoleAssignment.objects.filter(user=user).select_related("organization"))
