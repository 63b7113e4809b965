"""Writes on members: their records and participations (`records`), transfers of their
registration (`transfers`) and join requests (`joins`). Import from here."""

from .joins import (
    join_request_approve,
    join_request_refuse,
    join_request_send,
    join_request_withdraw,
)
from .records import (
    MEMBER_FIELDS,
    OWN_FIELDS,
    member_activity_record,
    member_create,
    member_own_update,
    member_update,
    participation_end,
    participation_start,
)
from .transfers import (
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
    transfers_flag_overdue,
)

__all__ = [
    "MEMBER_FIELDS",
    "OWN_FIELDS",
    "join_request_approve",
    "join_request_refuse",
    "join_request_send",
    "join_request_withdraw",
    "member_activity_record",
    "member_create",
    "member_own_update",
    "member_update",
    "participation_end",
    "participation_start",
    "transfer_accept",
    "transfer_refuse",
    "transfer_release",
    "transfer_request",
    "transfer_withdraw",
    "transfers_flag_overdue",
]
