"""Writes of the study sync: lessons (reading time, publishing, scheduling, sharing), plans,
study records, checks and points."""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from core.services import model_update
from members.models import ActivityFact, Member
from members.services import member_activity_record
from notifications.services import Audience, notify, remind_once_a_day

from .models import (
    MICRO_LESSON_MAX_MINUTES,
    CheckAttempt,
    Document,
    DocumentRead,
    Lesson,
    LessonReminder,
    LessonShare,
    PointsEntry,
    StudyPlan,
    StudyRecord,
)

# --- reading time ---------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’-][A-Za-z0-9\u00c0-\u024f]+)*")


class _TextAndImages(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images = 0

    def handle_data(self, data):
        self.text.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images += 1
        elif tag in {"p", "br", "li", "h2", "h3", "h4", "td", "th", "blockquote"}:
            self.text.append(" ")


def reading_seconds(body_html: str, *, video_minutes: int | None = None) -> int:
    """How long a lesson takes, documented reading speeds (settings):

    - Chinese (and other CJK) characters at NETBRANCH_READING_CJK_PER_MINUTE (300/min, a phone
      reader's pace for study material),
    - Latin-script words and numbers at NETBRANCH_READING_WORDS_PER_MINUTE (200/min),
    - NETBRANCH_READING_SECONDS_PER_IMAGE per picture (12 s),
    - plus the video's length.
    """
    parser = _TextAndImages()
    parser.feed(body_html or "")
    text = "".join(parser.text)
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    seconds = cjk * 60 / settings.NETBRANCH_READING_CJK_PER_MINUTE
    seconds += words * 60 / settings.NETBRANCH_READING_WORDS_PER_MINUTE
    seconds += parser.images * settings.NETBRANCH_READING_SECONDS_PER_IMAGE
    seconds += (video_minutes or 0) * 60
    return math.ceil(seconds)


def reading_minutes(body_html: str, *, video_minutes: int | None = None) -> int:
    """Whole minutes, at least one."""
    return max(1, math.ceil(reading_seconds(body_html, video_minutes=video_minutes) / 60))


# --- lessons --------------------------------------------------------------------------------

LESSON_FIELDS = (
    "kind", "title", "summary", "body", "cover", "organization", "speaker", "video_file", "video_url",
    "video_minutes", "for_office", "for_front_line", "for_remote", "for_full", "for_probationary",
    "committee_only",
)  # fmt: skip


def _require_manage(by, organization: Organization, roles=scope.MANAGE_ROLES) -> None:
    if not scope.can_manage(by, organization, roles):
        raise PermissionDenied(_("You may not publish for %(org)s.") % {"org": organization})


def _check_video(lesson: Lesson) -> None:
    if lesson.video_url:
        host = (urlsplit(lesson.video_url).hostname or "").lower()
        if urlsplit(lesson.video_url).scheme != "https" or host not in {
            h.lower() for h in settings.NETBRANCH_VIDEO_HOSTS
        }:
            raise ValidationError(
                {"video_url": _("Videos may be linked from these sites only (https): %(hosts)s.")
                 % {"hosts": ", ".join(settings.NETBRANCH_VIDEO_HOSTS)}}
            )  # fmt: skip
    if lesson.kind == Lesson.Kind.VIDEO and not (lesson.video_file or lesson.video_url):
        raise ValidationError({"video_file": _("A video lesson needs a video file or a link.")})


def _apply_reading_time(lesson: Lesson) -> None:
    lesson.reading_minutes = reading_minutes(lesson.body, video_minutes=lesson.video_minutes)
    if lesson.kind == Lesson.Kind.MICRO and lesson.reading_minutes > MICRO_LESSON_MAX_MINUTES:
        raise ValidationError(
            {"body": _("A micro-lesson takes 20 minutes at most; this one takes %(n)s. Shorten it or make it an online lesson.")
             % {"n": lesson.reading_minutes}}
        )  # fmt: skip


@transaction.atomic
def lesson_create(*, by, **fields) -> Lesson:
    unknown = set(fields) - set(LESSON_FIELDS) - {"topics"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    topics = fields.pop("topics", None)
    _require_manage(by, fields["organization"])
    lesson = Lesson(author=by, status=Lesson.Status.DRAFT, **fields)
    _check_video(lesson)
    from core.richtext import sanitize_html

    lesson.body = sanitize_html(lesson.body)  # the reading time counts what will be shown
    _apply_reading_time(lesson)
    lesson.full_clean()
    lesson.save()
    if topics is not None:
        lesson.topics.set(topics)
    return lesson


@transaction.atomic
def lesson_update(*, lesson: Lesson, by, fields: dict) -> Lesson:
    stored = (
        Lesson.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=lesson.pk)
    )
    _require_manage(by, stored.organization)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    fields = dict(fields)
    topics = fields.pop("topics", None)
    for name, value in fields.items():
        if name not in LESSON_FIELDS:
            raise TypeError(f"cannot update {name}")
        setattr(stored, name, value)
    from core.richtext import sanitize_html

    stored.body = sanitize_html(stored.body)
    _check_video(stored)
    _apply_reading_time(stored)
    stored.full_clean()
    stored.save()
    if topics is not None:
        stored.topics.set(topics)
    return stored


def _announce(lesson: Lesson, by) -> None:
    notify(
        kind="lesson_published",
        target=lesson,
        audience=Audience("lessons.lesson_audience", {"lesson": lesson.pk}),
        by=by,
    )
    timeline_record(
        organization=lesson.organization,
        kind="lesson_published",
        params={"title": lesson.title},
        url=lesson.get_absolute_url(),
        at=lesson.published_at,
    )


@transaction.atomic
def lesson_publish(*, lesson: Lesson, by) -> Lesson:
    """Publish now and notify the audience, once: publishing a published lesson changes nothing."""
    stored = (
        Lesson.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=lesson.pk)
    )
    _require_manage(by, stored.organization)
    if stored.status == Lesson.Status.PUBLISHED:
        return stored
    first_time = stored.published_at is None  # not an archived lesson published again
    model_update(
        instance=stored,
        fields={
            "status": Lesson.Status.PUBLISHED,
            "published_at": stored.published_at or timezone.now(),
            "publish_at": None,
        },
        allowed=("status", "published_at", "publish_at"),
        clean=False,
    )
    if first_time:
        _announce(stored, by)
    return stored


