"""Writes of the activity sync: planning, publishing, changing and cancelling meetings (with
their notices), RSVPs, sign-in (button, rotating QR code, recorded by the recorder), meetings
held offline, and the reminders 24 hours and 1 hour before."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization
from branches.services import timeline_record
from core.richtext import sanitize_html
from core.services import model_update
from members.models import ActivityFact, Member
from members.services import member_activity_record
from notifications.services import Audience, notify

from .. import selectors
from ..models import Attendance, Meeting, MeetingReminder

MEETING_FIELDS = (
    "organization", "kind", "title", "agenda", "starts_at", "ends_at", "place", "format",
    "video_link", "host", "recorder",
)  # fmt: skip
#: A change of these on a published meeting is announced again.
ANNOUNCED_FIELDS = ("starts_at", "ends_at", "place")
REMINDERS = ((MeetingReminder.Kind.DAY, timedelta(hours=24)), (MeetingReminder.Kind.HOUR, timedelta(hours=1)))  # fmt: skip


def _require_manage(by, organization: Organization) -> None:
    if not scope.can_manage(by, organization):
        raise PermissionDenied(_("You may not manage meetings of %(org)s.") % {"org": organization})


def _locked(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=meeting.pk)
    )


def _audience(meeting: Meeting) -> Audience:
    return Audience("meetings.attendees", {"meeting": meeting.pk})


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# --- planning -------------------------------------------------------------------------------


@transaction.atomic
def meeting_create(*, by, lessons: Iterable | None = None, **fields) -> Meeting:
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require_manage(by, fields["organization"])
    meeting = Meeting(created_by=by, status=Meeting.Status.PLANNED, **fields)
    meeting.agenda = sanitize_html(meeting.agenda)
    meeting.full_clean()
    meeting.save()
    if lessons is not None:
        meeting.lessons.set(lessons)
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, by, fields: dict) -> Meeting:
    """Change a planned meeting. On a published one, a change of time or place tells the
    expected attendees again, and the notice says what changed."""
    stored = _locked(meeting)
    _require_manage(by, stored.organization)
    fields = dict(fields)
    lessons = fields.pop("lessons", None)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    if stored.status != Meeting.Status.PLANNED:
        raise ValidationError(_("Only a planned meeting can be changed."))
    if stored.is_published:
        moved = [
            name
            for name in ("organization", "kind")
            if name in fields and fields[name] != getattr(stored, name)
        ]
        if moved:
            # Who is expected follows from these: cancel and announce a new meeting instead.
            raise ValidationError(
                _(
                    "The notice has gone out: the organisation and the kind of the meeting can no longer change."
                )
            )
    if "agenda" in fields:
        fields["agenda"] = sanitize_html(fields["agenda"])
    changed = model_update(instance=stored, fields=fields, allowed=MEETING_FIELDS)
    if lessons is not None:
        stored.lessons.set(lessons)
    if stored.is_published and set(changed) & set(ANNOUNCED_FIELDS):
        what = []
        if {"starts_at", "ends_at"} & set(changed):
            what.append(
                _("time changed to %(start)s–%(end)s")
                % {"start": _when(stored.starts_at), "end": _when(stored.ends_at)}
            )
        if "place" in changed:
            what.append(_("place changed to %(place)s") % {"place": stored.place or "—"})
        notify(
            kind="meeting_changed",
            target=stored,
            audience=_audience(stored),
            by=by,
            subject=f"{stored.title}: {'; '.join(what)}",
        )
    return stored


@transaction.atomic
def meeting_publish(*, meeting: Meeting, by) -> Meeting:
    """Send the notice to the expected attendees, once: publishing again changes nothing."""
    stored = _locked(meeting)
    _require_manage(by, stored.organization)
    if stored.is_published:
        return stored
    if stored.status != Meeting.Status.PLANNED:
        raise ValidationError(_("Only a planned meeting can be announced."))
    model_update(
        instance=stored, fields={"published_at": timezone.now()}, allowed=("published_at",), clean=False
    )  # fmt: skip
    notify(
        kind="meeting_published",
        target=stored,
        audience=_audience(stored),
        by=by,
        subject=f"{stored.title} ({_when(stored.starts_at)}{', ' + stored.place if stored.place else ''})",
    )  # fmt: skip
    return stored


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by, reason: str) -> Meeting:
    stored = _locked(meeting)
    _require_manage(by, stored.organization)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancelled_reason": _("Say why the meeting is cancelled.")})
    if stored.status != Meeting.Status.PLANNED:
        raise ValidationError(_("Only a planned meeting can be cancelled."))
    model_update(
        instance=stored,
        fields={"status": Meeting.Status.CANCELLED, "cancelled_reason": reason},
        allowed=("status", "cancelled_reason"),
        clean=False,
    )
    if stored.is_published:
        notify(
            kind="meeting_cancelled",
            target=stored,
            audience=_audience(stored),
            by=by,
            subject=f"{stored.title} ({_when(stored.starts_at)}): {reason}",
        )
    return stored


# --- answers and sign-in --------------------------------------------------------------------


def _require_expected(meeting: Meeting, user) -> None:
    if not selectors.is_expected(meeting, user):
        raise PermissionDenied(_("You are not expected at this meeting."))


def _require_open(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.PLANNED or not meeting.is_published:
        raise ValidationError(
            _("This meeting is not open: it is not announced, held or cancelled.")
        )


@transaction.atomic
def meeting_rsvp(*, meeting: Meeting, user, coming: bool, reason: str = "") -> Attendance:
    """Before the start, an expected attendee says they will come or asks for leave."""
    _require_expected(meeting, user)
    _require_open(meeting)
    now = timezone.now()
    if now >= meeting.starts_at:
        raise ValidationError(_("The meeting has started: it is too late to answer."))
    reason = (reason or "").strip()
    if not coming and not reason:
        raise ValidationError({"leave_reason": _("Give a reason for your leave.")})
    attendance, _created = Attendance.objects.update_or_create(
        meeting=meeting,
        user=user,
        defaults={
            "rsvp": Attendance.Rsvp.COMING if coming else Attendance.Rsvp.LEAVE,
            "leave_reason": "" if coming else reason,
            "answered_at": now,
        },
    )
    return attendance


def _step(at: datetime) -> int:
    return int(at.timestamp()) // max(1, settings.NETBRANCH_SIGN_IN_CODE_SECONDS)


def _code_for_step(meeting_id: int, step: int) -> str:
    return salted_hmac("meetings.sign_in", f"{meeting_id}:{step}", algorithm="sha256").hexdigest()[:10]  # fmt: skip


def meeting_sign_in_code(meeting: Meeting, at: datetime | None = None) -> str:
    """The code the host's QR shows at `at`: an HMAC (SECRET_KEY) of the meeting and the
    current step of NETBRANCH_SIGN_IN_CODE_SECONDS."""
    return _code_for_step(meeting.pk, _step(at or timezone.now()))


def _check_code(meeting: Meeting, code: str | None, at: datetime) -> None:
    step = _step(at)
    if code and any(constant_time_compare(code, _code_for_step(meeting.pk, s)) for s in (step, step - 1)):  # fmt: skip
        return
    raise ValidationError(
        {"code": _("This sign-in code has expired or is wrong: scan the code the host shows now.")}
    )


def sign_in_window(meeting: Meeting) -> tuple[datetime, datetime]:
    return (
        meeting.starts_at - timedelta(minutes=settings.NETBRANCH_SIGN_IN_OPENS_MINUTES),
        meeting.starts_at + timedelta(minutes=settings.NETBRANCH_SIGN_IN_CLOSES_MINUTES),
    )


def _mark_present(
    meeting: Meeting, user, *, at: datetime, via: str, recorded_by=None
) -> Attendance:
    """Sign a user in once: the conditional update makes a second sign-in (a double tap, a
    race) change nothing and report the activity fact once."""
    attendance, _created = Attendance.objects.get_or_create(meeting=meeting, user=user)
    first = Attendance.objects.filter(pk=attendance.pk, signed_in_at__isnull=True).update(
        signed_in_at=at, via=via, recorded_by=recorded_by
    )
    if first:
        member = Member.objects.filter(user=user).first()
        if member is not None:
            member_activity_record(member=member, kind=ActivityFact.Kind.ATTENDED, at=at)
    attendance.refresh_from_db()
    return attendance


@transaction.atomic
def attendance_sign_in(
    *, meeting: Meeting, user, via: str, code: str | None = None, at: datetime | None = None
) -> Attendance:
    """An expected attendee signs in within the window around the start, by the button or by
    the host's QR code (the current or the previous code)."""
    at = at or timezone.now()
    _require_expected(meeting, user)
    _require_open(meeting)
    if via not in (Attendance.Via.BUTTON, Attendance.Via.QR):
        raise ValueError(f"cannot sign in via {via!r}")
    opens, closes = sign_in_window(meeting)
    if not opens <= at <= closes:
        raise ValidationError(
            _("Sign-in is open from %(opens)s to %(closes)s.")
            % {"opens": _when(opens), "closes": _when(closes)}
        )
    if via == Attendance.Via.QR:
        _check_code(meeting, code, at)
    return _mark_present(meeting, user, at=at, via=via)


