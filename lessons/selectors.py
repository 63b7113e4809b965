"""Who may study what, and the audiences `notifications` fans out to. Page selectors (lists,
detail, /study/) are below; each costs a fixed number of queries."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from branches import scope
from branches.models import Organization, RoleAssignment
from members import selectors as member_selectors
from members.models import Member

from .models import Document, Lesson, LessonShare, StudyPlan, StudyPlanItem, StudyRecord

User = get_user_model()
COMMITTEE_ROLES = [r.value for r in RoleAssignment.BRANCH_COMMITTEE_ROLES]


# --- the viewer -----------------------------------------------------------------------------


def viewer(user) -> dict:
    """What audience filters need about a user, cached on the user object (one query): their
    member category and status, and whether they sit on a branch committee."""
    cached = getattr(user, "_netbranch_viewer", None)
    if cached is not None:
        return cached
    row = Member.objects.filter(user=user).values("category", "status").first() if user.is_authenticated else None
    committee = any(role in COMMITTEE_ROLES for role, _path in scope.assignments(user))
    cached = {"category": row and row["category"], "status": row and row["status"], "committee": committee}
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
        on_path |= Exists(LessonShare.objects.filter(lesson=OuterRef("pk"), organization__path__in=home))
    q = on_path & _audience_q(user)
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
    lesson = Lesson.objects.select_related("organization", "author__member").filter(pk=lesson_id).first()
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
    if documents_visible_to(user=user).filter(pk=document.pk).exists() or scope.can_manage(user, document.organization):
        return document
    raise Http404


def plans_visible_to(*, user) -> QuerySet:
    if user.is_active and user.is_superuser:
        return StudyPlan.objects.filter(status=StudyPlan.Status.PUBLISHED)
    return StudyPlan.objects.filter(_visible_q(user, shares=False), status=StudyPlan.Status.PUBLISHED)


def access_plan_by_id(*, plan_id: int, user) -> StudyPlan:
    plan = StudyPlan.objects.select_related("organization").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    if plans_visible_to(user=user).filter(pk=plan.pk).exists() or scope.can_manage(user, plan.organization):
        return plan
    raise Http404


# --- audiences (registered with notifications) ------------------------------------------------


def _content_audience(content, organizations) -> QuerySet:
    """Active users who are the audience of `content` (flags) in the subtrees of `organizations`."""
    if content.committee_only:
        paths = list(Organization.objects.filter(pk__in=[o.pk for o in organizations]).values_list("path", flat=True))
        holders = RoleAssignment.objects.filter(scope.subtree_q(paths, prefix="organization__"), role__in=COMMITTEE_ROLES)
        return User.objects.filter(is_active=True, pk__in=holders.values("user_id"))
    return member_selectors.audience_members_of_organizations(
        orgs=[o.pk for o in organizations], categories=content.categories, statuses=content.statuses
    )


def audience_of_lesson(*, lesson: int) -> QuerySet:
    obj = Lesson.objects.select_related("organization").filter(pk=lesson).first()
    if obj is None:
        return User.objects.none()
    orgs = [obj.organization, *(s.organization for s in obj.shares.select_related("organization"))]
    return _content_audience(obj, orgs)


def audience_of_share(*, share: int) -> QuerySet:
    """A share's new audience: those under the shared-with organisation who were not already
    in the lesson's own audience (they were told when it was published)."""
    obj = LessonShare.objects.select_related("lesson__organization", "organization").filter(pk=share).first()
    if obj is None:
        return User.objects.none()
    already = _content_audience(obj.lesson, [obj.lesson.organization])
    return _content_audience(obj.lesson, [obj.organization]).exclude(pk__in=already.values("pk"))


def audience_lesson_unfinished(*, lesson: int) -> QuerySet:
    finished = StudyRecord.objects.filter(lesson_id=lesson, finished_at__isnull=False).values("user_id")
    return audience_of_lesson(lesson=lesson).exclude(pk__in=finished)


def audience_of_plan(*, plan: int) -> QuerySet:
    obj = StudyPlan.objects.select_related("organization").filter(pk=plan).first()
    if obj is None:
        return User.objects.none()
    return _content_audience(obj, [obj.organization])


def audience_plan_unfinished(*, plan: int) -> QuerySet:
    """The plan's audience minus those who finished every lesson of it."""
    lesson_ids = list(StudyPlanItem.objects.filter(plan_id=plan, lesson__isnull=False).values_list("lesson_id", flat=True))
    audience = audience_of_plan(plan=plan)
    if not lesson_ids:
        return audience.none()
    done = (
        StudyRecord.objects.filter(lesson_id__in=lesson_ids, finished_at__isnull=False)
        .values("user_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=len(lesson_ids))
        .values("user_id")
    )
    return audience.exclude(pk__in=done)
