"""Writes on comments, likes and the board. Each is keyword-only, checks permission, runs in
one transaction and raises PermissionDenied or ValidationError with a message for people.

Double submits (a double tap on a weak connection, a resent form) create one row: forms carry
a `client_token`, unique per author in the database; the same token again returns the row
already written. Likes take the wanted state (`want`), so a repeated "like" stays one like.
"""

import uuid
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Model, OuterRef
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from branches.models import Organization
from core.services import model_update
from members.models import ActivityFact
from members.selectors import members_of_organizations
from members.services import member_activity_record
from notifications.services import notify, users

from . import conf, registry, selectors
from .models import BoardPost, Comment, Like


class RateLimited(ValidationError):
    """Too many comments and posts in a short time."""


# --- helpers ----------------------------------------------------------------------------------


def _clean_text(text, *, limit: int, empty_message: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError(empty_message)
    if len(text) > limit:
        raise ValidationError(
            ngettext(
                "Keep it to %(limit)d character (it has %(length)d).",
                "Keep it to %(limit)d characters (it has %(length)d).",
                limit,
            )
            % {"limit": limit, "length": len(text)}
        )
    return text


def _clean_reason(reason) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(_("Give a reason for hiding."))
    return reason[:200]


def _token(client_token) -> uuid.UUID | None:
    if client_token in (None, ""):
        return None
    if isinstance(client_token, uuid.UUID):
        return client_token
    try:
        return uuid.UUID(str(client_token))
    except ValueError:
        return None


def _check_rate(author) -> None:
    """At most N comments and board posts per period and person (NETBRANCH_POST_RATE)."""
    limit, seconds = conf.post_rate()
    since = timezone.now() - timedelta(seconds=seconds)
    written = (
        Comment.objects.filter(author_id=author.pk, created_at__gte=since).count()
        + BoardPost.objects.filter(author_id=author.pk, created_at__gte=since).count()
    )
    if written >= limit:
        raise RateLimited(
            _("You are writing faster than the board allows. Wait a minute, then send it again."),
            code="rate_limited",
        )


def _record_posted(user) -> None:
    """Tell `members` that a member wrote something (the lost-contact radar reads it)."""
    try:
        member = user.member
    except (ObjectDoesNotExist, AttributeError):
        return
    member_activity_record(member=member, kind=ActivityFact.Kind.POSTED)


def _require_moderate(by, organization: Organization) -> None:
    if not selectors.can_moderate(by, organization):
        raise PermissionDenied(
            _("Only the secretary and the committee of %(org)s may do this.")
            % {"org": organization}
        )


def _create_once(model, *, author, token: uuid.UUID | None, **fields):
    """Insert a row unless (author, token) is already there; a concurrent double submit that
    loses the race gets the winner's row."""
    if token is None:
        token = uuid.uuid4()
    try:
        with transaction.atomic():
            return model.objects.create(author=author, client_token=token, **fields), True
    except IntegrityError:
        existing = model.objects.filter(author=author, client_token=token).first()
        if existing is None:
            raise
        return existing, False


# --- comments ---------------------------------------------------------------------------------


@transaction.atomic
def comment_create(
    *,
    target: Model,
    author,
    body: str,
    parent: Comment | int | None = None,
    client_token=None,
) -> Comment:
    """Comment on a registered object the author may see, or reply to a comment on it. A reply
    to a reply goes under the top-level comment (one level of replies)."""
    entry = registry.entry_for(target)
    if entry is None:
        raise ValidationError(_("Comments are not open here."))
    if not entry.can_view(author, target):
        raise PermissionDenied(_("You may not comment on this."))
    token = _token(client_token)
    if token is not None:
        existing = Comment.objects.filter(author=author, client_token=token).first()
        if existing is not None:
            return existing
    text = _clean_text(
        body, limit=conf.comment_max_length(), empty_message=_("Write something first.")
    )
    content_type = ContentType.objects.get_for_model(target)
    top = None
    if parent is not None:
        parent_id = parent.pk if isinstance(parent, Comment) else parent
        top = Comment.objects.filter(pk=parent_id).first()
        if top is None or (top.content_type_id, top.object_id) != (content_type.pk, target.pk):
            raise ValidationError(_("You can only reply to a comment on the same page."))
        if top.parent_id is not None:
            top = Comment.objects.get(pk=top.parent_id)
        if top.is_hidden or top.is_deleted:
            raise ValidationError(_("This comment no longer takes replies."))
    _check_rate(author)
    comment, created = _create_once(
        Comment,
        author=author,
        token=token,
        content_type=content_type,
        object_id=target.pk,
        organization=entry.organization_of(target),
        parent=top,
        body=text,
    )
    if created:
        _record_posted(author)
    return comment


@transaction.atomic
def comment_hide(*, comment: Comment, by, reason: str) -> Comment:
    """Hide a comment from members, with a reason shown in its place (moderators only)."""
    stored = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=comment.pk)
    )
    _require_moderate(by, stored.organization)
    reason = _clean_reason(reason)
    if stored.is_hidden:
        return stored
    model_update(
        instance=stored,
        fields={"hidden_at": timezone.now(), "hidden_by": by, "hidden_reason": reason},
        allowed=("hidden_at", "hidden_by", "hidden_reason"),
        clean=False,
    )
    return stored


