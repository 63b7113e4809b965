"""Thin Celery tasks over the services. The fan-out may run twice (acks_late, the sweep):
the unique (event, recipient) constraint makes it idempotent."""

import smtplib

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def fan_out_event(event_id: int) -> int:
    return services.event_fan_out(event_id=event_id)


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=settings.NETBRANCH_EMAIL_RETRY_BACKOFF,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=12,
)
def send_event_emails(event_id: int) -> int:
    """A failing SMTP server delays mail and loses none: rows are marked one by one as their
    mail is accepted, and the task retries with backoff (then the sweep takes over)."""
    return services.event_emails_send(event_id=event_id)


@shared_task
def sweep_events() -> int:
    return services.events_sweep()


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=60, max_retries=6)
def send_daily_digests() -> int:
    return services.digests_send()