def _require_recorder(meeting: Meeting, by) -> None:
    if not (
        (meeting.recorder_id and meeting.recorder_id == getattr(by, "pk", None))
        or scope.can_manage(by, meeting.organization)
    ):
        raise PermissionDenied(_("Only the recorder or the secretary records attendance."))


@transaction.atomic
def attendance_record(*, meeting: Meeting, user, by, at: datetime | None = None) -> Attendance:
    """The recorder (or a secretary) records a member present who has no phone."""
    at = at or timezone.now()
    meeting = _locked(meeting)  # a confirmation waits for this record, or this for it
    _require_recorder(meeting, by)
    _require_expected(meeting, user)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if meeting.minutes_confirmed_at is not None:
        raise ValidationError(_("The minutes are confirmed: they can no longer be changed."))
    if at < sign_in_window(meeting)[0]:
        raise ValidationError(_("The meeting has not started yet."))
    return _mark_present(meeting, user, at=at, via=Attendance.Via.RECORDED, recorded_by=by)


@transaction.atomic
def meeting_record_offline(
    *,
    meeting: Meeting,
    by,
    present_user_ids: Iterable[int],
    minutes: str | None = None,
    sign_in_sheet=None,
) -> Meeting:
    """A meeting held where there is no network, entered afterwards by the secretary or the
    recorder with who was present: it counts as held, marked "held offline" with the date it
    was entered. Optionally with its minutes (sanitised rich text) and a photo of the paper
    sign-in sheet (checked and re-encoded by `core`). Refused once the minutes are confirmed."""
    from django.contrib.auth import get_user_model

    from .minutes import clean_sign_in_sheet, delete_image_on_commit, require_minutes_open

    stored = _locked(meeting)
    _require_recorder(stored, by)
    now = timezone.now()
    if stored.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if stored.starts_at > now:
        raise ValidationError(_("A meeting can be entered only after it took place."))
    require_minutes_open(stored)
    present = set(present_user_ids)
    expected = set(selectors.expected_attendees(stored).filter(pk__in=present).values_list("pk", flat=True))  # fmt: skip
    if present - expected:
        raise ValidationError(_("Only expected attendees can be recorded present."))
    sheet = clean_sign_in_sheet(sign_in_sheet) if sign_in_sheet is not None else None
    was_held = stored.status == Meeting.Status.HELD
    fields = {"status": Meeting.Status.HELD, "held_offline": True, "entered_at": now}
    if minutes is not None and sanitize_html(minutes) != stored.minutes:
        fields.update(minutes=sanitize_html(minutes), minutes_written_by=by)
    old_sheet = stored.sign_in_sheet.name if stored.sign_in_sheet else ""
    if sheet is not None:
        fields["sign_in_sheet"] = sheet
    model_update(
        instance=stored,
        fields=fields,
        allowed=("status", "held_offline", "entered_at", "minutes", "minutes_written_by", "sign_in_sheet"),
        clean=False,
    )  # fmt: skip
    if sheet is not None:
        delete_image_on_commit(stored.sign_in_sheet.storage, old_sheet)
    # Not type(by): a view passes request.user, a lazy object.
    users = get_user_model().objects.filter(pk__in=expected)
    for user in users:
        _mark_present(
            stored, user, at=stored.starts_at, via=Attendance.Via.RECORDED, recorded_by=by
        )
    if not was_held:
        timeline_record(
            organization=stored.organization,
            kind="meeting_held",
            params={"title": stored.title},
            url=stored.get_absolute_url(),
            at=stored.starts_at,
        )
    return stored


