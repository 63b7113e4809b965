"""Writes of the minutes (会议记录): marking a meeting held, the recorder's minutes, their
attachments and the photo of the sign-in sheet, and the secretary's confirmation, after which
all of it is read-only and part of the branch's ledger (台账).

Every write locks the meeting row and checks again under the lock: a confirmation racing a
save cannot let a change in after the minutes were confirmed."""

import posixpath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.services import timeline_record
from core.images import rendition_name, rendition_widths
from core.richtext import sanitize_html
from core.services import model_update
from core.uploads import validate_document, validate_image

from .. import selectors
from ..models import Meeting, MeetingAttachment
from ..selectors.minutes import may_keep_minutes, minutes_are_empty


def _locked(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=meeting.pk)
    )


def _require_keeper(meeting: Meeting, by) -> None:
    if not may_keep_minutes(meeting, by):
        raise PermissionDenied(_("Only the recorder or the secretary keeps the minutes."))


def require_minutes_open(meeting: Meeting) -> None:
    """Refuse any change to the minutes, their attachments or the offline entry once the
    minutes are confirmed."""
    if meeting.minutes_confirmed_at is not None:
        raise ValidationError(_("The minutes are confirmed: they can no longer be changed."))


def _require_held(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError(_("Minutes are kept for a meeting once it has been held."))


def clean_sign_in_sheet(image):
    """The photo of a paper sign-in sheet, checked and re-encoded by `core` (refused with a
    ValidationError that says why)."""
    try:
        return validate_image(image)
    except ValidationError as exc:
        raise ValidationError({"sign_in_sheet": exc.messages}) from exc


def delete_image_on_commit(storage, name: str) -> None:
    """Delete a replaced image and its renditions once the transaction commits."""
    if not name:
        return
    names = [name, *(rendition_name(name, width) for width in rendition_widths())]

    def delete() -> None:
        for each in names:
            storage.delete(each)

    transaction.on_commit(delete)


def _store_sheet(stored: Meeting, image) -> list[str]:
    """Put a new photo of the sign-in sheet on the locked row; the old one goes once the
    transaction commits. Returns the changed field names."""
    old = stored.sign_in_sheet.name if stored.sign_in_sheet else ""
    stored.sign_in_sheet = clean_sign_in_sheet(image)
    delete_image_on_commit(stored.sign_in_sheet.storage, old)
    return ["sign_in_sheet"]


@transaction.atomic
def meeting_mark_held(*, meeting: Meeting, by) -> Meeting:
    """The recorder or a manager marks an announced meeting held once it has started. Marking
    it again changes nothing; a cancelled or not yet started meeting is refused (a meeting
    that was never announced is entered afterwards as held offline)."""
    stored = _locked(meeting)
    _require_keeper(stored, by)
    if stored.status == Meeting.Status.HELD:
        return stored
    if stored.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting is cancelled."))
    if not stored.is_published:
        raise ValidationError(
            _("This meeting was never announced: enter it as a meeting held offline instead.")
        )
    if stored.starts_at > timezone.now():
        raise ValidationError(_("The meeting has not started yet."))
    model_update(
        instance=stored, fields={"status": Meeting.Status.HELD}, allowed=("status",), clean=False
    )
    timeline_record(
        organization=stored.organization,
        kind="meeting_held",
        params={"title": stored.title},
        url=stored.get_absolute_url(),
        at=stored.starts_at,
    )
    return stored


@transaction.atomic
def minutes_save(*, meeting: Meeting, by, minutes: str, sign_in_sheet=None) -> Meeting:
    """The recorder or a manager writes or changes the minutes of a held meeting (sanitised
    rich text), optionally with a photo of the paper sign-in sheet. Refused once confirmed."""
    stored = _locked(meeting)
    _require_keeper(stored, by)
    _require_held(stored)
    require_minutes_open(stored)
    changed = []
    cleaned = sanitize_html(minutes)
    if cleaned != stored.minutes:
        stored.minutes = cleaned
        stored.minutes_written_by = by
        changed += ["minutes", "minutes_written_by"]
    if sign_in_sheet is not None:
        changed += _store_sheet(stored, sign_in_sheet)
    if changed:
        stored.save(update_fields=[*changed, "updated_at"])
    return stored


@transaction.atomic
def minutes_confirm(*, meeting: Meeting, by) -> Meeting:
    """A manager of the meeting's organisation (not the recorder as such) confirms the minutes
    of a held meeting: from then on the minutes, their attachments and the offline entry are
    read-only and the meeting is part of the ledger. Confirming again changes nothing."""
    stored = _locked(meeting)
    if not scope.can_manage(by, stored.organization):
        raise PermissionDenied(_("Only the secretary confirms the minutes."))
    if stored.minutes_confirmed_at is not None:
        return stored
    _require_held(stored)
    if minutes_are_empty(stored.minutes):
        raise ValidationError(_("Write the minutes before confirming them."))
    # The ledger keeps who was expected then: later moves in and out of the branch do not
    # change a confirmed record.
    expected = selectors.expected_attendees(stored).count()
    model_update(
        instance=stored,
        fields={
            "minutes_confirmed_at": timezone.now(),
            "minutes_confirmed_by": by,
            "expected_count": expected,
        },
        allowed=("minutes_confirmed_at", "minutes_confirmed_by", "expected_count"),
        clean=False,
    )
    return stored


@transaction.atomic
def minutes_attachment_add(*, meeting: Meeting, by, file, title: str = "") -> MeetingAttachment:
    """Attach a document (PDF or Office, checked by its content in `core`) to the minutes of a
    held meeting. Nothing is stored when the file is refused or the minutes are confirmed."""
    stored = _locked(meeting)
    _require_keeper(stored, by)
    _require_held(stored)
    require_minutes_open(stored)
    if file is None:
        raise ValidationError({"file": _("Choose a file to attach.")})
    try:
        validate_document(file)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    title = (title or "").strip() or posixpath.splitext(posixpath.basename(file.name or ""))[0]
    attachment = MeetingAttachment(meeting=stored, title=title[:120], file=file)
    attachment.full_clean()
    attachment.save()
    return attachment


@transaction.atomic
def minutes_attachment_remove(*, meeting: Meeting, by, attachment_id: int) -> None:
    """Remove an attachment of unconfirmed minutes; its file is deleted after commit."""
    stored = _locked(meeting)
    _require_keeper(stored, by)
    require_minutes_open(stored)
    attachment = MeetingAttachment.objects.filter(meeting=stored, pk=attachment_id).first()
    if attachment is None:
        raise ValidationError(_("This attachment does not exist (any more)."))
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