@transaction.atomic
def lesson_schedule(*, lesson: Lesson, by, publish_at: datetime) -> Lesson:
    stored = (
        Lesson.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=lesson.pk)
    )
    _require_manage(by, stored.organization)
    if stored.status == Lesson.Status.PUBLISHED:
        raise ValidationError(_("This lesson is already published."))
    if publish_at <= timezone.now():
        raise ValidationError({"publish_at": _("Choose a time in the future.")})
    model_update(
        instance=stored,
        fields={"status": Lesson.Status.SCHEDULED, "publish_at": publish_at},
        allowed=("status", "publish_at"),
        clean=False,
    )
    return stored


def lessons_publish_due(*, now: datetime | None = None) -> int:
    """Publish the scheduled lessons whose time has come (beat, every minute). Each is claimed
    with a conditional update, so two beats or two workers publish and notify it once."""
    now = now or timezone.now()
    published = 0
    due = list(
        Lesson.objects.filter(status=Lesson.Status.SCHEDULED, publish_at__lte=now).values_list(
            "pk", flat=True
        )[:200]
    )
    for pk in due:
        with transaction.atomic():
            scheduled = Lesson.objects.filter(pk=pk, status=Lesson.Status.SCHEDULED)
            first_time = scheduled.filter(published_at__isnull=True).update(
                status=Lesson.Status.PUBLISHED, published_at=now, publish_at=None, updated_at=now
            )
            # An archived lesson scheduled again keeps its first publication and its audience
            # is not told twice.
            claimed = first_time or scheduled.update(
                status=Lesson.Status.PUBLISHED, publish_at=None, updated_at=now
            )
            if not claimed:
                continue
            published += 1
            if first_time:
                lesson = Lesson.objects.select_related("organization", "author").get(pk=pk)
                _announce(lesson, lesson.author)
    return published


@transaction.atomic
def lesson_archive(*, lesson: Lesson, by) -> Lesson:
    stored = (
        Lesson.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=lesson.pk)
    )
    _require_manage(by, stored.organization)
    model_update(
        instance=stored, fields={"status": Lesson.Status.ARCHIVED}, allowed=("status",), clean=False
    )
    return stored


@transaction.atomic
def lesson_share(*, lesson: Lesson, organization: Organization, by) -> LessonShare:
    """A reviewer shares a published lesson of their subtree with a wider organisation of it;
    the new audience (not those who had it already) is notified once."""
    _require_manage(by, organization, scope.REVIEW_ROLES)
    _require_manage(by, lesson.organization, scope.REVIEW_ROLES)
    if not lesson.is_published:
        raise ValidationError(_("Publish the lesson before sharing it."))
    if organization.path.startswith(lesson.organization.path):  # its organisation or under it
        raise ValidationError(_("The lesson is already published there."))
    share, created = LessonShare.objects.get_or_create(
        lesson=lesson, organization=organization, defaults={"shared_by": by}
    )
    if created:
        notify(
            kind="lesson_shared",
            target=lesson,
            audience=Audience("lessons.share_audience", {"share": share.pk}),
            by=by,
        )
    return share


