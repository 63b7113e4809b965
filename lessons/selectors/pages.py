"""The reads behind the study pages: each costs a fixed number of queries whatever the data
size."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Rank
from django.db.models.query import prefetch_related_objects
from django.utils import timezone

from branches import scope
from branches.models import Organization
from discussions.selectors import with_discussion_counts
from members import selectors as member_selectors
from members.models import Member

from ..models import (
    CheckAttempt,
    Document,
    DocumentRead,
    Lesson,
    LessonShare,
    PointsEntry,
    Question,
    StudyPlan,
    StudyPlanItem,
    StudyRecord,
    Topic,
)
from .access import COMMITTEE_ROLES, _audience_q, documents_visible_to, lessons_visible_to

User = get_user_model()


# --- pages ------------------------------------------------------------------------------------
# What /lessons/, a lesson, /study/, /plans/<id>/, /documents/ and the home card read. Each is a
# fixed number of queries whatever the data size: states and counts are annotated (EXISTS and
# COUNT subqueries), lists are paginated by the views, rankings are aggregated in the database.

SEARCH_MAX_LENGTH = 100
RANKING_SIZE = 10
PLANS_SHOWN = 10


def remember_member(user, member: Member | None) -> None:
    """Prime `viewer()` from a member row the page has already read, saving its query."""
    if member is None or getattr(user, "_netbranch_viewer", None) is not None:
        return
    committee = any(role in COMMITTEE_ROLES for role, _path in scope.assignments(user))
    user._netbranch_viewer = {
        "category": member.category,
        "status": member.status,
        "committee": committee,
    }


def month_start():
    """The first instant of the current month, local time (the ranking's period)."""
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _count_of(qs: QuerySet, group: str) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when empty."""
    counted = qs.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _points_of(user) -> Coalesce:
    """The user's total points as a scalar subquery (to ride along another query)."""
    total = (
        PointsEntry.objects.filter(user=user)
        .order_by()
        .values("user")
        .annotate(s=Sum("points"))
        .values("s")[:1]
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _finished_by(user) -> QuerySet:
    return StudyRecord.objects.filter(user=user, finished_at__isnull=False)


def current_plans_for_user(*, user) -> QuerySet:
    """The user's current study plans: published on the path from their organisations to the
    root, meant for them (audience flags), and not yet due (running, or starting soon). Plans
    of a subtree they only manage are not theirs to study."""
    home = scope.ancestor_paths(scope.home_paths(user))
    if not home:
        return StudyPlan.objects.none()
    return StudyPlan.objects.filter(
        _audience_q(user),
        organization__path__in=home,
        status=StudyPlan.Status.PUBLISHED,
        due_on__gte=timezone.localdate(),
    )


def _live_items_q() -> Q:
    """Plan items that count towards progress: published lessons and documents."""
    return Q(lesson__status=Lesson.Status.PUBLISHED) | Q(document__published=True)


def with_progress(plans: QuerySet, *, user) -> QuerySet:
    """Annotate `item_count` and `done_count` (the user's finished lessons and opened
    documents among the plan's live items) on a queryset of plans."""
    items = StudyPlanItem.objects.filter(_live_items_q(), plan=OuterRef("pk"))
    finished = _finished_by(user).filter(lesson=OuterRef("lesson_id"))
    read = DocumentRead.objects.filter(user=user, document=OuterRef("document_id"))
    done = items.filter(Exists(finished) | Exists(read))
    return plans.annotate(item_count=_count_of(items, "plan"), done_count=_count_of(done, "plan"))


def lesson_list_for_user(
    *, user, kind: str | None = None, topic: int | None = None, q: str | None = None
) -> QuerySet:
    """/lessons/: the lessons the user may study, those of their current plans first, then the
    newest; filtered by kind, topic and a substring of the title or summary (Chinese too:
    `icontains`, backed on Postgres by the trigram indexes of migration 0002). Each row says
    whether the user opened or finished it and carries its like and comment counts."""
    mine = StudyRecord.objects.filter(user=user, lesson=OuterRef("pk"))
    in_my_plans = StudyPlanItem.objects.filter(
        lesson=OuterRef("pk"), plan__in=current_plans_for_user(user=user).values("pk")
    )
    qs = (
        with_discussion_counts(lessons_visible_to(user=user), user=user)
        .select_related("organization")
        .annotate(
            for_me=Exists(in_my_plans),
            opened=Exists(mine),
            finished=Exists(mine.filter(finished_at__isnull=False)),
        )
    )
    if kind in Lesson.Kind.values:
        qs = qs.filter(kind=kind)
    if topic:
        qs = qs.filter(topics=topic)
    q = (q or "").strip()[:SEARCH_MAX_LENGTH]
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    return qs.order_by(F("for_me").desc(), "-published_at", "-id")


def topics_in_use() -> list[Topic]:
    """Topics that have at least one published lesson (the /lessons/ filter)."""
    return list(Topic.objects.filter(Exists(Lesson.topics.through.objects.filter(
        topic=OuterRef("pk"), lesson__status=Lesson.Status.PUBLISHED
    ))).order_by("name"))  # fmt: skip


@dataclass
class CheckQuestion:
    """A check question as the page may show it. The right answer and the explanation are
    filled only once the member has answered (`revealed`): before that they are not in the
    page at all, whatever the template does."""

    id: int
    text: str
    choices: list[tuple[str, str]]
    answer: str = ""
    right: bool | None = None
    correct: str = ""
    correct_text: str = ""
    explanation: str = ""


@dataclass
class LessonCheck:
    questions: list[CheckQuestion] = field(default_factory=list)
    revealed: bool = False  # answered at least once, or passed
    passed: bool = False
    attempt: CheckAttempt | None = None


def lesson_check(*, lesson: Lesson, user, record: StudyRecord | None) -> LessonCheck | None:
    """The lesson's check for this user (two queries), None when the lesson has none."""
    questions: list[Question] = list(lesson.questions.all())
    if not questions:
        return None
    attempt = (
        CheckAttempt.objects.filter(user=user, lesson=lesson).order_by("-passed", "-id").first()
    )
    passed = bool(record and record.check_passed_at)
    check = LessonCheck(revealed=attempt is not None or passed, passed=passed, attempt=attempt)
    answers = attempt.answers if attempt else {}
    for question in questions:
        shown = CheckQuestion(id=question.pk, text=question.text, choices=question.choices)
        if check.revealed:
            shown.answer = str(answers.get(str(question.pk)) or "")
            shown.right = shown.answer == question.correct
            shown.correct = question.correct
            shown.correct_text = dict(question.choices).get(question.correct, "")
            shown.explanation = question.explanation
        check.questions.append(shown)
    return check


def lesson_detail(*, lesson: Lesson, user, record: StudyRecord | None = None) -> dict:
    """A lesson's page: topics, attachments and shares (three queries), the user's record
    (given by the view that just opened it, else one query) and the check, with no right
    answer before the user has answered."""
    prefetch_related_objects(
        [lesson],
        "topics",
        "attachments",
        Prefetch(
            "shares",
            queryset=LessonShare.objects.select_related("organization").order_by("shared_at", "pk"),
        ),
    )
    if record is None and lesson.is_published:
        record = StudyRecord.objects.filter(user=user, lesson=lesson).first()
    return {
        "lesson": lesson,
        "record": record,
        "check": lesson_check(lesson=lesson, user=user, record=record),
        "topics": list(lesson.topics.all()),
        "attachments": list(lesson.attachments.all()),
        "shares": list(lesson.shares.all()),
    }


def document_list_for_user(*, user, category: str | None = None, q: str | None = None) -> QuerySet:
    """/documents/: the documents the user may read, newest first, with whether they opened
    each; filtered by category and a substring of the title or summary."""
    qs = (
        documents_visible_to(user=user)
        .select_related("organization")
        .annotate(is_read=Exists(DocumentRead.objects.filter(user=user, document=OuterRef("pk"))))
    )
    if category in Document.Category.values:
        qs = qs.filter(category=category)
    q = (q or "").strip()[:SEARCH_MAX_LENGTH]
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    return qs.order_by("-issued_on", "-id")


def plan_detail(*, plan: StudyPlan, user) -> dict:
    """A plan's page: its items in order with the user's state of each and whether they may
    open it (one query), and the progress the way `with_progress` counts it."""
    items = list(
        StudyPlanItem.objects.filter(plan=plan)
        .select_related("lesson", "document")
        .annotate(
            finished=Exists(_finished_by(user).filter(lesson=OuterRef("lesson_id"))),
            opened=Exists(StudyRecord.objects.filter(user=user, lesson=OuterRef("lesson_id"))),
            read=Exists(DocumentRead.objects.filter(user=user, document=OuterRef("document_id"))),
            lesson_open=Exists(lessons_visible_to(user=user).filter(pk=OuterRef("lesson_id"))),
            document_open=Exists(
                documents_visible_to(user=user).filter(pk=OuterRef("document_id"))
            ),
        )
        .order_by("order", "id")
    )
    total = done = 0
    for item in items:
        item.live = bool(
            (item.lesson and item.lesson.is_published)
            or (item.document and item.document.published)
        )
        item.done = item.finished if item.lesson_id else item.read
        item.can_open = item.lesson_open if item.lesson_id else item.document_open
        if item.live:
            total += 1
            done += int(item.done)
    plan.item_count, plan.done_count = total, done
    return {"plan": plan, "items": items, "total": total, "done": done}


def points_for_user(*, user) -> dict:
    """{"total": all my points, "month": this month's} (one aggregate query)."""
    return PointsEntry.objects.filter(user=user).aggregate(
        total=Coalesce(Sum("points"), 0),
        month=Coalesce(Sum("points", filter=Q(earned_at__gte=month_start())), 0),
    )


def branch_ranking(*, organization: Organization, user, size: int = RANKING_SIZE) -> dict:
    """The members of an organisation ranked by the points they earned this month, summed and
    ranked in the database (one query): the top `size` with points, and the user's own row
    (rank, points, out of how many members)."""
    earned = (
        PointsEntry.objects.filter(user=OuterRef("user_id"), earned_at__gte=month_start())
        .order_by()
        .values("user")
        .annotate(s=Sum("points"))
        .values("s")[:1]
    )
    rows = list(
        member_selectors.members_of_organizations(organizations=[organization], subtree=False)
        .annotate(month_points=Coalesce(Subquery(earned, output_field=IntegerField()), Value(0)))
        .annotate(
            rank=Window(Rank(), order_by=F("month_points").desc()), members=Window(Count("pk"))
        )
        .filter(Q(rank__lte=size, month_points__gt=0) | Q(user_id=user.pk))
        .order_by("rank", "real_name", "pk")
        .values("user_id", "real_name", "month_points", "rank", "members")
    )
    top = [row for row in rows if row["rank"] <= size and row["month_points"] > 0][:size]
    mine = next((row for row in rows if row["user_id"] == user.pk), None)
    return {
        "organization": organization,
        "top": top,
        "mine": mine,
        "members": rows[0]["members"] if rows else 0,
    }


def study_overview(*, user, page: int | str = 1) -> dict:
    """/study/: my current plans with progress, my points (all time and this month), my
    finished lessons (paginated) and this month's ranking of my registered branch."""
    member = Member.objects.select_related("branch").filter(user=user).first()
    remember_member(user, member)
    plans = list(
        with_progress(current_plans_for_user(user=user), user=user)
        .select_related("organization")
        .order_by("due_on", "pk")[:PLANS_SHOWN]
    )
    history = Paginator(
        StudyRecord.objects.filter(user=user, finished_at__isnull=False)
        .select_related("lesson")
        .order_by("-finished_at", "-id"),
        settings.NETBRANCH_PAGE_SIZE,
    ).get_page(page)
    branch = member.branch if member is not None else None
    return {
        "member": member,
        "plans": plans,
        "points": points_for_user(user=user),
        "history": history,
        "ranking": branch_ranking(organization=branch, user=user) if branch is not None else None,
        "today": timezone.localdate(),
    }


def study_card(*, user, member: Member | None = None) -> dict | None:
    """The home page's study card in two queries: my current plan (running ones first, the
    one due soonest) with its progress, and the next lesson to study (the plan's order, then
    lessons I have opened, then the newest), each carrying my total points. None when there
    is neither a plan nor a lesson to show."""
    remember_member(user, member)
    points = _points_of(user)
    today = timezone.localdate()
    plan = (
        with_progress(current_plans_for_user(user=user), user=user)
        .annotate(my_points=points)
        .order_by(Case(When(starts_on__lte=today, then=Value(0)), default=Value(1)), "due_on", "pk")
        .first()
    )
    lessons = lessons_visible_to(user=user).filter(
        ~Exists(_finished_by(user).filter(lesson=OuterRef("pk")))
    )
    lessons = lessons.annotate(
        opened=Exists(StudyRecord.objects.filter(user=user, lesson=OuterRef("pk"))),
        my_points=points,
    )
    ordering = [F("opened").desc(), "-published_at", "-id"]
    if plan is not None:
        position = (
            StudyPlanItem.objects.filter(plan=plan, lesson=OuterRef("pk"))
            .order_by("order", "id")
            .values("order")[:1]
        )
        lessons = lessons.annotate(plan_order=Subquery(position, output_field=IntegerField()))
        ordering.insert(0, F("plan_order").asc(nulls_last=True))
    lesson = lessons.order_by(*ordering).first()
    if plan is None and lesson is None:
        return None
    return {"plan": plan, "lesson": lesson, "points": (plan or lesson).my_points, "today": today}
