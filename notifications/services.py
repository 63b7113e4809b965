"""Telling people: events, their fan-out to inboxes, e-mail, and notices.

Reliability (DESIGN): the event row is written in the caller's transaction and Celery is told
only after commit; the fan-out inserts one inbox row per recipient in chunks, each chunk an
`INSERT ... SELECT ... ON CONFLICT DO NOTHING` resolved in the database, so a re-run (a
killed worker, the sweep) never duplicates and never skips; the sweep re-enqueues events
whose fan-out did not finish.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches import scope
from branches.services import timeline_record
from core.services import model_update

from . import audiences, kinds
from .models import (
    DigestSent,
    EmailPreference,
    Event,
    Notice,
    NoticeRead,
    NoticeReminder,
    Notification,
)

logger = logging.getLogger(__name__)
User = get_user_model()


@dataclass(frozen=True)
class Audience:
    """A registered audience name and its JSON parameters."""

    name: str
    params: dict = field(default_factory=dict)


def members_of(organizations, *, subtree: bool = True, categories=None, statuses=None) -> Audience:
    """The audience "members of these organisations" (resolved by `members`)."""
    params: dict = {
        "orgs": [o.pk if isinstance(o, Model) else int(o) for o in organizations],
        "subtree": subtree,
    }
    if categories:
        params["categories"] = list(categories)
    if statuses:
        params["statuses"] = list(statuses)
    return Audience("members.of_organizations", params)


def users(users) -> Audience:
    return Audience(
        "users", {"users": sorted({u.pk if isinstance(u, Model) else int(u) for u in users})}
    )


# --- events -------------------------------------------------------------------------------


def notify(
    *,
    kind: str,
    target: Model | None,
    audience: Audience,
    by=None,
    subject: str = "",
    url: str = "",
) -> Event:
    """Tell an audience about `target`. Call it inside the transaction of the write it
    announces: the event commits (or rolls back) with it, and the fan-out is enqueued only
    after commit. If the broker is unreachable then, the sweep delivers it later."""
    if audience.name not in audiences.registered():
        raise audiences.UnknownAudience(audience.name)
    event = Event.objects.create(
        kind=kind,
        actor=by if getattr(by, "pk", None) else None,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=target.pk if target is not None else None,
        subject=(subject or str(target or ""))[:200],
        url=url or (target.get_absolute_url() if hasattr(target, "get_absolute_url") else ""),
        audience=audience.name,
        audience_params=audience.params,
    )
    transaction.on_commit(lambda: _enqueue_fan_out(event.pk), robust=True)
    return event


def _enqueue_fan_out(event_id: int) -> None:
    from .tasks import fan_out_event

    fan_out_event.delay(event_id)
    # Only once the broker took it: an event it refused stays "never enqueued" for the sweep.
    Event.objects.filter(pk=event_id).update(enqueued_at=timezone.now())


def _insert_chunk(event: Event, recipient_ids: list[int]) -> None:
    """Insert one chunk of inbox rows, skipping those that exist (a re-run, a race)."""
    if connection.vendor == "postgresql":
        table = Notification._meta.db_table
        with connection.cursor() as cursor:
            # JIT compilation costs more than this plain insert gains from it (~0.3 s a chunk).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                f"INSERT INTO {table} (event_id, recipient_id, created_at, read_at, emailed_at) "  # noqa: S608 - identifiers only
                "SELECT %s, r, %s, NULL, NULL FROM unnest(%s::bigint[]) AS r "
                "ON CONFLICT (event_id, recipient_id) DO NOTHING",
                [event.pk, event.created_at, recipient_ids],
            )
    else:
        Notification.objects.bulk_create(
            [
                Notification(event_id=event.pk, recipient_id=i, created_at=event.created_at)
                for i in recipient_ids
            ],
            ignore_conflicts=True,
        )


def event_fan_out(*, event_id: int) -> int:
    """Insert the inbox rows of an event; returns how many recipients it has. The audience is
    resolved by one query in the database (ids only); the rows go in chunks of
    NETBRANCH_FANOUT_CHUNK, each committed on its own, conflicts ignored. Safe to run any
    number of times, concurrently too: the unique (event, recipient) constraint decides."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.fanned_out_at is not None:
        return 0
    Event.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
    recipients = audiences.resolve(event.audience, event.audience_params).filter(is_active=True)
    ids = list(recipients.order_by("pk").values_list("pk", flat=True))
    chunk = max(1, settings.NETBRANCH_FANOUT_CHUNK)
    pause = settings.NETBRANCH_FANOUT_CHUNK_PAUSE
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            _insert_chunk(event, ids[start : start + chunk])
        if pause:
            time.sleep(pause)
    marked = Event.objects.filter(pk=event_id, fanned_out_at__isnull=True).update(
        fanned_out_at=timezone.now(), recipients=len(ids)
    )
    if marked:
        # Only the run that marked the event sends its e-mail: two runs (the sweep and a slow
        # worker) would otherwise start two concurrent senders, and mail some rows twice.
        transaction.on_commit(lambda: _enqueue_emails(event_id), robust=True)
    return len(ids)


