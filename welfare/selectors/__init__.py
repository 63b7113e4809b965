"""Reads of the service sync, one module per part: `access` (who sees which activity and case,
the lookups by id), `pages` (the member pages and the home card) and `totals` (per organisation
and period, for the admin and the committee's review). Whose personal data a reader may see is
`welfare.privacy`'s decision."""

from .access import (
    access_activity_by_id,
    access_case_by_id,
    activities_visible_to,
    activity_visible_to,
    cases_visible_to,
    on_my_path,
    with_is_paired,
)
from .pages import (
    activity_detail,
    activity_list_for_user,
    case_detail,
    case_list_for_user,
    cases_on_index,
    is_overdue,
    record_for_user,
    service_card,
    signup_context,
    year_bounds,
)
from .totals import TotalsRow, totals_sheet, welfare_totals

__all__ = [
    "TotalsRow",
    "access_activity_by_id",
    "access_case_by_id",
    "activities_visible_to",
    "activity_detail",
    "activity_list_for_user",
    "activity_visible_to",
    "case_detail",
    "case_list_for_user",
    "cases_on_index",
    "cases_visible_to",
    "is_overdue",
    "on_my_path",
    "record_for_user",
    "service_card",
    "signup_context",
    "totals_sheet",
    "welfare_totals",
    "with_is_paired",
    "year_bounds",
]
