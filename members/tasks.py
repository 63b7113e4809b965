from celery import shared_task

from . import services


@shared_task
def flag_overdue_transfers() -> int:
    """Daily. Idempotent (each transfer is stamped when told), so beat may tick twice."""
    return services.transfers_flag_overdue()