def events_sweep() -> int:
    """Re-enqueue events whose fan-out has not finished: the broker was unreachable at commit,
    or a worker died. Returns how many were sent to the queue again."""
    now = timezone.now()
    grace = timedelta(seconds=settings.NETBRANCH_FANOUT_GRACE_SECONDS)
    stale = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - grace)
    pending = list(
        Event.objects.filter(fanned_out_at__isnull=True, created_at__lt=now - timedelta(seconds=5))
        .filter(stale, attempts__lt=settings.NETBRANCH_FANOUT_MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for event_id in pending:
        _enqueue_fan_out(event_id)
    stuck = Event.objects.filter(
        fanned_out_at__isnull=True, attempts__gte=settings.NETBRANCH_FANOUT_MAX_ATTEMPTS
    )
    if stuck.exists():
        logger.error(
            "%d events failed their fan-out %d times; see the Event admin",
            stuck.count(),
            settings.NETBRANCH_FANOUT_MAX_ATTEMPTS,
        )
    # Immediate e-mail whose sending was interrupted (the task's retries ran out, a worker
    # died): only once the task's own retry window has passed, so that the sweep and a task
    # still backing off do not send side by side.
    unsent = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            read_at__isnull=True,
            event__fanned_out_at__lt=now
            - timedelta(seconds=settings.NETBRANCH_EMAIL_SWEEP_AFTER_SECONDS),
            event__fanned_out_at__gte=now - timedelta(days=2),
        )
        .filter(_wants_immediate_mail())
        .exclude(recipient__email="")
        .order_by()  # the model's ordering would put its columns in the DISTINCT: once per event
        .values_list("event_id", flat=True)
        .distinct()[:200]
    )
    for event_id in unsent:
        _enqueue_emails(event_id)
    return len(pending)


# --- inbox --------------------------------------------------------------------------------


def notification_open(*, notification: Notification, user) -> Notification:
    if notification.recipient_id != user.pk:
        raise PermissionDenied
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def email_preference_set(*, user, mode: str) -> EmailPreference:
    if mode not in EmailPreference.Mode.values:
        raise ValidationError(_("Choose how you want to receive e-mail."))
    pref, _created = EmailPreference.objects.update_or_create(user=user, defaults={"mode": mode})
    return pref


# --- e-mail -------------------------------------------------------------------------------


def _enqueue_emails(event_id: int) -> None:
    from .tasks import send_event_emails

    send_event_emails.delay(event_id)


def _wants_immediate_mail() -> Q:
    # No preference row means the default: each notification at once.
    return Q(recipient__email_preference__isnull=True) | Q(
        recipient__email_preference__mode=EmailPreference.Mode.IMMEDIATE
    )