@transaction.atomic
def comment_delete(*, comment: Comment, by) -> Comment | None:
    """The author deletes their comment. A top-level comment with replies keeps its place as
    "deleted" (its text goes) so the replies still make sense; otherwise the row and its
    likes go, and a deleted top-level comment whose last reply goes, goes too.
    Returns the remaining stub, or None."""
    stored = Comment.objects.select_for_update(of=("self",)).filter(pk=comment.pk).first()
    if stored is None:
        return None
    if stored.author_id != by.pk:
        raise PermissionDenied(_("You may only delete your own comments."))
    if stored.is_deleted:
        return stored
    if stored.parent_id is None and stored.replies.exists():
        model_update(
            instance=stored,
            fields={"deleted_at": timezone.now(), "body": ""},
            allowed=("deleted_at", "body"),
            clean=False,
        )
        return stored
    parent_id = stored.parent_id
    stored.delete()
    if parent_id is not None:
        Comment.objects.filter(pk=parent_id, deleted_at__isnull=False).exclude(
            Exists(Comment.objects.filter(parent=OuterRef("pk")))
        ).delete()
    return None


# --- likes -------------------------------------------------------------------------------------


@transaction.atomic
def like_toggle(*, target: Model, user, want: bool | None = None) -> bool:
    """Like or unlike a registered object or a comment; returns whether it is now liked.

    `want` is the state the button asked for (True: like, False: unlike); None flips. A
    double submit of "like" stays one like: the insert ignores the unique conflict."""
    if isinstance(target, Comment):
        if target.is_deleted or target.is_hidden:
            raise ValidationError(_("This comment can no longer be liked."))
        if not selectors.can_view_target(user, target):
            raise PermissionDenied(_("You may not like this."))
    else:
        entry = registry.entry_for(target)
        if entry is None:
            raise ValidationError(_("Likes are not open here."))
        if not entry.can_view(user, target):
            raise PermissionDenied(_("You may not like this."))
    content_type = ContentType.objects.get_for_model(target)
    mine = Like.objects.filter(content_type=content_type, object_id=target.pk, user=user)
    if want is None:
        want = not mine.exists()
    if not want:
        mine.delete()
        return False
    Like.objects.bulk_create(
        [Like(content_type=content_type, object_id=target.pk, user=user)], ignore_conflicts=True
    )
    return True


# --- the board ----------------------------------------------------------------------------------


@transaction.atomic
def board_post_create(
    *,
    organization: Organization,
    author,
    kind: str,
    body: str,
    anonymous: bool = False,
    client_token=None,
) -> BoardPost:
    """A member writes on the board of an organisation they are registered in or take part in."""
    if not (
        members_of_organizations(organizations=[organization], subtree=False)
        .filter(user_id=author.pk)
        .exists()
    ):
        raise PermissionDenied(
            _("Only members of %(org)s may write on its board.") % {"org": organization}
        )
    token = _token(client_token)
    if token is not None:
        existing = BoardPost.objects.filter(author=author, client_token=token).first()
        if existing is not None:
            return existing
    if kind not in BoardPost.Kind.values:
        raise ValidationError(_("Choose a view, a suggestion or a question."))
    text = _clean_text(
        body, limit=conf.board_post_max_length(), empty_message=_("Write something first.")
    )
    _check_rate(author)
    post, created = _create_once(
        BoardPost,
        author=author,
        token=token,
        organization=organization,
        kind=kind,
        body=text,
        anonymous=bool(anonymous),
    )
    if created:
        _record_posted(author)
    return post


def _locked_post(post: BoardPost) -> BoardPost:
    return (
        BoardPost.objects.select_for_update(of=("self",))
        .select_related("organization", "author")
        .get(pk=post.pk)
    )


@transaction.atomic
def board_post_answer(*, post: BoardPost, by, answer: str) -> BoardPost:
    """The branch's official answer, shown apart from the comments. The author is notified of
    the first answer; a corrected answer replaces it quietly."""
    stored = _locked_post(post)
    _require_moderate(by, stored.organization)
    if stored.is_hidden:
        raise ValidationError(_("A hidden post cannot be answered."))
    text = _clean_text(
        answer,
        limit=conf.board_post_max_length(),
        empty_message=_("Write the answer first."),
    )
    if text == stored.answer:
        return stored
    first = not stored.answer
    fields = {"answer": text, "answered_by": by}
    if first:
        fields["answered_at"] = timezone.now()
    if stored.status == BoardPost.Status.OPEN:
        fields["status"] = BoardPost.Status.ANSWERED
    model_update(
        instance=stored,
        fields=fields,
        allowed=("answer", "answered_by", "answered_at", "status"),
        clean=False,
    )
    if first and stored.author_id != by.pk:
        notify(
            kind="board_answered",
            target=stored,
            audience=users([stored.author]),
            by=by,
            subject=Truncator(stored.body.replace("\n", " ")).chars(60),
        )
    return stored


@transaction.atomic
def board_post_resolve(*, post: BoardPost, by) -> BoardPost:
    """Mark a post resolved: by the secretary and the committee, or by its author."""
    stored = _locked_post(post)
    if stored.author_id != by.pk:
        _require_moderate(by, stored.organization)
    if stored.is_hidden:
        raise ValidationError(_("A hidden post cannot be resolved."))
    if stored.status == BoardPost.Status.RESOLVED:
        return stored
    model_update(
        instance=stored,
        fields={"status": BoardPost.Status.RESOLVED, "resolved_at": timezone.now()},
        allowed=("status", "resolved_at"),
        clean=False,
    )
    return stored


@transaction.atomic
def board_post_hide(*, post: BoardPost, by, reason: str) -> BoardPost:
    """Hide a post from the members (moderators only, with a reason the author sees)."""
    stored = _locked_post(post)
    _require_moderate(by, stored.organization)
    reason = _clean_reason(reason)
    if stored.is_hidden:
        return stored
    model_update(
        instance=stored,
        fields={
            "status": BoardPost.Status.HIDDEN,
            "hidden_at": timezone.now(),
            "hidden_by": by,
            "hidden_reason": reason,
        },
        allowed=("status", "hidden_at", "hidden_by", "hidden_reason"),
        clean=False,
    )
    return stored
