"""Writes of the paper packs: a meeting's short code (given when missing: the rows made in bulk
have none until announced or printed), and the entry of a paper sign-in sheet by that code —
who was present, the minutes, a photo of the sheet and the reflections written on it, typed or
photographed — which enters the meeting as held offline (`meeting_record_offline`)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.uploads import validate_image

from ..models import Meeting, Reflection, unused_short_code
from ..selectors import reflections as reflection_selectors
from .meetings import meeting_record_offline
from .minutes import delete_image_on_commit


def meeting_ensure_short_code(*, meeting: Meeting) -> str:
    """Give the meeting a short code if it has none (a conditional update: two pages printing
    the same meeting at once agree on one code). Returns the code."""
    if meeting.short_code:
        return meeting.short_code
    for _attempt in range(5):
        code = unused_short_code()
        try:
            with transaction.atomic():
                Meeting.objects.filter(pk=meeting.pk, short_code__isnull=True).update(
                    short_code=code
                )
        except IntegrityError:  # taken meanwhile by another meeting: draw again
            continue
        meeting.short_code = Meeting.objects.values_list("short_code", flat=True).get(pk=meeting.pk)
        return meeting.short_code
    raise RuntimeError("no free short code found")


@dataclass(frozen=True)
class SheetReflection:
    """One reflection from the paper sheet: its author's user id, the typed text and/or a photo
    of the handwritten one."""

    user_id: int
    body: str = ""
    photo: object = None


@dataclass
class SheetResult:
    meeting: Meeting
    present: int
    written: int  # reflections created or changed from the sheet
    kept: int  # reflections the members wrote themselves, left as they are


def _clean_reflections(
    meeting: Meeting, reflections: Iterable[SheetReflection], present: set[int]
) -> list[SheetReflection]:
    """Check every reflection before anything is written (a refused photo stores nothing)."""
    cleaned, errors = [], {}
    limit = reflection_selectors.max_length()
    for each in reflections:
        body = (each.body or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        body = body.strip()
        if not body and each.photo is None:
            continue
        key = f"reflection_{each.user_id}"
        if not reflection_selectors.takes_reflections(meeting):
            raise ValidationError(
                _("Reflections are written after a Party lesson or a themed Party day only.")
            )
        if each.user_id not in present:
            errors[key] = _("A reflection is entered for someone ticked present only.")
            continue
        if len(body) > limit:
            errors[key] = _("A reflection has at most %(max)s characters (this one has %(n)s).") % {
                "max": limit,
                "n": len(body),
            }
            continue
        photo = None
        if each.photo is not None:
            try:
                photo = validate_image(each.photo)
            except ValidationError as exc:
                errors[f"reflection_photo_{each.user_id}"] = exc.messages
                continue
        cleaned.append(SheetReflection(user_id=each.user_id, body=body, photo=photo))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _store_reflection(meeting: Meeting, item: SheetReflection, by, existing) -> str:
    """Create or update one reflection from the sheet: "written", "unchanged" (the same sheet
    entered again), or "kept" when the member wrote their own online: the sheet never
    overwrites what a member wrote."""
    if existing is not None and existing.entered_by_id is None:
        return "kept"
    if existing is None:
        reflection = Reflection(meeting=meeting, author_id=item.user_id, body=item.body, entered_by=by)  # fmt: skip
        if item.photo is not None:
            reflection.photo = item.photo
        try:
            with transaction.atomic():
                reflection.save()
        except IntegrityError:  # the member's own, written meanwhile
            if item.photo is not None:
                delete_image_on_commit(reflection.photo.storage, reflection.photo.name)
            return "kept"
        return "written"
    changed = []
    if item.body and item.body != existing.body:
        existing.body = item.body
        changed.append("body")
    if item.photo is not None:
        old = existing.photo.name if existing.photo else ""
        existing.photo = item.photo
        changed.append("photo")
        delete_image_on_commit(existing.photo.storage, old)
    if changed:
        existing.entered_by = by
        existing.save(update_fields=[*changed, "entered_by", "updated_at"])
        return "written"
    return "unchanged"


@transaction.atomic
def meeting_enter_sheet(
    *,
    meeting: Meeting,
    by,
    present_user_ids: Iterable[int],
    minutes: str | None = None,
    sign_in_sheet=None,
    reflections: Iterable[SheetReflection] = (),
) -> SheetResult:
    """Enter a paper sign-in sheet: the meeting is entered as held offline (who was present,
    the minutes, a photo of the sheet; `meeting_record_offline` checks who may, that it took
    place, is not cancelled and its minutes are not confirmed), and each reflection on the sheet
    is stored once per member (typed, photographed or both). Everything is checked before
    anything is written; entering the same sheet again changes nothing more (no second
    reflection, the attendance recorded once)."""
    present = {int(pk) for pk in present_user_ids}
    items = _clean_reflections(meeting, reflections, present)
    stored = meeting_record_offline(
        meeting=meeting,
        by=by,
        present_user_ids=present,
        minutes=minutes,
        sign_in_sheet=sign_in_sheet,
    )
    existing = {
        r.author_id: r
        for r in Reflection.objects.select_for_update(of=("self",)).filter(
            meeting=stored, author_id__in=[i.user_id for i in items]
        )
    }
    written = kept = 0
    for item in items:
        outcome = _store_reflection(stored, item, by, existing.get(item.user_id))
        kept += outcome == "kept"
        written += outcome == "written"
    return SheetResult(meeting=stored, present=len(present), written=written, kept=kept)
