from celery import shared_task
from django.core.management import call_command


@shared_task
def clear_expired_sessions() -> None:
    """Drop expired sessions so the table stays small (Django's own clean-up)."""
    call_command("clearsessions")