@transaction.atomic
def lesson_remind_unfinished(*, lesson: Lesson, by) -> int:
    """Remind the audience members who have not finished the lesson, once a day at most."""
    _require_manage(by, lesson.organization)
    if not lesson.is_published:
        raise ValidationError(_("Publish the lesson before reminding anyone."))
    from .selectors import audience_lesson_unfinished

    return remind_once_a_day(
        claim_model=LessonReminder,
        target_field="lesson",
        target=lesson,
        by=by,
        kind="lesson_reminder",
        audience=Audience("lessons.lesson_unfinished", {"lesson": lesson.pk}),
        count=audience_lesson_unfinished(lesson=lesson.pk),
    )


# --- studying -------------------------------------------------------------------------------


@dataclass
class CheckResult:
    passed: bool
    already_passed: bool
    correct: dict[int, bool]  # question id -> answered right
    points: int  # added by this answer


def _member_of(user) -> Member | None:
    return Member.objects.filter(user=user).first()


def _award(*, user, lesson: Lesson, reason: str, points: int, at: datetime) -> int:
    """Add points once per (user, lesson, reason); returns what was added (0 on a replay)."""
    try:
        with transaction.atomic():
            PointsEntry.objects.create(
                user=user, lesson=lesson, reason=reason, points=points, earned_at=at
            )
    except IntegrityError:
        return 0
    return points


def study_open(*, lesson: Lesson, user, at: datetime | None = None) -> StudyRecord:
    """Opening a lesson starts the member's record (once)."""
    record, _created = StudyRecord.objects.get_or_create(
        user=user, lesson=lesson, defaults={"started_at": at or timezone.now()}
    )
    return record


def _finish_if_done(record: StudyRecord, lesson: Lesson, at: datetime) -> int:
    """Finished = marked, and the check passed where the lesson has one. Returns points added."""
    has_check = lesson.questions.exists()
    if record.finished_at or not record.marked_at or (has_check and not record.check_passed_at):
        return 0
    claimed = StudyRecord.objects.filter(pk=record.pk, finished_at__isnull=True).update(
        finished_at=at
    )
    if not claimed:
        return 0
    record.finished_at = at
    added = _award(
        user=record.user,
        lesson=lesson,
        reason=PointsEntry.Reason.FINISHED,
        points=settings.NETBRANCH_POINTS_FINISHED,
        at=at,
    )
    member = _member_of(record.user)
    if member is not None:
        member_activity_record(member=member, kind=ActivityFact.Kind.STUDIED, at=at)
    return added


def _sync_points(record: StudyRecord) -> None:
    total = sum(
        PointsEntry.objects.filter(user=record.user, lesson=record.lesson).values_list(
            "points", flat=True
        )
    )
    StudyRecord.objects.filter(pk=record.pk).update(points=total)
    record.points = total


@transaction.atomic
def study_mark(*, lesson: Lesson, user, at: datetime | None = None) -> StudyRecord:
    """The member marks the lesson studied (offline: with the time it happened). Marking twice
    changes nothing."""
    from .selectors import lesson_visible_to

    if not lesson_visible_to(user, lesson):
        raise PermissionDenied(_("This lesson is not open to you."))
    at = min(at or timezone.now(), timezone.now())
    record = study_open(lesson=lesson, user=user, at=at)
    record = StudyRecord.objects.select_for_update().get(pk=record.pk)
    if record.marked_at is None:
        StudyRecord.objects.filter(pk=record.pk).update(marked_at=at)
        record.marked_at = at
    _finish_if_done(record, lesson, at)
    _sync_points(record)
    return record


@transaction.atomic
def check_answer(
    *, lesson: Lesson, user, answers: dict, client_id=None, at: datetime | None = None
) -> CheckResult:
    """Score the member's answers to a lesson's check. A passed check stays passed (answering
    again adds nothing); a replayed submission (same client id) counts once."""
    from .selectors import lesson_visible_to

    if not lesson_visible_to(user, lesson):
        raise PermissionDenied(_("This lesson is not open to you."))
    questions = list(lesson.questions.all())
    if not questions:
        raise ValidationError(_("This lesson has no check."))
    at = min(at or timezone.now(), timezone.now())
    record = study_open(lesson=lesson, user=user, at=at)
    record = StudyRecord.objects.select_for_update().get(pk=record.pk)
    correct = {
        q.pk: str(answers.get(str(q.pk)) or answers.get(q.pk) or "") == q.correct for q in questions
    }
    if record.check_passed_at is not None:
        return CheckResult(passed=True, already_passed=True, correct=correct, points=0)
    if client_id and CheckAttempt.objects.filter(user=user, client_id=client_id).exists():
        previous = CheckAttempt.objects.get(user=user, client_id=client_id)
        return CheckResult(passed=previous.passed, already_passed=False, correct=correct, points=0)
    passed = all(correct.values())
    try:
        with transaction.atomic():
            CheckAttempt.objects.create(
                user=user, lesson=lesson, answers={str(k): v for k, v in answers.items()}, passed=passed,
                client_id=client_id, answered_at=at,
            )  # fmt: skip
    except IntegrityError:  # the same client id at the same moment: the other one counts
        return CheckResult(passed=passed, already_passed=False, correct=correct, points=0)
    points = 0
    if passed:
        StudyRecord.objects.filter(pk=record.pk).update(check_passed_at=at)
        record.check_passed_at = at
        points += _award(
            user=user,
            lesson=lesson,
            reason=PointsEntry.Reason.CHECK,
            points=settings.NETBRANCH_POINTS_CHECK,
            at=at,
        )
        points += _finish_if_done(record, lesson, at)
    _sync_points(record)
    return CheckResult(passed=passed, already_passed=False, correct=correct, points=points)


