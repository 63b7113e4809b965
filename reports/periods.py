"""Reporting periods (月度 / 季度 / 年度) as plain dates in the local time zone (Asia/Shanghai).

A period is named by its kind and its first day; `Period.parse("2026-Q3")` and `str(period)`
give the short form used in URLs and query strings ("2026-07", "2026-Q3", "2026").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _


class PeriodKind:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})-Q([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> date:
    return timezone.localdate(timezone.now(), local_zone())


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: date

    @classmethod
    def containing(cls, day: date, kind: str) -> Period:
        if kind == PeriodKind.MONTH:
            return cls(kind, day.replace(day=1))
        if kind == PeriodKind.QUARTER:
            return cls(kind, date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))
        if kind == PeriodKind.YEAR:
            return cls(kind, date(day.year, 1, 1))
        raise ValueError(kind)

    @classmethod
    def parse(cls, text: str) -> Period:
        """ "2026-07" → month, "2026-Q3" → quarter, "2026" → year; ValueError otherwise."""
        text = (text or "").strip()
        for pattern, kind in _PATTERNS:
            m = pattern.match(text)
            if not m:
                continue
            year = int(m.group(1))
            if not 2000 <= year <= 2100:
                break
            if kind == PeriodKind.MONTH:
                month = int(m.group(2))
                if not 1 <= month <= 12:
                    break
                return cls(kind, date(year, month, 1))
            if kind == PeriodKind.QUARTER:
                return cls(kind, date(year, 3 * (int(m.group(2)) - 1) + 1, 1))
            return cls(kind, date(year, 1, 1))
        raise ValueError(f"not a period: {text!r}")

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        month0 = self.start.month - 1 + months
        following = date(self.start.year + month0 // 12, month0 % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def starts_at(self) -> datetime:
        """Local midnight at the start, as an aware datetime."""
        return datetime.combine(self.start, time.min, tzinfo=local_zone())

    def ends_before(self) -> datetime:
        """Local midnight after the last day (exclusive upper bound for datetimes)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=local_zone())

    def due_on(self) -> date:
        """When the activity report for this period is due."""
        return self.end + timedelta(days=settings.NETBRANCH_REPORT_DUE_DAYS)

    def previous(self) -> Period:
        return Period.containing(self.start - timedelta(days=1), self.kind)

    def next(self) -> Period:
        return Period.containing(self.end + timedelta(days=1), self.kind)

    def __str__(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    def label(self) -> str:
        """Human label in the active language."""
        if self.kind == PeriodKind.MONTH:
            return _("%(year)s, month %(month)s") % {
                "year": self.start.year,
                "month": self.start.month,
            }
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)s, quarter %(quarter)s") % {
                "year": self.start.year,
                "quarter": (self.start.month - 1) // 3 + 1,
            }
        return _("year %(year)s") % {"year": self.start.year}
