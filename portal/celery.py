"""The Celery application and the one beat schedule of the project."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("netbranch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of every app, in one place.
app.conf.beat_schedule = {
    # Events whose fan-out did not finish (broker down at commit, a worker died).
    "notifications-sweep": {"task": "notifications.tasks.sweep_events", "schedule": 60.0},
    # Scheduled lessons publish themselves; plans due soon remind those who have not finished.
    "lessons-publish-due": {"task": "lessons.tasks.publish_due_lessons", "schedule": 60.0},
    "lessons-remind-due-plans": {
        "task": "lessons.tasks.remind_due_plans",
        "schedule": crontab(hour=8, minute=0),
    },
    # Meeting reminders 24 hours and 1 hour before (each claimed once per meeting).
    "meetings-send-reminders": {"task": "meetings.tasks.send_reminders", "schedule": 300.0},
    # Secretaries warned when a period is about to end without a required meeting.
    "meetings-warn-cadence": {
        "task": "meetings.tasks.warn_cadence",
        "schedule": crontab(hour=9, minute=0),
    },
    # Pairing help cases without a follow-up visit for a period (once per case and period).
    "welfare-follow-up-reminders": {
        "task": "welfare.tasks.send_follow_up_reminders",
        "schedule": crontab(hour=8, minute=30),
    },
    # Votes whose window ended are counted (once each); overdue decisions remind their owner
    # (once a day each, from 08:00).
    "decisions-tick": {"task": "decisions.tasks.tick", "schedule": 60.0},
    # Transfers waiting longer than NETBRANCH_TRANSFER_OVERDUE_DAYS: both branches and
    # reviewers told once.
    "members-flag-overdue-transfers": {
        "task": "members.tasks.flag_overdue_transfers",
        "schedule": crontab(hour=8, minute=15),
    },
    # Lost-contact radar: every member's contact status from their activity facts and logins.
    "members-update-contact-status": {
        "task": "members.tasks.update_contact_status",
        "schedule": crontab(hour=3, minute=40),
    },
    "notifications-daily-digest": {
        "task": "notifications.tasks.send_daily_digests",
        "schedule": crontab(hour=19, minute=0),
    },
    # The committee dashboard's rollup: every reporting organisation's figures for the
    # current and previous month, quarter and year.
    "reports-refresh-figures": {
        "task": "reports.tasks.refresh_figures",
        "schedule": crontab(minute=7),
    },
    # Five-star branch ratings of the current year from the latest figures (the committee's
    # decisions kept); after the nightly contact radar.
    "reports-compute-ratings": {
        "task": "reports.tasks.compute_ratings",
        "schedule": crontab(hour=4, minute=10),
    },
    # Activity reports: "due soon" and "overdue" reminders (once each per branch and period),
    # overdue reports flagged for the reviewers.
    "reports-remind": {
        "task": "reports.tasks.remind_reports",
        "schedule": crontab(hour=8, minute=45),
    },
    "portal-clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
}