def _immediate_rows(event_id: int):
    return (
        Notification.objects.filter(event_id=event_id, emailed_at__isnull=True)
        .filter(_wants_immediate_mail())
        .exclude(recipient__email="")
        .select_related("recipient", "event")
        .order_by("pk")
    )


def event_emails_send(*, event_id: int) -> int:
    """Send the immediate e-mails of an event, one per recipient, marking each row as soon as
    its mail is accepted. An SMTP failure raises (the task retries with backoff); rows already
    sent are not sent again, rows not sent yet are not lost."""
    sent = 0
    rows = list(_immediate_rows(event_id)[: settings.NETBRANCH_EMAIL_BATCH])
    if not rows:
        return 0
    with translation.override(settings.LANGUAGE_CODE), get_connection() as mail:
        for row in rows:
            message = _notification_message(row)
            message.connection = mail
            message.send()
            Notification.objects.filter(pk=row.pk).update(emailed_at=timezone.now())
            sent += 1
    if len(rows) == settings.NETBRANCH_EMAIL_BATCH:
        transaction.on_commit(lambda: _enqueue_emails(event_id), robust=True)
    return sent


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.NETBRANCH_BASE_URL.rstrip("/") + url


def _notification_message(row: Notification) -> EmailMessage:
    text = kinds.render(row.event)
    body = render_to_string(
        "notifications/email/notification.txt",
        {"text": text, "url": _absolute(row.event.url) if row.event.url else "", "user": row.recipient,
         "settings_url": _absolute("/notifications/settings/")},
    )  # fmt: skip
    return EmailMessage(
        subject=f"[{_('NetBranch')}] {text}"[:180], body=body, to=[row.recipient.email]
    )


def digests_send(*, day: date | None = None) -> int:
    """One mail per digest subscriber per day with their unread, un-mailed notifications of
    the last day. The (user, day) row is claimed before sending: never two digests a day."""
    day = day or timezone.localdate()
    since = timezone.now() - timedelta(days=1)
    subscribers = (
        User.objects.filter(is_active=True, email_preference__mode=EmailPreference.Mode.DIGEST)
        .exclude(email="")
        .filter(
            notifications__emailed_at__isnull=True,
            notifications__read_at__isnull=True,
            notifications__created_at__gte=since,
        )
        .distinct()
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE), get_connection() as mail:
        for user in subscribers.iterator(chunk_size=500):
            claim, _created = DigestSent.objects.get_or_create(user=user, day=day)
            # Claim the day atomically before sending: two runs at once cannot both send.
            if not DigestSent.objects.filter(pk=claim.pk, sent_at__isnull=True).update(
                sent_at=timezone.now()
            ):
                continue
            rows = list(
                Notification.objects.filter(
                    recipient=user,
                    emailed_at__isnull=True,
                    read_at__isnull=True,
                    created_at__gte=since,
                )
                .select_related("event")
                .order_by("-created_at")[:50]
            )
            if not rows:
                DigestSent.objects.filter(pk=claim.pk).update(sent_at=None)
                continue
            body = render_to_string(
                "notifications/email/digest.txt",
                {"items": [(kinds.render(r.event), _absolute(r.event.url) if r.event.url else "") for r in rows],
                 "user": user, "inbox_url": _absolute("/notifications/"), "settings_url": _absolute("/notifications/settings/")},
            )  # fmt: skip
            subject = _("[NetBranch] %(count)s new notifications") % {"count": len(rows)}
            try:
                EmailMessage(subject=subject, body=body, to=[user.email], connection=mail).send()
            except Exception:
                DigestSent.objects.filter(pk=claim.pk).update(sent_at=None)  # the retry sends it
                raise
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
                emailed_at=timezone.now()
            )
            sent += 1
    return sent


# --- notices ------------------------------------------------------------------------------

