"""Audiences of lessons and plans, registered with `notifications` (resolved in the database
by the fan-out)."""

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    QuerySet,
)

from branches import scope
from branches.models import Organization, RoleAssignment
from members import selectors as member_selectors

from ..models import (
    Lesson,
    LessonShare,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
)
from .access import COMMITTEE_ROLES

User = get_user_model()


# --- audiences (registered with notifications) ------------------------------------------------


def _content_audience(content, organizations) -> QuerySet:
    """Active users who are the audience of `content` (flags) in the subtrees of `organizations`."""
    if content.committee_only:
        paths = list(
            Organization.objects.filter(pk__in=[o.pk for o in organizations]).values_list(
                "path", flat=True
            )
        )
        holders = RoleAssignment.objects.filter(
            scope.subtree_q(paths, prefix="organization__"), role__in=COMMITTEE_ROLES
        )
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
    obj = (
        LessonShare.objects.select_related("lesson__organization", "organization")
        .filter(pk=share)
        .first()
    )
    if obj is None:
        return User.objects.none()
    earlier = LessonShare.objects.filter(lesson=obj.lesson_id, pk__lt=obj.pk).select_related(
        "organization"
    )
    already = _content_audience(
        obj.lesson, [obj.lesson.organization, *(s.organization for s in earlier)]
    )
    return _content_audience(obj.lesson, [obj.organization]).exclude(pk__in=already.values("pk"))


def audience_lesson_unfinished(*, lesson: int) -> QuerySet:
    finished = StudyRecord.objects.filter(lesson_id=lesson, finished_at__isnull=False).values(
        "user_id"
    )
    return audience_of_lesson(lesson=lesson).exclude(pk__in=finished)


def audience_of_plan(*, plan: int) -> QuerySet:
    obj = StudyPlan.objects.select_related("organization").filter(pk=plan).first()
    if obj is None:
        return User.objects.none()
    return _content_audience(obj, [obj.organization])


def audience_plan_unfinished(*, plan: int) -> QuerySet:
    """The plan's audience minus those who finished every lesson of it."""
    lesson_ids = set(
        StudyPlanItem.objects.filter(plan_id=plan, lesson__isnull=False).values_list(
            "lesson_id", flat=True
        )
    )
    audience = audience_of_plan(plan=plan)
    if not lesson_ids:
        return audience.none()
    done = (
        StudyRecord.objects.filter(lesson_id__in=sorted(lesson_ids), finished_at__isnull=False)
        .values("user_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=len(lesson_ids))
        .values("user_id")
    )
    return audience.exclude(pk__in=done)