def document_read(*, document: Document, user) -> None:
    DocumentRead.objects.bulk_create(
        [DocumentRead(user=user, document=document, read_at=timezone.now())], ignore_conflicts=True
    )


# --- documents and plans --------------------------------------------------------------------

DOCUMENT_FIELDS = (
    "title", "category", "organization", "summary", "body", "file", "issued_on", "issuer", "published",
    "for_office", "for_front_line", "for_remote", "for_full", "for_probationary", "committee_only",
)  # fmt: skip
PLAN_FIELDS = (
    "title", "description", "organization", "starts_on", "due_on", "for_office", "for_front_line",
    "for_remote", "for_full", "for_probationary", "committee_only",
)  # fmt: skip


def _content_save(model, instance, *, by, fields: dict, allowed, **on_create):
    """Create or update a document or a plan of an organisation the user manages (and, when
    it moves, of the organisation it moves to)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if instance is None or instance.pk is None:
        _require_manage(by, fields["organization"])
        instance = model(**on_create, **fields)
        instance.full_clean()
        instance.save()
        return instance
    stored = (
        model.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=instance.pk)
    )
    _require_manage(by, stored.organization)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    model_update(instance=stored, fields=fields, allowed=allowed)
    return stored


@transaction.atomic
def document_save(*, document: Document | None, by, fields: dict) -> Document:
    if "body" in fields:  # validated as it will be stored: a body of only hostile HTML is none
        from core.richtext import sanitize_html

        fields = {**fields, "body": sanitize_html(fields["body"])}
    return _content_save(Document, document, by=by, fields=fields, allowed=DOCUMENT_FIELDS)


@transaction.atomic
def plan_save(*, plan: StudyPlan | None, by, fields: dict) -> StudyPlan:
    return _content_save(StudyPlan, plan, by=by, fields=fields, allowed=PLAN_FIELDS, author=by)


@transaction.atomic
def plan_publish(*, plan: StudyPlan, by) -> StudyPlan:
    stored = (
        StudyPlan.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=plan.pk)
    )
    _require_manage(by, stored.organization)
    if stored.status == StudyPlan.Status.PUBLISHED:
        return stored
    if not stored.items.exists():
        raise ValidationError(_("Add at least one lesson or document to the plan first."))
    unpublished = stored.items.filter(
        Q(lesson__isnull=False) & ~Q(lesson__status=Lesson.Status.PUBLISHED)
        | Q(document__isnull=False, document__published=False)
    ).select_related("lesson", "document")
    if unpublished.exists():
        raise ValidationError(
            _("Publish the plan's lessons and documents first: %(titles)s.")
            % {"titles": "、".join(str(i) for i in unpublished)}
        )
    model_update(
        instance=stored,
        fields={"status": StudyPlan.Status.PUBLISHED, "published_at": timezone.now()},
        allowed=("status", "published_at"),
        clean=False,
    )
    notify(
        kind="plan_published",
        target=stored,
        audience=Audience("lessons.plan_audience", {"plan": stored.pk}),
        by=by,
    )
    timeline_record(
        organization=stored.organization, kind="plan_published", params={"title": stored.title},
        url=stored.get_absolute_url(), at=stored.published_at,
    )  # fmt: skip
    return stored


def plans_remind_due(*, today=None) -> int:
    """Plans due within NETBRANCH_PLAN_REMINDER_DAYS: remind those who have not finished, once
    per plan (claimed with a conditional update: two beats send it once)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.NETBRANCH_PLAN_REMINDER_DAYS)
    sent = 0
    due = StudyPlan.objects.filter(
        status=StudyPlan.Status.PUBLISHED,
        reminded_at__isnull=True,
        due_on__gte=today,
        due_on__lte=horizon,
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            if not StudyPlan.objects.filter(pk=pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            ):
                continue
            plan = StudyPlan.objects.get(pk=pk)
            notify(
                kind="plan_due_soon",
                target=plan,
                audience=Audience("lessons.plan_unfinished", {"plan": pk}),
                by=None,
            )
            sent += 1
    return sent
