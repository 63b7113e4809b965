"""Writes of the activity sync, one module per part: `meetings` (planning, notices, answers,
sign-in, offline entry, reminders), `minutes` (minutes and the ledger), `reflections`,
`cadence` (the daily warning) and `calendar` (personal feeds). The planning services are
re-exported here, as callers used them before the package existed."""

from .meetings import (
    ANNOUNCED_FIELDS,
    MEETING_FIELDS,
    REMINDERS,
    attendance_record,
    attendance_sign_in,
    meeting_cancel,
    meeting_create,
    meeting_publish,
    meeting_record_offline,
    meeting_rsvp,
    meeting_sign_in_code,
    meeting_update,
    meetings_send_reminders,
    sign_in_window,
)

__all__ = [
    "ANNOUNCED_FIELDS",
    "MEETING_FIELDS",
    "REMINDERS",
    "attendance_record",
    "attendance_sign_in",
    "meeting_cancel",
    "meeting_create",
    "meeting_publish",
    "meeting_record_offline",
    "meeting_rsvp",
    "meeting_sign_in_code",
    "meeting_update",
    "meetings_send_reminders",
    "sign_in_window",
]
