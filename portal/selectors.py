"""The home page: each app's card data, read in a fixed number of queries."""

from django.db.models import Count, Q

from branches import scope
from branches.models import Organization, RoleAssignment
from decisions import selectors as decision_selectors
from discussions import selectors as discussion_selectors
from lessons import selectors as lesson_selectors
from meetings.selectors import packs as pack_selectors
from meetings.selectors import pages as meeting_selectors
from members import selectors as member_selectors
from members import selectors_sites as member_site_selectors
from notifications import selectors as notification_selectors
from reports.selectors import dashboard as review_selectors
from reports.selectors import reports as report_selectors
from welfare import selectors as welfare_selectors


def home_for_user(*, user) -> dict:
    """Cards for the member home page (DESIGN: the four syncs on one phone screen) and, on
    top, the worklists of secretaries and reviewers. A fixed number of queries."""
    member = member_selectors.member_for_user(user)
    context: dict = {"member": member, "path": [], "secretary": None, "worklist": None}
    path = []
    if member is not None and member.branch is not None:
        path = list(scope.path_to_root(member.branch))
        context["path"] = path
    assignments, secretaries = _assignments_and_secretaries(user, path)
    if path:
        context["secretary"] = secretaries.get(member.branch_id)
        context["secretaries"] = secretaries
    context["study"] = lesson_selectors.study_card(user=user, member=member) if member else None
    context["in_progress"] = member_selectors.request_in_progress(user=user, member=member)
    context["meetings"] = meeting_selectors.home_card(user=user)
    context["decisions"] = decision_selectors.vote_card(user=user, member=member)
    context["service"] = (
        welfare_selectors.service_card(user=user, member=member) if member else None
    )
    context["unread_notices"] = notification_selectors.unread_notices_for_user(user=user)
    context["answered_posts"] = discussion_selectors.my_answered_posts(user)
    if assignments:
        paths = scope.managed_paths(user)
        # Closed sites with members still to re-home join this count (no query of their own).
        counts = Organization.objects.filter(scope.subtree_q(paths)).aggregate(
            organizations=Count("pk", distinct=True),
            sites_to_rehome=Count(
                "sites",
                distinct=True,
                filter=Q(sites__in=member_site_selectors.closed_sites_pending().values("pk")),
            ),
        )
        context["worklist"] = {
            "assignments": assignments,
            "organizations": counts["organizations"],
            # Paper packs to print for the sites without network (one query, none without a
            # managing role).
            "offline_sites": list(pack_selectors.sites_without_coverage(user=user)[:5]),
            "sites_to_rehome": counts["sites_to_rehome"],
            # Activity reports due or returned, reports to review (one query).
            "reports": report_selectors.worklist(user=user, assignments=assignments),
            **member_selectors.contact_status_counts(
                organizations=[a.organization for a in assignments]
            ),
        }
        if scope.has_role(user, scope.REVIEW_ROLES):
            # The committee dashboard's card: silent branches, reports to review (one query).
            context["worklist"]["review"] = review_selectors.home_card(user=user)
    return context


def _assignments_and_secretaries(user, path: list[Organization]) -> tuple[list, dict]:
    """The user's own role assignments and the secretary of each organisation on their path,
    in one query (what `branches.selectors.assignments_for_user` and `secretaries_of` read in
    two). The user's assignments also prime the scope cache, which the notices and the study
    card would otherwise query again."""
    q = Q(user=user)
    if path:
        q |= Q(organization__in=[o.pk for o in path], role=RoleAssignment.Role.SECRETARY)
    rows = list(RoleAssignment.objects.filter(q).select_related("organization", "user__member"))
    mine = [a for a in rows if a.user_id == user.pk]
    path_ids = {o.pk for o in path}
    secretaries = {
        a.organization_id: a
        for a in rows
        if a.role == RoleAssignment.Role.SECRETARY and a.organization_id in path_ids
    }
    scope.remember_assignments(user, [(a.role, a.organization.path) for a in mine])
    return mine, secretaries
