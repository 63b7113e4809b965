from celery import shared_task

from . import services
from .services.cadence import cadence_warn


@shared_task
def send_reminders() -> int:
    """Idempotent (each reminder is claimed by a unique row), so beat may tick twice."""
    return services.meetings_send_reminders()


@shared_task
def warn_cadence() -> int:
    """Daily: warn secretaries of periods about to end without a required meeting. Idempotent
    (each warning is claimed by a unique row), so beat may tick twice."""
    return cadence_warn()
