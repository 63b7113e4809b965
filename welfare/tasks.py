from celery import shared_task

from . import services


@shared_task
def send_follow_up_reminders() -> int:
    """Daily. Idempotent (each reminder is claimed by a unique row per case and period), so
    beat may tick twice."""
    return services.cases_send_follow_up_reminders()
