"""Fixtures of the welfare tests: activities and pairing cases made through the services, small
uploads, and messages asserted in English (their Chinese is in the catalogue)."""

import datetime
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from tests.core.media_helpers import EXE, MINIMAL_PDF, image_bytes
from welfare import services
from welfare.models import PairingCase, WelfareActivity


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what the block schedules on commit (the fan-out)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG"), content_type="image/png")


def pdf(name: str = "移交协议-卓玛.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def exe_as(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, EXE, content_type="application/octet-stream")


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def make_activity(tree, committed):
    """make_activity(org=None, by=None, publish=True, **fields): a planned activity of
    tree.branch (by default) in a week, made by its secretary and published (fan-out run)."""
    counter = iter(range(1, 10_000))

    def make(org=None, by=None, publish=True, **fields) -> WelfareActivity:
        by = by or tree.secretary
        fields.setdefault("title", f"走访慰问困难群众{next(counter)}")
        fields.setdefault("kind", WelfareActivity.Kind.VISIT)
        fields.setdefault("held_on", timezone.localdate() + days(7))
        fields.setdefault("place", "色尼区那曲镇")
        activity = services.activity_create(by=by, organization=org or tree.branch, **fields)
        if publish:
            with committed():
                activity = services.activity_publish(activity=activity, by=by)
        return activity

    return make


@pytest.fixture
def make_case(tree):
    """make_case(org=None, by=None, paired=None, **fields): an open case of tree.branch, the
    household of 卓玛 in 那曲镇三村, paired with tree.member (by default), started 10 days ago."""

    def make(org=None, by=None, paired=None, **fields) -> PairingCase:
        fields.setdefault("beneficiary_kind", PairingCase.BeneficiaryKind.HOUSEHOLD)
        fields.setdefault("help_kind", PairingCase.HelpKind.EDUCATION)
        fields.setdefault("village", "那曲镇三村")
        fields.setdefault("name", "卓玛")
        fields.setdefault("address", "那曲镇三村二组15号")
        fields.setdefault("phone", "13908960001")
        fields.setdefault("situation", "丈夫因病去世，两个孩子上学")
        fields.setdefault("plan", "每两个月走访一次，资助孩子学习用品")
        fields.setdefault("started_on", timezone.localdate() - days(10))
        return services.case_create(
            by=by or tree.secretary,
            organization=org or tree.branch,
            paired_members=[tree.member] if paired is None else paired,
            **fields,
        )

    return make


def race(fn, n=2):
    """Run `fn` in `n` threads released together, each on its own connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
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
