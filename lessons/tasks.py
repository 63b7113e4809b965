from celery import shared_task

from . import services


@shared_task
def publish_due_lessons() -> int:
    return services.lessons_publish_due()


@shared_task
def remind_due_plans() -> int:
    return services.plans_remind_due()
