"""Reads of the five-star rating pages: the branch page's section, the secretary's view of
their own branch on /reports/rating/, the reviewer's list and a rating's page, and practice
accounts. Each function costs a fixed number of queries; lookups by id are scope-checked."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from branches import scope
from branches.models import Organization

from ..models import BranchRating, PracticeAccount, RatingDecision
from ..services.rating import BRANCH_ROLES, RATED_KINDS, can_decide, can_write_practice

DECIDED = (BranchRating.Status.CONFIRMED, BranchRating.Status.OVERRIDDEN)
#: ?sort= values of the reviewer's list and their ORDER BY.
SORTS = {
    "score": ("score", "organization__path"),
    "-score": ("-score", "organization__path"),
    "name": ("organization__name", "organization__path"),
    "path": ("organization__path",),
}
SHOWN_PRACTICE = 5


def branch_section(*, organization: Organization, user) -> dict | None:
    """The rating on the branch page: the two latest ratings (the decided one of last year
    and this year's computed one, typically) and the practice accounts the branch shared.
    Two queries for a rated branch, none for other organisations."""
    if organization.kind not in RATED_KINDS:
        return None
    ratings = list(BranchRating.objects.filter(organization=organization).order_by("-year")[:2])
    if not ratings:
        return None
    accounts = list(
        PracticeAccount.objects.filter(
            organization=organization, status=PracticeAccount.Status.SHARED
        ).order_by("-shared_at", "-pk")[:SHOWN_PRACTICE]
    )
    return {
        "ratings": ratings,
        "practice_accounts": accounts,
        "can_decide": can_decide(user, organization),
        "can_write": can_write_practice(user, organization),
    }


def own_branches(*, user, years: list[int]) -> list[Organization]:
    """The rated branches on whose committee the user sits, each with `year_ratings`
    (ratings of `years`, newest first) and `open_accounts` (practice accounts not yet shared
    and shared ones). Three queries; none when the user sits on no branch committee."""
    paths = sorted({path for role, path in scope.assignments(user) if role in BRANCH_ROLES})
    if not paths:
        return []
    return list(
        Organization.objects.filter(path__in=paths, kind__in=RATED_KINDS)
        .prefetch_related(
            Prefetch(
                "ratings",
                queryset=BranchRating.objects.filter(year__in=years).order_by("-year"),
                to_attr="year_ratings",
            ),
            Prefetch(
                "practice_accounts",
                queryset=PracticeAccount.objects.order_by("-created_at", "-pk"),
                to_attr="accounts",
            ),
        )
        .order_by("path")
    )


def ratings_for_reviewer(
    *, user, year: int, stars: int | None = None, status: str | None = None, sort: str = "path"
) -> QuerySet:
    """The ratings of `year` in the user's reviewer subtrees (everything for a superuser),
    with their organisation, filtered by shown stars and status."""
    qs = BranchRating.objects.filter(year=year).select_related("organization")
    if not (user.is_active and user.is_superuser):
        qs = qs.filter(
            scope.subtree_q(scope.managed_paths(user, scope.REVIEW_ROLES), prefix="organization__")
        )
    if stars:
        qs = qs.filter(Q(stars=stars) | Q(stars__isnull=True, computed_stars=stars))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by(*SORTS.get(sort, SORTS["path"]))


def submitted_accounts_for_reviewer(*, user) -> list[PracticeAccount]:
    """Practice accounts waiting for this reviewer to share them (one query)."""
    qs = PracticeAccount.objects.filter(status=PracticeAccount.Status.SUBMITTED).select_related(
        "organization"
    )
    if not (user.is_active and user.is_superuser):
        qs = qs.filter(
            scope.subtree_q(scope.managed_paths(user, scope.REVIEW_ROLES), prefix="organization__")
        )
    return list(qs.order_by("created_at", "pk")[:50])


def access_rating(*, rating_id: int, user) -> BranchRating:
    """A rating the user may decide on (a reviewer above the branch). The branch's own
    committee: 403 (they read it on /reports/rating/); anyone else: 404."""
    rating = BranchRating.objects.select_related("organization").filter(pk=rating_id).first()
    if rating is None:
        raise Http404
    if can_decide(user, rating.organization):
        return rating
    if scope.can_manage(user, rating.organization):
        raise PermissionDenied
    raise Http404


def access_own_rating(*, rating_id: int, user) -> BranchRating:
    """A rating of a branch on whose committee the user sits (to write its practice
    account); 404 otherwise."""
    rating = BranchRating.objects.select_related("organization").filter(pk=rating_id).first()
    if rating is None or not can_write_practice(user, rating.organization):
        raise Http404
    return rating


def rating_history(*, rating: BranchRating) -> list[RatingDecision]:
    return list(rating.decisions.select_related("by__member").order_by("-at", "-pk"))


def practice_visible_to(account: PracticeAccount, user) -> bool:
    """The branch's committee and the reviewers above it always; once shared, everyone whose
    branch (or managed subtree) is in the same group (the root of the tree)."""
    org = account.organization
    if can_write_practice(user, org) or can_decide(user, org):
        return True
    if account.status != PracticeAccount.Status.SHARED:
        return False
    root = org.path[: Organization.steplen]
    paths = [*scope.home_paths(user), *scope.managed_paths(user)]
    return any(p.startswith(root) for p in paths)


def access_practice_account(*, account_id: int, user) -> PracticeAccount:
    account = (
        PracticeAccount.objects.select_related("organization", "rating", "written_by__member")
        .filter(pk=account_id)
        .first()
    )
    if account is None or not practice_visible_to(account, user):
        raise Http404
    return account
