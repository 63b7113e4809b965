"""Who may study what: the viewer, visibility of lessons, documents and plans, and the
scope-checked lookups by id."""

from django.contrib.auth import get_user_model
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.http import Http404

from branches import scope
from branches.models import RoleAssignment
from members.models import Member

from ..models import (
    Document,
    Lesson,
    LessonShare,
    StudyPlan,
)

User = get_user_model()
COMMITTEE_ROLES = [r.value for r in RoleAssignment.BRANCH_COMMITTEE_ROLES]


# --- the viewer -----------------------------------------------------------------------------


def viewer(user) -> dict:
    """What audience filters need about a user, cached on the user object (one query): their
    member category and status, and whether they sit on a branch committee."""
    cached = getattr(user, "_netbranch_viewer", None)
    if cached is not None:
        return cached
    row = (
        Member.objects.filter(user=user).values("category", "status").first()
        if user.is_authenticated
        else None
    )
    committee = any(role in COMMITTEE_ROLES for role, _path in scope.assignments(user))
    cached = {
        "category": row and row["category"],
        "status": row and row["status"],
        "committee": committee,
    }
    user._netbranch_viewer = cached
    return cached


def _audience_q(user) -> Q:
    """Audience flags that let this user in (categories, statuses, committee-only)."""
    v = viewer(user)
    q = Q()
    if v["category"]:
        q &= Q(**{f"for_{v['category']}": True})
    if v["status"]:
        q &= Q(**{f"for_{v['status']}": True})
    if not v["committee"]:
        q &= Q(committee_only=False)
    if not v["category"] and not v["committee"]:
        return Q(pk__in=[])  # neither a member nor on a committee: nothing by audience
    return q


def _visible_q(user, *, shares: bool) -> Q:
    """Content published on the path from the user's organisations to the root (or shared
    with an organisation on it) and meant for them; or anywhere they manage."""
    home = scope.ancestor_paths(scope.home_paths(user))
    on_path = Q(organization__path__in=home)
    if shares:
        on_path |= Exists(
            LessonShare.objects.filter(lesson=OuterRef("pk"), organization__path__in=home)
        )
    q = on_path & _audience_q(user)
    # Committee-only content goes to the committee members of its subtree (audience_of_*),
    # whether or not they are registered members there: they see it above where they serve.
    serving = scope.ancestor_paths(
        path for role, path in scope.assignments(user) if role in COMMITTEE_ROLES
    )
    if serving:
        served = Q(organization__path__in=serving)
        if shares:
            served |= Exists(
                LessonShare.objects.filter(lesson=OuterRef("pk"), organization__path__in=serving)
            )
        q |= served & Q(committee_only=True)
    managed = scope.managed_paths(user)
    if managed:
        q |= scope.subtree_q(managed, prefix="organization__")
    return q


def lessons_visible_to(*, user) -> QuerySet:
    if user.is_active and user.is_superuser:
        return Lesson.objects.filter(status=Lesson.Status.PUBLISHED)
    return Lesson.objects.filter(_visible_q(user, shares=True), status=Lesson.Status.PUBLISHED)


def lesson_visible_to(user, lesson: Lesson) -> bool:
    return lesson.is_published and lessons_visible_to(user=user).filter(pk=lesson.pk).exists()


def access_lesson_by_id(*, lesson_id: int, user) -> Lesson:
    """A published lesson the user may study, or any lesson of an organisation they manage
    (drafts to preview); 404 otherwise."""
    lesson = (
        Lesson.objects.select_related("organization", "author__member").filter(pk=lesson_id).first()
    )
    if lesson is None:
        raise Http404
    if lesson_visible_to(user, lesson) or scope.can_manage(user, lesson.organization):
        return lesson
    raise Http404


def documents_visible_to(*, user) -> QuerySet:
    if user.is_active and user.is_superuser:
        return Document.objects.filter(published=True)
    return Document.objects.filter(_visible_q(user, shares=False), published=True)


def access_document_by_id(*, document_id: int, user) -> Document:
    document = Document.objects.select_related("organization").filter(pk=document_id).first()
    if document is None:
        raise Http404
    if documents_visible_to(user=user).filter(pk=document.pk).exists() or scope.can_manage(
        user, document.organization
    ):
        return document
    raise Http404


def plans_visible_to(*, user) -> QuerySet:
    if user.is_active and user.is_superuser:
        return StudyPlan.objects.filter(status=StudyPlan.Status.PUBLISHED)
    return StudyPlan.objects.filter(
        _visible_q(user, shares=False), status=StudyPlan.Status.PUBLISHED
    )


def access_plan_by_id(*, plan_id: int, user) -> StudyPlan:
    plan = StudyPlan.objects.select_related("organization").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    if plans_visible_to(user=user).filter(pk=plan.pk).exists() or scope.can_manage(
        user, plan.organization
    ):
        return plan
    raise Http404
