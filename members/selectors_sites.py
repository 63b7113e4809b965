"""Reads of the project-site lifecycle pages: members still to re-home at a closed site, the
members of an open site, and the branches they may go to. Each is one query whatever the
number of members."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from branches import scope
from branches.models import Organization, ProjectSite

from .models import TRANSFER_OPEN_Q, Member, Participation, Transfer
from .selectors import member_scope_q
from .services.sites import SITE_BRANCH_KINDS


def _site_participations(since=None) -> QuerySet:
    """Open participations in a joint or mobile branch (started on or after `since`, an
    expression or a date)."""
    qs = Participation.objects.filter(
        member=OuterRef("pk"), ended_on__isnull=True, organization__kind__in=SITE_BRANCH_KINDS
    )
    if since is not None:
        qs = qs.filter(started_on__gte=since)
    return qs.order_by("-started_on", "-pk")


def _accepted_since(since) -> QuerySet:
    return Transfer.objects.filter(
        member=OuterRef("pk"), state=Transfer.State.ACCEPTED, closed_at__date__gte=since
    ).order_by("-closed_at", "-pk")


def rehome_pending_q() -> Q:
    """Members at a closed site who are not re-homed yet: no transfer in progress, none
    accepted since the closing, no participation in a joint or mobile branch since then.
    A transfer refused or withdrawn before the release puts the member back on the list; a
    member released and then refused is a pocket member (no branch), followed on the radar by
    the branch that released them, not re-homed from here."""
    closed_on = OuterRef("project_site__closed_on")
    in_transfer = Transfer.objects.filter(TRANSFER_OPEN_Q, member=OuterRef("pk"))
    return (
        Q(archived_at__isnull=True, project_site__closed_on__isnull=False, branch__isnull=False)
        & ~Exists(in_transfer)
        & ~Exists(_accepted_since(closed_on))
        & ~Exists(_site_participations(closed_on))
    )


def closed_sites_pending() -> QuerySet:
    """Closed sites where at least one member is still to re-home (no scope: callers add it)."""
    pending = Member.objects.filter(project_site=OuterRef("pk")).filter(rehome_pending_q())
    return ProjectSite.objects.filter(closed_on__isnull=False).filter(Exists(pending))


def _in_scope(user) -> Q:
    if user.is_active and user.is_superuser:
        return Q()
    return scope.subtree_q(scope.managed_paths(user), prefix="organization__")


def access_site(*, site_id, user) -> ProjectSite:
    """A site whose organisation the user manages; 404 for any other (no hint it exists)."""
    try:
        site_id = int(site_id)
    except (TypeError, ValueError):
        raise Http404 from None
    site = ProjectSite.objects.select_related("organization").filter(pk=site_id).first()
    if site is None or not scope.can_manage(user, site.organization):
        raise Http404
    return site


def sites_overview(*, user) -> dict:
    """The managers' list: closed sites with members still to re-home (with how many) and
    open sites (with how many members work there). Two querysets to paginate."""
    pending = Member.objects.filter(project_site=OuterRef("pk")).filter(rehome_pending_q())
    at_site = Member.objects.filter(project_site=OuterRef("pk"), archived_at__isnull=True)
    return {
        "closed": closed_sites_pending()
        .filter(_in_scope(user))
        .select_related("organization")
        .annotate(pending=_count(pending))
        .order_by("-closed_on", "name", "pk"),
        "open": ProjectSite.objects.filter(_in_scope(user), closed_on__isnull=True)
        .select_related("organization")
        .annotate(members_here=_count(at_site))
        .order_by("organization__path", "name", "pk"),
    }


def _count(members: QuerySet):
    return Subquery(
        members.order_by().values("project_site").annotate(n=Count("pk")).values("n")[:1]
    )


def rehome_rows(*, site: ProjectSite) -> list[Member]:
    """Everyone still at the closed site, each with how they are re-homed (if they are): the
    transfer in progress, a transfer accepted since the closing, a participation in a joint or
    mobile branch since then. `pending` is True for those still to re-home."""
    closed_on = site.closed_on
    in_transfer = Transfer.objects.filter(TRANSFER_OPEN_Q, member=OuterRef("pk")).order_by("-pk")
    accepted = _accepted_since(closed_on)
    part = _site_participations(closed_on)
    rows = list(
        Member.objects.filter(project_site=site, archived_at__isnull=True)
        .select_related("branch")
        .annotate(
            transfer_state=Subquery(in_transfer.values("state")[:1]),
            transfer_to=Subquery(in_transfer.values("to_branch__name")[:1]),
            accepted_to=Subquery(accepted.values("to_branch__name")[:1]),
            takes_part_in=Subquery(part.values("organization__name")[:1]),
            takes_part_since=Subquery(part.values("started_on")[:1]),
        )
        .order_by("real_name", "pk")
    )
    for m in rows:
        m.pocket = m.branch_id is None and not m.transfer_state
        m.pending = not (m.transfer_state or m.accepted_to or m.takes_part_in or m.pocket)
    return rows


def site_branch_rows(*, site: ProjectSite) -> list[Member]:
    """Members working at the open site, each with the joint or mobile branch they take part in
    (the latest), if any."""
    part = _site_participations()
    return list(
        Member.objects.filter(project_site=site, archived_at__isnull=True)
        .select_related("branch")
        .annotate(
            takes_part_in=Subquery(part.values("organization__name")[:1]),
            takes_part_since=Subquery(part.values("started_on")[:1]),
        )
        .order_by("real_name", "pk")
    )


def attach_candidates(*, site: ProjectSite, user, query: str = "", limit: int = 50) -> list:
    """Members the user looks after who do not work at the site, by name (at most `limit`)."""
    qs = Member.objects.filter(archived_at__isnull=True, user__is_active=True).exclude(
        project_site=site
    )
    if not (user.is_active and user.is_superuser):
        qs = qs.filter(member_scope_q(scope.managed_paths(user)))
    query = query.strip()
    if query:
        qs = qs.filter(real_name__icontains=query)
    return list(qs.select_related("branch", "project_site").order_by("real_name", "pk")[:limit])


def group_branches(*, site: ProjectSite, find: str = "", include=None) -> list[Organization]:
    """The targets of a re-homing or an attachment, in tree order: the branches taking
    registrations (joint and mobile ones among them) of the site's company, those of the whole
    group whose name contains `find` (at most 50), and the one with id `include` (the choice a
    form posts) if it is in the group."""
    step = Organization.steplen
    root = site.organization.path[:step]
    company = site.organization.path[: 2 * step]
    wanted = Q(path__startswith=company)
    find = find.strip()
    if find:
        found = Organization.objects.filter(
            path__startswith=root,
            kind__in=Organization.REGISTRATION_KINDS,
            name__icontains=find,
        ).order_by("path")[:50]
        wanted |= Q(pk__in=found.values("pk"))
    if str(include or "").isdigit():
        wanted |= Q(pk=int(include))
    return list(
        Organization.objects.filter(
            wanted, path__startswith=root, kind__in=Organization.REGISTRATION_KINDS
        ).order_by("path")
    )
