"""Reads about members. "Members of an organisation" has its one definition here."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from branches import scope
from branches.models import Organization, ProjectSite

from .models import (
    TRANSFER_OPEN_Q,
    ActivityFact,
    ContactAttempt,
    JoinRequest,
    Member,
    OutreachCase,
    Participation,
    Transfer,
)


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
    qs = Member.objects.filter(
        Q(branch__in=org_ids) | Exists(participating),
        user__is_active=True,
        archived_at__isnull=True,
    )
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


# --- transfers and join requests ----------------------------------------------------------------


def transfer_overdue_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.NETBRANCH_TRANSFER_OVERDUE_DAYS)


def transfers_open() -> QuerySet:
    """Transfers in progress: requested, or released by A and waiting for B."""
    return Transfer.objects.filter(TRANSFER_OPEN_Q)


def transfer_scope_q(paths) -> Q:
    """Transfers leaving or entering the subtrees under `paths` (both secretaries see them)."""
    return scope.subtree_q(paths, prefix="from_branch__") | scope.subtree_q(
        paths, prefix="to_branch__"
    )


def transfers_overdue(*, user=None, now: datetime | None = None) -> QuerySet:
    """Open transfers pending longer than NETBRANCH_TRANSFER_OVERDUE_DAYS, oldest first; with
    `user`, only those leaving or entering the organisations the user manages or reviews."""
    qs = transfers_open().filter(requested_at__lt=transfer_overdue_cutoff(now))
    if user is not None and not (user.is_active and user.is_superuser):
        qs = qs.filter(transfer_scope_q(scope.managed_paths(user)))
    return qs.select_related("member", "from_branch", "to_branch").order_by("requested_at", "pk")


def request_in_progress(*, user, member: Member | None):
    """For the home page's management line: the member's transfer in progress, or, for an
    account without a member record, its pending join request. One query; None if neither."""
    if member is not None:
        return transfers_open().filter(member=member).select_related("to_branch").first()
    return (
        JoinRequest.objects.filter(user=user, state=JoinRequest.State.PENDING)
        .select_related("branch")
        .first()
    )


def record_for_user(*, user) -> dict:
    """Everything the member's own record page (/me/) shows, about this user only: five
    queries whatever the length of their history."""
    member = (
        Member.objects.select_related("branch", "project_site", "project_site__organization")
        .prefetch_related(
            Prefetch(
                "participations",
                queryset=Participation.objects.select_related("organization").order_by(
                    "ended_on", "-started_on", "-pk"
                ),
            ),
            Prefetch(
                "transfers",
                queryset=Transfer.objects.select_related("from_branch", "to_branch").order_by(
                    "-requested_at", "-pk"
                ),
            ),
        )
        .filter(user=user)
        .first()
    )
    path = []
    if member is not None and member.branch is not None:
        path = list(scope.path_to_root(member.branch, include_self=False))
    join_requests = list(
        JoinRequest.objects.filter(user=user)
        .select_related("branch")
        .order_by("-created_at", "-pk")
    )
    transfers = list(member.transfers.all()) if member else []
    cutoff = transfer_overdue_cutoff()
    for t in transfers:
        t.overdue = t.is_open and t.requested_at < cutoff
    return {
        "member": member,
        "path": path,
        "participations": list(member.participations.all()) if member else [],
        "transfers": transfers,
        "open_transfer": next((t for t in transfers if t.is_open), None),
        "join_requests": join_requests,
        "pending_join": next(
            (j for j in join_requests if j.state == JoinRequest.State.PENDING), None
        ),
    }


def branch_search(*, query: str, limit: int = 20) -> list[Organization]:
    """Branches where a membership may be registered, found by their name or by an open
    project site they run (name, province, place). Two queries; each branch carries
    `open_sites`."""
    query = query.strip()
    if not query:
        return []
    open_sites = ProjectSite.objects.filter(closed_on__isnull=True)
    matching_site = open_sites.filter(organization=OuterRef("pk")).filter(
        Q(name__icontains=query) | Q(province__icontains=query) | Q(place__icontains=query)
    )
    return list(
        Organization.objects.filter(kind__in=Organization.REGISTRATION_KINDS)
        .filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Exists(matching_site))
        .prefetch_related(
            Prefetch("sites", queryset=open_sites.order_by("name"), to_attr="open_sites")
        )
        .order_by("path")[:limit]
    )


def access_registration_branch(*, branch_id) -> Organization:
    """A branch named in a form (join or transfer): it must take registrations."""
    try:
        branch_id = int(branch_id)
    except (TypeError, ValueError):
        raise Http404 from None
    branch = Organization.objects.filter(
        pk=branch_id, kind__in=Organization.REGISTRATION_KINDS
    ).first()
    if branch is None:
        raise Http404
    return branch


def access_own_transfer(*, transfer_id, user) -> Transfer:
    transfer = (
        Transfer.objects.select_related("member", "from_branch", "to_branch")
        .filter(pk=transfer_id, member__user=user)
        .first()
    )
    if transfer is None:
        raise Http404
    return transfer


def access_own_join_request(*, join_request_id, user) -> JoinRequest:
    join_request = JoinRequest.objects.filter(pk=join_request_id, user=user).first()
    if join_request is None:
        raise Http404
    return join_request


def invitation_pending_q(now: datetime, *, prefix: str = "") -> Q:
    """Invitations still usable at `now` (neither used, revoked nor expired); `prefix` leads
    from another model to its invitations, e.g. "invitations__"."""
    return Q(
        **{
            f"{prefix}used_at__isnull": True,
            f"{prefix}revoked_at__isnull": True,
            f"{prefix}expires_at__gt": now,
        }
    )


# --- the lost-contact radar and outreach cases ---------------------------------------------------


def _sees_all(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def radar_scope_q(paths) -> Q:
    """Members a manager of `paths` looks after on the radar: registered or taking part there,
    and pocket members last released by a branch there."""
    later = Transfer.objects.filter(
        member=OuterRef("member"), released_at__gt=OuterRef("released_at")
    )
    released_here = (
        Transfer.objects.filter(
            scope.subtree_q(paths, prefix="from_branch__"), released_at__isnull=False
        )
        .filter(~Exists(later))
        .values("member")
    )
    return member_scope_q(paths) | Q(branch__isnull=True, pk__in=released_here)


def radar_rows(*, user, status: str | None = None) -> QuerySet:
    """The secretary's worklist: members in their subtree who are not active, with why (the
    last fact, its date, the last login, a transfer released and waiting for the receiving
    branch) and their open outreach case. One query per page whatever the number of members."""
    facts = ActivityFact.objects.filter(member=OuterRef("pk")).order_by("-occurred_at")
    waiting = Transfer.objects.filter(
        member=OuterRef("pk"), state=Transfer.State.RELEASED, to_branch__isnull=False
    )
    open_case = OutreachCase.objects.filter(member=OuterRef("pk"), closed_at__isnull=True)
    statuses = [s for s in Member.ContactStatus.values if s != Member.ContactStatus.ACTIVE]
    if status in statuses:
        statuses = [status]
    return (
        Member.objects.filter(
            Q() if _sees_all(user) else radar_scope_q(scope.managed_paths(user)),
            archived_at__isnull=True,
            contact_status__in=statuses,
        )
        .select_related("branch", "user")
        .annotate(
            last_fact_kind=Subquery(facts.values("kind")[:1]),
            last_fact_at=Subquery(facts.values("occurred_at")[:1]),
            waiting_since=Subquery(waiting.values("released_at")[:1]),
            open_case_id=Subquery(open_case.values("pk")[:1]),
            open_case_since=Subquery(open_case.values("opened_at")[:1]),
        )
        .order_by("contact_status", "last_active_at", "pk")
    )


def access_radar_member(*, member_id, user) -> Member:
    """A member on the user's radar (unarchived, in their scope); 404 for any other id, with
    no hint that the member exists."""
    member = Member.objects.filter(
        Q() if _sees_all(user) else radar_scope_q(scope.managed_paths(user)),
        pk=member_id,
        archived_at__isnull=True,
    ).first()
    if member is None:
        raise Http404
    return member


def outreach_cases_open(*, user) -> QuerySet:
    """Open outreach cases across the user's subtree (managers and reviewers), oldest first."""
    in_scope = (
        Q()
        if _sees_all(user)
        else scope.subtree_q(scope.managed_paths(user), prefix="organization__")
    )
    return (
        OutreachCase.objects.filter(in_scope, closed_at__isnull=True)
        .select_related("member", "organization", "assigned_to")
        .annotate(attempt_count=Count("attempts"))
        .order_by("opened_at", "pk")
    )


def access_outreach_case(*, case_id, user):
    """The case with its attempts, if the user manages its organisation or it is assigned to
    them; 404 otherwise (no hint that it exists)."""
    case = (
        OutreachCase.objects.select_related(
            "member", "member__branch", "organization", "assigned_to__member"
        )
        .prefetch_related(
            Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by__member"))
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or not (
        case.assigned_to_id == user.pk or scope.can_manage(user, case.organization)
    ):
        raise Http404
    return case
