"""Totals per organisation and period: what the branches did (activities done, participants and
their hours, money and goods given, people helped) and their pairing cases (visits, open,
handed over). Aggregated in the database: five queries whatever the number of branches.
No personal data: the admin's totals page, its export and the committee's review read it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from branches.models import Organization

from ..models import FollowUp, PairingCase, WelfareActivity, WelfareParticipant

ZERO = Decimal(0)


@dataclass
class TotalsRow:
    organization_id: int
    name: str = ""
    path: str = ""
    activities: int = 0
    participations: int = 0
    people: int = 0
    hours: Decimal = ZERO
    money: Decimal = ZERO
    goods_value: Decimal = ZERO
    beneficiaries: int = 0
    visits: int = 0
    open_cases: int = 0
    handed_over: int = 0

    NUMBERS = (
        "activities", "participations", "people", "hours", "money", "goods_value",
        "beneficiaries", "visits", "open_cases", "handed_over",
    )  # fmt: skip

    def add(self, other: "TotalsRow") -> None:
        for name in self.NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def welfare_totals(*, organizations: QuerySet, start: date, end: date) -> dict:
    """{"rows": [TotalsRow per organisation with anything to count, in tree order],
    "total": TotalsRow of them all}. Each organisation counts its own rows (a committee's row
    is what the committee itself organised; its branches have their own rows). `people` in the
    total counts a member once per organisation."""
    org_ids = organizations.values("pk")
    done = WelfareActivity.objects.filter(
        organization__in=org_ids, status=WelfareActivity.Status.DONE, held_on__range=(start, end)
    )
    rows: dict[int, TotalsRow] = {}

    def row(org_id: int) -> TotalsRow:
        return rows.setdefault(org_id, TotalsRow(organization_id=org_id))

    for r in (
        done.order_by()
        .values("organization")
        .annotate(
            n=Count("pk"),
            money=Sum("money_yuan"),
            goods=Sum("goods_value_yuan"),
            helped=Sum("beneficiaries"),
        )
    ):
        t = row(r["organization"])
        t.activities, t.money, t.goods_value = r["n"], r["money"] or ZERO, r["goods"] or ZERO
        t.beneficiaries = r["helped"] or 0
    for r in (
        WelfareParticipant.objects.filter(activity__in=done.values("pk"))
        .order_by()
        .values("activity__organization")
        .annotate(n=Count("pk"), people=Count("member", distinct=True), hours=Sum("hours"))
    ):
        t = row(r["activity__organization"])
        t.participations, t.people, t.hours = r["n"], r["people"], r["hours"] or ZERO
    for r in (
        FollowUp.objects.filter(case__organization__in=org_ids, visited_on__range=(start, end))
        .order_by()
        .values("case__organization")
        .annotate(n=Count("pk"))
    ):
        row(r["case__organization"]).visits = r["n"]
    for r in (
        PairingCase.objects.filter(organization__in=org_ids, started_on__lte=end)
        .order_by()
        .values("organization")
        .annotate(
            open=Count("pk", filter=Q(status=PairingCase.Status.OPEN)),
            handed=Count("pk", filter=Q(handed_over_on__range=(start, end))),
        )
    ):
        if r["open"] or r["handed"]:
            t = row(r["organization"])
            t.open_cases, t.handed_over = r["open"], r["handed"]
    for pk, name, path in Organization.objects.filter(pk__in=list(rows)).values_list(
        "pk", "name", "path"
    ):
        rows[pk].name, rows[pk].path = name, path
    ordered = sorted(rows.values(), key=lambda t: t.path)
    total = TotalsRow(organization_id=0)
    for t in ordered:
        total.add(t)
    return {"rows": ordered, "total": total, "start": start, "end": end}


def totals_sheet(totals: dict) -> tuple[list, list]:
    """Headers and rows of the totals for `core.exports` (no personal data)."""
    from django.utils.translation import gettext as _

    headers = [
        _("organisation"), _("activities done"), _("person-times"), _("members taking part"),
        _("hours"), _("money given (yuan)"), _("value of the goods (yuan)"), _("people helped"),
        _("follow-up visits"), _("open cases"), _("cases handed over"),
    ]  # fmt: skip
    body = [
        [
            t.name,
            t.activities,
            t.participations,
            t.people,
            float(t.hours),
            float(t.money),
            float(t.goods_value),
            t.beneficiaries,
            t.visits,
            t.open_cases,
            t.handed_over,
        ]
        for t in [*totals["rows"], totals["total"]]
    ]
    body[-1][0] = _("Total")
    return headers, body
