import smtplib

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


@shared_task(
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=600,
    max_retries=8,
)
def send_invitation_email(invitation_id: int, raw_token: str) -> bool:
    """The invitation's mail, once (the row is stamped when the server takes it)."""
    return services.invitation_email_send(invitation_id=invitation_id, raw_token=raw_token)
