"""The daily cadence warning: when the current month or quarter ends within
NETBRANCH_CADENCE_WARN_DAYS days and an organisation has held no meeting of a required kind in
it, its secretary and deputies are told, once per organisation, kind and period."""

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Organization, RoleAssignment
from notifications.services import notify, users

from ..models import CadenceWarning, Meeting
from ..selectors import cadence as selectors

#: Who is warned: the organisation's secretary and deputy secretaries.
WARNED_ROLES = (RoleAssignment.Role.SECRETARY, RoleAssignment.Role.DEPUTY_SECRETARY)


def _period_label(start: date, unit: str) -> str:
    if unit == selectors.MONTH:
        return f"{start:%Y-%m}"
    return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}


def _subject(org: Organization, kind: str, unit: str, start: date, end: date) -> str:
    return _("%(org)s has held no %(kind)s in %(period)s yet; the period ends on %(last)s.") % {
        "org": org.display_name,
        "kind": Meeting.Kind(kind).label,
        "period": _period_label(start, unit),
        "last": f"{end - timedelta(days=1):%Y-%m-%d}",
    }


def _requirements_ending(ending: dict) -> dict[tuple[str, str], list[str]]:
    """(meeting kind, unit) -> organisation kinds requiring it, for the units ending soon."""
    needs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for org_kind, required in settings.NETBRANCH_MEETING_CADENCE.items():
        for kind, unit in required.items():
            if unit in ending:
                needs[(kind, unit)].append(org_kind)
    return needs


def cadence_warn(*, today: date | None = None) -> int:
    """Warn the secretaries (and deputies) of organisations whose current period ends within
    NETBRANCH_CADENCE_WARN_DAYS days without a held meeting of a required kind. Each warning
    is claimed by its CadenceWarning row in the same transaction as the notice: running twice
    (a doubled beat tick) sends nothing more. An organisation without a secretary or deputy is
    skipped (and warned on a later run once it has one). Returns how many warnings went out.

    A fixed number of queries per required kind, plus one transaction per warning sent."""
    today = today or timezone.localdate()
    ending = selectors.periods_ending_soon(today, settings.NETBRANCH_CADENCE_WARN_DAYS)
    if not ending:
        return 0
    now = timezone.now()
    url = f"{reverse('meetings:cadence')}?year={today.year}"
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for (kind, unit), org_kinds in _requirements_ending(ending).items():
            start, end = ending[unit]
            held = Meeting.objects.filter(
                organization=OuterRef("pk"),
                kind=kind,
                status=Meeting.Status.HELD,
                starts_at__gte=selectors.local_midnight(start),
                starts_at__lt=selectors.local_midnight(end),
            )
            warned = CadenceWarning.objects.filter(
                organization=OuterRef("pk"), kind=kind, period_start=start
            )
            behind = Organization.objects.filter(kind__in=org_kinds).exclude(Exists(held)).exclude(Exists(warned))  # fmt: skip
            if kind == Meeting.Kind.COMMITTEE_MEETING:
                committee = RoleAssignment.objects.filter(
                    organization=OuterRef("pk"), role__in=RoleAssignment.BRANCH_COMMITTEE_ROLES
                )
                behind = behind.filter(Exists(committee))
            recipients: dict[int, list[int]] = defaultdict(list)
            for org_id, user_id in RoleAssignment.objects.filter(
                organization__in=behind.values("pk"), role__in=WARNED_ROLES, user__is_active=True
            ).values_list("organization_id", "user_id"):
                recipients[org_id].append(user_id)
            for org in behind.filter(pk__in=list(recipients)).order_by("path"):
                try:
                    with transaction.atomic():
                        CadenceWarning.objects.create(
                            organization=org, kind=kind, period_start=start, sent_at=now
                        )
                        notify(
                            kind="cadence_warning",
                            target=org,
                            audience=users(recipients[org.pk]),
                            subject=_subject(org, kind, unit, start, end),
                            url=url,
                        )
                except IntegrityError:
                    continue  # another run warned it
                sent += 1
    return sent