NOTICE_FIELDS = (
    "organization", "kind", "title", "summary", "body", "pinned", "expires_at", "for_office",
    "for_front_line", "for_remote",
)  # fmt: skip
_KIND_EVENT = {
    Notice.Kind.NOTICE: "notice_published",
    Notice.Kind.DISCLOSURE: "disclosure_published",
    Notice.Kind.DECISION: "decision_published",
    Notice.Kind.NEWS: "news_published",
}


def _require_manage(by, organization) -> None:
    if not scope.can_manage(by, organization):
        raise PermissionDenied(_("You may not publish for %(org)s.") % {"org": organization})


@transaction.atomic
def notice_create(*, by, **fields) -> Notice:
    unknown = set(fields) - set(NOTICE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require_manage(by, fields["organization"])
    notice = Notice(author=by, status=Notice.Status.DRAFT, **fields)
    notice.full_clean()
    notice.save()
    return notice


@transaction.atomic
def notice_update(*, notice: Notice, by, fields: dict) -> Notice:
    stored = (
        Notice.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=notice.pk)
    )
    _require_manage(by, stored.organization)
    if "organization" in fields:
        _require_manage(by, fields["organization"])
    model_update(instance=stored, fields=fields, allowed=NOTICE_FIELDS)
    return stored


def notice_audience(notice: Notice) -> Audience:
    return members_of([notice.organization_id], categories=None if all(
        (notice.for_office, notice.for_front_line, notice.for_remote)) else notice.categories)  # fmt: skip


@transaction.atomic
def notice_publish(*, notice: Notice, by) -> Notice:
    """Publish a draft: it appears in the members' lists and its audience is notified, once.
    Publishing twice (a double click) changes nothing."""
    stored = (
        Notice.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=notice.pk)
    )
    _require_manage(by, stored.organization)
    if stored.status == Notice.Status.PUBLISHED:
        return stored
    model_update(
        instance=stored,
        fields={"status": Notice.Status.PUBLISHED, "published_at": timezone.now()},
        allowed=("status", "published_at"),
    )
    notify(kind=_KIND_EVENT[stored.kind], target=stored, audience=notice_audience(stored), by=by)
    timeline_kind = "news_published" if stored.kind == Notice.Kind.NEWS else "notice_published"
    timeline_record(
        organization=stored.organization,
        kind=timeline_kind,
        params={"title": stored.title},
        url=stored.get_absolute_url(),
        at=stored.published_at,
    )
    return stored


def notice_mark_read(*, notice: Notice, user) -> None:
    """Record the first reading (a reload or a second tab changes nothing)."""
    NoticeRead.objects.bulk_create([NoticeRead(notice=notice, user=user)], ignore_conflicts=True)


def remind_once_a_day(
    *, claim_model, target_field: str, target, by, kind: str, audience: Audience, count: QuerySet
) -> int:
    """Send `kind` about `target` to `audience` at most once a day: the day's row of
    `claim_model` (unique on `target_field` and day) is claimed first. Returns how many are
    reminded (`count` is the audience as a queryset), 0 if today's reminder has gone out."""
    reminder, created = claim_model.objects.get_or_create(
        **{target_field: target}, day=timezone.localdate(), defaults={"sent_by": by}
    )
    if not created:
        return 0
    recipients = count.count()
    claim_model.objects.filter(pk=reminder.pk).update(recipients=recipients)
    if recipients:
        notify(kind=kind, target=target, audience=audience, by=by)
    return recipients


@transaction.atomic
def notice_remind(*, notice: Notice, by) -> int:
    """Remind the audience members who have not read the notice: at most once a day (a
    database rule). Returns how many are reminded; 0 if today's reminder has gone out."""
    _require_manage(by, notice.organization)
    if not notice.is_published:
        raise ValidationError(_("Publish the notice before reminding anyone."))
    from .selectors import notice_unread_audience

    return remind_once_a_day(
        claim_model=NoticeReminder,
        target_field="notice",
        target=notice,
        by=by,
        kind="notice_reminder",
        audience=Audience("notifications.notice_unread", {"notice": notice.pk}),
        count=notice_unread_audience(notice=notice.pk),
    )
