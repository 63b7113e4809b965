from celery import shared_task

from . import services


@shared_task
def flag_overdue_transfers() -> int:
    """Daily. Idempotent (each transfer is stamped when told), so beat may tick twice."""
    return services.transfers_flag_overdue()


@shared_task
def update_contact_status() -> dict:
    """Daily: the lost-contact radar. Idempotent (writes only the statuses that change)."""
    return services.members_update_contact_status()
