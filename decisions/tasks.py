from celery import shared_task

from . import services


@shared_task
def tick() -> dict:
    """Every minute: close the motions whose window ended (each result counted once, under
    the motion's lock) and, from 08:00, remind the owners of overdue decisions (each claimed
    once a day by a unique row). Idempotent, so beat may tick twice."""
    return services.decisions_tick()
