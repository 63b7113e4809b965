"""Writes of the reflections (心得体会): a member writes (and edits) their reflection after a
Party lesson or a themed Party day; a manager asks for reflections and reminds, at most once a
day, those who have not written one."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from notifications.services import Audience, notify, remind_once_a_day

from ..models import Meeting, Reflection, ReflectionReminder
from ..selectors import reflections as selectors
from ..selectors.attendees import is_expected


def _require_kind(meeting: Meeting) -> None:
    if not selectors.takes_reflections(meeting):
        raise ValidationError(
            _("Reflections are written after a Party lesson or a themed Party day only.")
        )


def _require_open(meeting: Meeting) -> None:
    _require_kind(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if meeting.starts_at > timezone.now():
        raise ValidationError(_("Reflections can be written once the meeting has started."))


def _require_manage(meeting: Meeting, by) -> None:
    if not scope.can_manage(by, meeting.organization):
        raise PermissionDenied(
            _("You may not manage meetings of %(org)s.") % {"org": meeting.organization}
        )


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not body:
        raise ValidationError({"body": _("Write your reflection first.")})
    limit = selectors.max_length()
    if len(body) > limit:
        raise ValidationError(
            {
                "body": _("A reflection has at most %(max)s characters (this one has %(n)s).")
                % {"max": limit, "n": len(body)}
            }
        )
    return body


def _list_url(meeting: Meeting) -> str:
    return reverse("meetings:reflections", args=[meeting.pk])


@transaction.atomic
def reflection_write(*, meeting: Meeting, author, body: str) -> Reflection:
    """An expected attendee writes their reflection on a Party lesson or a themed day once it
    has started (and is not cancelled); writing again edits it. One row per member and
    meeting, whatever the double submits and races (the unique constraint decides)."""
    _require_kind(meeting)
    if not is_expected(meeting, author):
        raise PermissionDenied(_("You are not expected at this meeting."))
    _require_open(meeting)
    body = _clean_body(body)
    reflection = Reflection.objects.select_for_update().filter(meeting=meeting, author=author).first()  # fmt: skip
    if reflection is None:
        try:
            with transaction.atomic():
                return Reflection.objects.create(meeting=meeting, author=author, body=body)
        except IntegrityError:  # a concurrent first submit won: edit that row
            reflection = Reflection.objects.select_for_update().get(meeting=meeting, author=author)
    if reflection.body != body:
        reflection.body = body
        reflection.save(update_fields=["body", "updated_at"])
    return reflection


@transaction.atomic
def reflections_request(*, meeting: Meeting, by) -> bool:
    """A manager asks the expected attendees for their reflections: once per meeting (asking
    again changes nothing and returns False)."""
    _require_manage(meeting, by)
    _require_open(meeting)
    now = timezone.now()
    first = Meeting.objects.filter(pk=meeting.pk, reflections_requested_at__isnull=True).update(
        reflections_requested_at=now
    )
    if not first:
        return False
    meeting.reflections_requested_at = now
    notify(
        kind="reflections_requested",
        target=meeting,
        audience=Audience("meetings.attendees", {"meeting": meeting.pk}),
        by=by,
        subject=f"{meeting.title} ({timezone.localtime(meeting.starts_at):%Y-%m-%d})",
        url=_list_url(meeting),
    )
    return True


@transaction.atomic
def reflections_remind(*, meeting: Meeting, by) -> int:
    """Remind those expected who have not written their reflection, at most once a day (a
    database rule). Returns how many are reminded; 0 when today's reminder has gone out."""
    _require_manage(meeting, by)
    _require_open(meeting)
    return remind_once_a_day(
        claim_model=ReflectionReminder,
        target_field="meeting",
        target=meeting,
        by=by,
        kind="reflections_reminder",
        audience=Audience("meetings.reflection_missing", {"meeting": meeting.pk}),
        count=selectors.reflection_missing(meeting),
    )
