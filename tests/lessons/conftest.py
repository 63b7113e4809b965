"""Helpers for the study-sync tests: lessons, plans and documents made through the services,
on-commit work (the fan-out) run as it would after a real commit, and a race helper for the
Postgres concurrency tests."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from lessons import services
from lessons.models import Lesson, StudyPlan, StudyPlanItem
from notifications.models import Event, Notification

CJK = "党员学习习近平新时代中国特色社会主义思想坚持不懈用党的创新理论凝心铸魂"


def chinese(n: int) -> str:
    """`n` Chinese characters, no punctuation, no Latin text."""
    return (CJK * (n // len(CJK) + 1))[:n]


def english(n: int) -> str:
    """`n` English words."""
    words = [
        "the",
        "branch",
        "studies",
        "the",
        "new",
        "rules",
        "together",
        "every",
        "week",
        "on",
        "the",
        "site",
    ]
    return " ".join(words[i % len(words)] for i in range(n))


def recipients_of(event) -> set[str]:
    return set(
        Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    )


def events_for(target, kind: str | None = None):
    qs = Event.objects.filter(target_id=target.pk, target_type__model=type(target)._meta.model_name)
    return qs.filter(kind=kind) if kind else qs


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block schedules on commit (the fan-out), the way the
    end of a real transaction would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def make_lesson(tree, committed):
    """make_lesson(org=None, by=None, publish=False, **fields): a lesson created through
    `lesson_create` (a draft) and, with publish=True, published with its fan-out run."""
    counter = iter(range(1, 10_000))

    def make(org=None, by=None, publish=False, **fields) -> Lesson:
        by = by or tree.admin
        fields.setdefault("title", f"微党课{next(counter)}")
        fields.setdefault("body", f"<p>{chinese(60)}</p>")
        lesson = services.lesson_create(by=by, organization=org or tree.branch, **fields)
        if publish:
            with committed():
                lesson = services.lesson_publish(lesson=lesson, by=by)
        return lesson

    return make


@pytest.fixture
def make_plan(tree):
    """make_plan(org=None, by=None, items=(), **fields): a draft plan through `plan_save`, with
    its items (lessons or documents) in order."""

    def make(org=None, by=None, items=(), **fields) -> StudyPlan:
        today = timezone.localdate()
        fields.setdefault("title", "四月学习计划")
        fields.setdefault("starts_on", today - datetime.timedelta(days=10))
        fields.setdefault("due_on", today + datetime.timedelta(days=20))
        plan = services.plan_save(
            plan=None, by=by or tree.admin, fields={"organization": org or tree.branch, **fields}
        )
        for order, item in enumerate(items, start=1):
            key = "lesson" if isinstance(item, Lesson) else "document"
            StudyPlanItem.objects.create(plan=plan, order=order, **{key: item})
        return plan

    return make


def race(fn, n=2):
    """Run `fn` in `n` threads released together, each on its own connection; returns their
    results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results
