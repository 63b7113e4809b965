from celery import shared_task

from . import services


@shared_task
def send_reminders() -> int:
    """Idempotent (each reminder is claimed by a unique row), so beat may tick twice."""
    return services.meetings_send_reminders()
