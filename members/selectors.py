"""Reads about members. "Members of an organisation" has its one definition here."""

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from branches import scope
from branches.models import Organization

from .models import Member, Participation


def open_participations() -> QuerySet:
    return Participation.objects.filter(ended_on__isnull=True)


def members_of_organizations(
    *,
    organizations: Iterable[Organization] | QuerySet,
    subtree: bool = True,
    categories: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
) -> QuerySet:
    """Members registered in, or taking part in (open participation), any of `organizations`
    or, with `subtree`, anywhere below them. No DISTINCT: participation is tested
    with a semi-join, so a member who is both registered and participating appears once.
    A list of organisations costs no query to expand; a queryset, one for its paths."""
    if isinstance(organizations, QuerySet):
        paths = list(organizations.values_list("path", flat=True)) if subtree else None
        direct_ids = organizations.values("pk")
    else:
        organizations = list(organizations)
        paths = [o.path for o in organizations]
        direct_ids = [o.pk for o in organizations]
    if subtree:
        org_ids = Organization.objects.filter(scope.subtree_q(paths)).values("pk")
    else:
        org_ids = direct_ids
    participating = open_participations().filter(organization__in=org_ids, member=OuterRef("pk"))
    qs = Member.objects.filter(Q(branch__in=org_ids) | Exists(participating), user__is_active=True)
    if categories:
        qs = qs.filter(category__in=list(categories))
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return qs


def home_organization_paths(user) -> list[str]:
    """Paths of the organisations the user belongs to as a member: the registered branch and
    open participations. Registered with `branches.scope` (one query, cached on the user)."""
    cached = getattr(user, "_netbranch_home_paths", None)
    if cached is not None:
        return cached
    member_id = Member.objects.filter(user=user).values("pk")
    rows = Organization.objects.filter(
        Q(registered_members__in=member_id)
        | Q(pk__in=open_participations().filter(member__in=member_id).values("organization"))
    ).values_list("path", flat=True)
    cached = list(rows)
    user._netbranch_home_paths = cached
    return cached


def member_for_user(user) -> Member | None:
    """The user's member record with what the home page shows, or None for staff who are not
    members. Two queries: the member with its branch and site, and its open participations."""
    if not getattr(user, "is_authenticated", False):
        return None
    member = (
        Member.objects.select_related("branch", "project_site", "project_site__organization")
        .prefetch_related(
            Prefetch(
                "participations",
                queryset=open_participations().select_related("organization"),
                to_attr="open_participations",
            )
        )
        .filter(user=user)
        .first()
    )
    if member is not None:
        # What the scope and audience checks of the same request would query again.
        paths = [member.branch.path] if member.branch else []
        user._netbranch_home_paths = paths + [
            p.organization.path for p in member.open_participations
        ]
        user._netbranch_category = member.category
    return member


def member_list_for_organization(*, organization: Organization) -> QuerySet:
    return (
        members_of_organizations(organizations=[organization], subtree=False)
        .select_related("branch", "project_site")
        .order_by("real_name", "pk")
    )


def member_scope_q(paths, *, prefix: str = "") -> Q:
    """Q for members registered or taking part anywhere under `paths` (the admin's scope).
    `prefix` leads from another model to its member, e.g. "member__"."""
    in_subtree = Organization.objects.filter(scope.subtree_q(paths)).values("pk")
    participating = open_participations().filter(organization__in=in_subtree).values("member")
    return Q(**{f"{prefix}branch__in": in_subtree}) | Q(**{f"{prefix}pk__in": participating})


def contact_status_counts(*, organizations) -> dict:
    """How many members the organisations have, and how many in each contact status, in one
    aggregate query: {"members": 144, "by_status": [(status, label, n), ...]}."""
    qs = members_of_organizations(organizations=organizations)
    statuses = Member.ContactStatus
    row = qs.aggregate(
        total=Count("pk"),
        **{s.value: Count("pk", filter=Q(contact_status=s.value)) for s in statuses},
    )
    return {
        "members": row["total"],
        "by_status": [(s.value, s.label, row[s.value]) for s in statuses if row[s.value]],
    }


def audience_members_of_organizations(
    *, orgs, subtree=True, categories=None, statuses=None
) -> QuerySet:
    """The audience "members.of_organizations" (registered with notifications): the active
    users of the members of these organisations, as a queryset the fan-out runs in SQL."""
    from django.contrib.auth import get_user_model

    members = members_of_organizations(
        organizations=Organization.objects.filter(pk__in=orgs),
        subtree=subtree,
        categories=categories,
        statuses=statuses,
    )
    return get_user_model().objects.filter(is_active=True, pk__in=members.values("user_id"))


def viewer_category(user) -> str | None:
    """The member category of a user (None for staff who are not members); cached on the user."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_netbranch_category"):
        user._netbranch_category = (
            Member.objects.filter(user=user).values_list("category", flat=True).first()
        )
    return user._netbranch_category
