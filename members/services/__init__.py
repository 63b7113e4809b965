"""Writes on members: their records and participations (`records`), transfers of their
registration (`transfers`), join requests (`joins`) and invitations (`invitations`). Import
from here."""

from .invitations import (
    INVITATION_SESSION_KEY,
    InvitationRefused,
    invitation_accept,
    invitation_check,
    invitation_create,
    invitation_email_send,
    invitation_path,
    invitation_pending,
    invitation_revoke,
    member_refusal,
)
from .joins import (
    join_request_approve,
    join_request_refuse,
    join_request_send,
    join_request_withdraw,
)
from .outreach import outreach_attempt_log, outreach_case_close, outreach_case_open
from .radar import contact_cutoffs, members_update_contact_status
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
from .register import IMPORT_COLUMNS, ImportRejected, members_import, read_rows
from .sites import REHOME_ACTIONS, site_attach, site_rehome
from .transfers import (
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
    transfers_flag_overdue,
)

__all__ = [
    "IMPORT_COLUMNS",
    "INVITATION_SESSION_KEY",
    "MEMBER_FIELDS",
    "OWN_FIELDS",
    "REHOME_ACTIONS",
    "ImportRejected",
    "InvitationRefused",
    "contact_cutoffs",
    "invitation_accept",
    "invitation_check",
    "invitation_create",
    "invitation_email_send",
    "invitation_path",
    "invitation_pending",
    "invitation_revoke",
    "join_request_approve",
    "join_request_refuse",
    "join_request_send",
    "join_request_withdraw",
    "member_activity_record",
    "member_create",
    "member_own_update",
    "member_refusal",
    "member_update",
    "members_import",
    "members_update_contact_status",
    "outreach_attempt_log",
    "outreach_case_close",
    "outreach_case_open",
    "participation_end",
    "participation_start",
    "read_rows",
    "site_attach",
    "site_rehome",
    "transfer_accept",
    "transfer_refuse",
    "transfer_release",
    "transfer_request",
    "transfer_withdraw",
    "transfers_flag_overdue",
]
