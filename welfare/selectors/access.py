"""Who may see which activity and which case, and the scope-checked lookups by id.

Activities: published ones of the organisations on the path from the user's own (registered
branch, participations) up to the root, those a reviewer featured to one of them, and every
one of the subtrees the user manages (unpublished ones too, to preview them).
Cases: those of the organisations on the user's path, those they are paired in, and every one
of the subtrees they manage. Seeing a case is not reading its personal data: that is
`welfare.privacy`'s decision."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from branches import scope

from ..models import PairingCase, WelfareActivity, WelfareFeature


def _superuser(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def on_my_path(user) -> set[str]:
    """Paths of the organisations from the user's own up to the root (no query once the
    request has read the user's member record)."""
    return scope.ancestor_paths(scope.home_paths(user))


def activities_visible_to(*, user) -> QuerySet:
    qs = WelfareActivity.objects.filter(published_at__isnull=False)
    if _superuser(user):
        return qs
    home = on_my_path(user)
    q = Q(organization__path__in=home) | Exists(
        WelfareFeature.objects.filter(activity=OuterRef("pk"), organization__path__in=home)
    )
    managed = scope.managed_paths(user)
    if managed:
        q |= scope.subtree_q(managed, prefix="organization__")
    return qs.filter(q)


def activity_visible_to(user, activity: WelfareActivity) -> bool:
    """May the user see (like, comment on) the activity? Its managers see it unpublished too."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if scope.can_manage(user, activity.organization):
        return True
    if not activity.is_published:
        return False
    home = on_my_path(user)
    if activity.organization.path in home:
        return True
    return WelfareFeature.objects.filter(activity=activity, organization__path__in=home).exists()


def access_activity_by_id(*, activity_id: int, user) -> WelfareActivity:
    activity = (
        WelfareActivity.objects.select_related(
            "organization", "project_site", "meeting", "recorded_by__member"
        )
        .filter(pk=activity_id)
        .first()
    )
    if activity is None or not activity_visible_to(user, activity):
        raise Http404
    return activity


def with_is_paired(queryset: QuerySet, *, user) -> QuerySet:
    """Annotate `is_paired`: is the user one of the case's paired members (for the privacy
    decision, without a query per case)."""
    through = PairingCase.paired_members.through
    return queryset.annotate(
        is_paired=Exists(through.objects.filter(pairingcase=OuterRef("pk"), member__user=user))
    )


def cases_visible_to(*, user) -> QuerySet:
    qs = PairingCase.objects.all()
    if _superuser(user):
        return qs
    through = PairingCase.paired_members.through
    q = Q(organization__path__in=on_my_path(user)) | Exists(
        through.objects.filter(pairingcase=OuterRef("pk"), member__user=user)
    )
    managed = scope.managed_paths(user)
    if managed:
        q |= scope.subtree_q(managed, prefix="organization__")
    return qs.filter(q)


def access_case_by_id(*, case_id: int, user) -> PairingCase:
    """A case the user may see, annotated with `is_paired`; 404 otherwise (a case of another
    branch does not exist for them)."""
    case = (
        with_is_paired(cases_visible_to(user=user), user=user)
        .select_related("organization", "project_site")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return case