# --- reminders ------------------------------------------------------------------------------

#: Reminders claimed and announced in one transaction. A worker killed in the middle of a
#: batch leaves none of it behind (the next tick sends it); smaller batches would cost more
#: round trips, larger ones hold their meetings' row locks longer.
REMINDER_BATCH = 500


def _due_meetings(now: datetime):
    """The announced, planned meetings due a reminder at `now`, annotated with the kind due
    (`due`): the 24-hour reminder from 24 hours before until 1 hour before, the 1-hour one in
    the last hour; none for a meeting announced inside that window (its notice was just sent)
    nor once the MeetingReminder row exists. One query: an index range scan (`meeting_due`)
    and one anti-join on the reminders (no OR around the subquery, which would keep the
    planner from it and cost a plan expensive enough to be JIT-compiled on every tick)."""
    # A reminder's window ends where the next, shorter one begins; the last one at the start.
    ends = [before for _kind, before in REMINDERS[1:]] + [timedelta(0)]
    due = Case(
        *(
            When(starts_at__gt=now + end, starts_at__lte=now + before, then=Value(kind))
            for (kind, before), end in zip(REMINDERS, ends, strict=True)
        )
    )
    announced_before = Q()
    for kind, before in REMINDERS:
        announced_before |= Q(due=kind, published_at__lte=F("starts_at") - before)
    sent = MeetingReminder.objects.filter(meeting=OuterRef("pk"), kind=OuterRef("due"))
    return (
        Meeting.objects.filter(
            status=Meeting.Status.PLANNED,
            published_at__isnull=False,
            starts_at__gt=now,
            starts_at__lte=now + REMINDERS[0][1],
        )
        .annotate(due=due)
        .filter(announced_before, ~Exists(sent))
        .order_by("starts_at", "pk")
    )


