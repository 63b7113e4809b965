"""The home page: each app's card data, read in a fixed number of queries."""

from django.db.models import Count

from branches import scope
from branches import selectors as branch_selectors
from branches.models import Organization
from discussions import selectors as discussion_selectors
from members import selectors as member_selectors
from notifications import selectors as notification_selectors


def home_for_user(*, user) -> dict:
    """Cards for the member home page (DESIGN: the four syncs on one phone screen) and, on
    top, the worklists of secretaries and reviewers. A fixed number of queries."""
    member = member_selectors.member_for_user(user)
    context: dict = {"member": member, "path": [], "secretary": None, "worklist": None}
    if member is not None and member.branch is not None:
        path = list(scope.path_to_root(member.branch))
        context["path"] = path
        secretaries = branch_selectors.secretaries_of(organizations=path)
        context["secretary"] = secretaries.get(member.branch_id)
        context["secretaries"] = secretaries
    context["unread_notices"] = notification_selectors.unread_notices_for_user(user=user)
    context["answered_posts"] = discussion_selectors.my_answered_posts(user)
    assignments = branch_selectors.assignments_for_user(user=user)
    if assignments:
        paths = scope.managed_paths(user)
        counts = Organization.objects.filter(scope.subtree_q(paths)).aggregate(
            organizations=Count("pk"),
        )
        context["worklist"] = {
            "assignments": assignments,
            "organizations": counts["organizations"],
            **member_selectors.contact_status_counts(
                organizations=[a.organization for a in assignments]
            ),
        }
    return context
