"""Comments and likes attached to any registered content (notices, lessons, meetings...), and
the branch board (留言板): members' views, suggestions and questions with official answers.

The rules that must always hold are database constraints: one like per person per object,
one row per double submit (author, client token), status values, a hidden row has a reason,
an answered post has its answer. One level of replies cannot be a check constraint (it
spans two rows); `services.comment_create` attaches a reply to a reply to the top-level
comment, and a row can never be its own parent.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from branches.models import Organization


class Like(models.Model):
    """A member likes a content object or a comment: once (a database rule)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(_("object id"))
    target = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="likes",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("like")
        verbose_name_plural = _("likes")
        constraints = [
            # Its index (content type, object, user) also serves the per-object counts.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="like_once_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.content_type_id}:{self.object_id}"


class Comment(models.Model):
    """A comment on a registered content object, or a reply to one (one level only)."""

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("content type"), on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    target = GenericForeignKey("content_type", "object_id")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="comments",
        help_text=_("The organisation of the commented content: its secretary moderates."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.CASCADE,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
    )
    body = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    deleted_at = models.DateTimeField(
        _("deleted at"),
        null=True,
        blank=True,
        help_text=_(
            "Deleted by its author while it had replies: the text is gone, the replies stay."
        ),
    )
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hidden by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.CharField(_("reason for hiding"), max_length=200, blank=True)
    client_token = models.UUIDField(_("submission token"), default=uuid.uuid4, editable=False)
    likes = GenericRelation(Like, related_query_name="comment")

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"], name="comment_once_per_submission"
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(body=""),
                name="comment_has_text",
            ),
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                name="comment_hidden_has_reason",
                violation_error_message=_("Give a reason for hiding."),
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("pk")),
                name="comment_not_its_own_parent",
            ),
        ]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "parent", "-created_at"],
                name="comment_thread",
            ),
            models.Index(fields=["author", "-created_at"], name="comment_author_recent"),
        ]

    def __str__(self) -> str:
        return Truncator(self.body).chars(40) or str(_("(deleted)"))

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class BoardPost(models.Model):
    """A member's view, suggestion or question on their branch's board, answered officially by
    the branch committee. Anonymous posts hide the author from other members, never from the
    secretary and the committee."""

    class Kind(models.TextChoices):
        VIEW = "view", _("view")
        SUGGESTION = "suggestion", _("suggestion")
        QUESTION = "question", _("question")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        RESOLVED = "resolved", _("resolved")
        HIDDEN = "hidden", _("hidden")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="board_posts",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.CASCADE,
        related_name="board_posts",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.VIEW)
    body = models.TextField(_("text"))
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Hidden from other members; the secretary and the committee see the name."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    answer = models.TextField(_("official answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hidden by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    hidden_reason = models.CharField(_("reason for hiding"), max_length=200, blank=True)
    client_token = models.UUIDField(_("submission token"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("board post")
        verbose_name_plural = _("board posts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_token"], name="boardpost_once_per_submission"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["view", "suggestion", "question"]),
                name="boardpost_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "answered", "resolved", "hidden"]),
                name="boardpost_status_valid",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="boardpost_has_text"),
            # Hidden exactly when it has a time and a reason.
            models.CheckConstraint(
                condition=(
                    (Q(status="hidden", hidden_at__isnull=False) & ~Q(hidden_reason=""))
                    | (~Q(status="hidden") & Q(hidden_at__isnull=True))
                ),
                name="boardpost_hidden_has_reason",
                violation_error_message=_("A hidden post needs a reason."),
            ),
            # An answer has its time, and an answered post has its answer.
            models.CheckConstraint(
                condition=(
                    Q(answer="", answered_at__isnull=True)
                    | (~Q(answer="") & Q(answered_at__isnull=False))
                ),
                name="boardpost_answer_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False),
                name="boardpost_answered_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
                name="boardpost_resolved_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="boardpost_board"),
            models.Index(fields=["author", "-created_at"], name="boardpost_author_recent"),
        ]

    def __str__(self) -> str:
        return Truncator(self.body).chars(40)

    def get_absolute_url(self) -> str:
        return reverse("discussions:board_post", args=[self.pk])

    @property
    def is_hidden(self) -> bool:
        return self.status == self.Status.HIDDEN