def _claim_reminders(pairs: list[tuple[int, str]], now: datetime) -> set[tuple[int, str]]:
    """Insert the MeetingReminder rows of (meeting id, kind) pairs, skipping those that exist
    or that a concurrent tick is inserting (it waits for that tick's commit): returns the
    pairs this call inserted, the reminders it must send."""
    if not pairs:
        return set()
    table = connection.ops.quote_name(MeetingReminder._meta.db_table)
    sent_at = connection.ops.adapt_datetimefield_value(now)
    values = ", ".join(["(%s, %s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (meeting_id, kind, sent_at) VALUES {values} "  # noqa: S608 - identifiers only
            "ON CONFLICT (meeting_id, kind) DO NOTHING RETURNING meeting_id, kind",
            [value for pk, kind in pairs for value in (pk, kind, sent_at)],
        )
        return {(pk, kind) for pk, kind in cursor.fetchall()}


@transaction.atomic
def _send_reminder_batch(meeting_ids: list[int], now: datetime) -> int:
    # Re-read under row locks, in the order every tick uses (no deadlock between two ticks):
    # a meeting cancelled or moved since the first read is left out, and a change waits
    # until the notice is committed.
    meetings = list(
        _due_meetings(now)
        .filter(pk__in=meeting_ids)
        .select_for_update(no_key=True)
        .only("pk", "title", "starts_at", "place")
    )
    claimed = _claim_reminders([(m.pk, m.due) for m in meetings], now)
    for meeting in meetings:
        if (meeting.pk, meeting.due) in claimed:
            notify(
                kind="meeting_reminder",
                target=meeting,
                audience=_audience(meeting),
                subject=f"{meeting.title} ({_when(meeting.starts_at)}{', ' + meeting.place if meeting.place else ''})",
            )  # fmt: skip
    return len(claimed)


def meetings_send_reminders(*, now: datetime | None = None) -> int:
    """Remind the expected attendees 24 hours and 1 hour before each announced meeting (beat,
    every 5 minutes); returns how many reminders were sent. Each reminder is claimed by
    inserting its MeetingReminder row (unique per meeting and kind) in the same transaction as
    its notice: a doubled tick inserts nothing and sends nothing, a worker killed before the
    commit leaves neither row nor notice, so the next tick sends it. A tick with nothing due
    is one query; a due one adds per batch of REMINDER_BATCH two queries, and one notice per
    meeting (notifications.notify)."""
    now = now or timezone.now()
    due = list(_due_meetings(now).values_list("pk", flat=True))
    sent = 0
    for start in range(0, len(due), REMINDER_BATCH):
        sent += _send_reminder_batch(due[start : start + REMINDER_BATCH], now)
    return sent
