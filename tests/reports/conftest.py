"""Fixtures of the committee review tests: a fixed period and "now", and hand-built activity in
the `tree` of tests/conftest.py (a group committee over a company committee over two sibling
branches, a party group under the first, a joint branch)."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from reports.periods import Period

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def q2():
    """The second quarter of 2025, looked at on 5 July 2025 (after it ended, before it is due)."""
    return SimpleNamespace(period=Period.parse("2025-Q2"), now=local(2025, 7, 5, 10, 0))


@pytest.fixture
def in_q2():
    """A few aware datetimes inside 2025-Q2 and one on each side of it."""
    return SimpleNamespace(
        april=local(2025, 4, 10, 9, 0),
        may=local(2025, 5, 12, 9, 0),
        june=local(2025, 6, 20, 9, 0),
        before=local(2025, 3, 31, 23, 30),
        after=local(2025, 7, 1, 0, 30),
        span=timedelta(hours=2),
    )
