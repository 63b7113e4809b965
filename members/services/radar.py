"""The lost-contact radar: each member's contact status from the facts `members` holds.

- active: took part (an activity fact: studied, attended, posted, served) within
  NETBRANCH_CONTACT_AT_RISK_DAYS; a member registered within that time counts as active too;
- at risk: last took part between NETBRANCH_CONTACT_AT_RISK_DAYS and NETBRANCH_CONTACT_LOST_DAYS
  ago;
- invisible: registered, took no part for NETBRANCH_CONTACT_LOST_DAYS, but logged in within them;
- lost contact: neither took part nor logged in for NETBRANCH_CONTACT_LOST_DAYS;
- pocket: registered nowhere (no branch); the model's constraint ties the two, so the radar
  never moves a member into or out of pocket (a release, a join or an accepted transfer does).

A member whose transfer was released by A and is waiting for B stays registered with A until
B accepts; the worklist shows the waiting transfer as the reason (see `selectors.radar_rows`).
Archived members are left alone. Set-based: four UPDATEs whatever the number of members."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Member

Contact = Member.ContactStatus


def contact_cutoffs(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or timezone.now()
    return (
        now - timedelta(days=settings.NETBRANCH_CONTACT_AT_RISK_DAYS),
        now - timedelta(days=settings.NETBRANCH_CONTACT_LOST_DAYS),
    )


def _took_part_since(cutoff: datetime) -> Q:
    """Took part since `cutoff`, or (never took part and) registered since then."""
    return Q(last_active_at__gte=cutoff) | Q(last_active_at__isnull=True, created_at__gte=cutoff)


@transaction.atomic
def members_update_contact_status(*, now: datetime | None = None) -> dict[str, int]:
    """Set every registered, unarchived member's contact status; returns how many rows moved
    into each status. Only rows whose status changes are written (a quiet day writes little)."""
    now = now or timezone.now()
    at_risk_cutoff, lost_cutoff = contact_cutoffs(now)
    base = Member.objects.filter(branch__isnull=False, archived_at__isnull=True)
    recent = _took_part_since(at_risk_cutoff)
    within_lost = _took_part_since(lost_cutoff)
    logged_in = Q(user__last_login__gte=lost_cutoff)
    rules = [
        (Contact.ACTIVE, recent),
        (Contact.AT_RISK, ~recent & within_lost),
        (Contact.INVISIBLE, ~within_lost & logged_in),
        (Contact.LOST, ~within_lost & ~logged_in),
    ]
    moved = {}
    for status, condition in rules:
        moved[status.value] = (
            base.filter(condition)
            .exclude(contact_status=status)
            .update(contact_status=status, updated_at=now)
        )
    return moved
