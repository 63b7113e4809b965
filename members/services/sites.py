"""Project-site lifecycle for members: when a site closes, its managers re-home the members
still there (a transfer released in one step, or a participation in a joint or mobile branch);
when a small site opens, they attach members to it and to a joint or mobile branch.

All or nothing: every chosen member is checked first, and if one of them cannot be moved the
service raises one `ValidationError` naming each member and why, and changes nothing. The
site row is locked first, so two clicks on the same form run one after the other and the
second finds the transfers of the first (one open transfer per member, also a constraint).

History stays in the rows each step leaves: transfers (with their states and dates),
participations, timeline lines of the site's organisation and the members' notifications.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization, ProjectSite
from branches.services import timeline_record
from notifications.services import notify, users

from ..models import TRANSFER_OPEN_Q, Member, Participation, Transfer
from ..selectors import member_scope_q
from .records import _check_registration, participation_start
from .transfers import transfer_release, transfer_request

Kind = Organization.Kind
REHOME_TRANSFER = "transfer"
REHOME_PARTICIPATE = "participate"
REHOME_ACTIONS = (REHOME_TRANSFER, REHOME_PARTICIPATE)
# Where members of a small or closed site take part while registered elsewhere.
SITE_BRANCH_KINDS = (Kind.JOINT_BRANCH, Kind.MOBILE_BRANCH)


def same_group(a: Organization, b: Organization) -> bool:
    """Do both organisations sit under the same top committee (the group)? No query."""
    step = Organization.steplen
    return a.path[:step] == b.path[:step]


def _locked_site(site: ProjectSite, by) -> ProjectSite:
    stored = (
        ProjectSite.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=site.pk)
    )
    if not scope.can_manage(by, stored.organization):
        raise PermissionDenied(
            _("You may not manage the members of %(site)s.") % {"site": stored.name}
        )
    return stored


def _locked_members(members: Iterable) -> tuple[list[Member], list[int]]:
    """The chosen members locked in id order (no deadlock between two clicks), and the ids
    that match no member."""
    ids = sorted({m.pk if isinstance(m, Member) else int(m) for m in members})
    if not ids:
        raise ValidationError(_("Choose at least one member."))
    locked = list(
        Member.objects.select_for_update(of=("self",))
        .select_related("branch", "user")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    found = {m.pk for m in locked}
    return locked, [i for i in ids if i not in found]


def _refuse(problems: list[str]) -> None:
    if problems:
        raise ValidationError(problems)


def _check_site_branch(site: ProjectSite, branch: Organization) -> None:
    if branch.kind not in SITE_BRANCH_KINDS:
        raise ValidationError(
            {"target": _("Members of a site take part in a joint branch or a mobile branch.")}
        )
    if not same_group(site.organization, branch):
        raise ValidationError({"target": _("Choose a branch of the group.")})


@transaction.atomic
def site_rehome(
    *,
    site: ProjectSite,
    by,
    members: Iterable,
    action: str,
    target: Organization,
    reason: str = "",
    letter_number: str = "",
) -> list:
    """Re-home members still at a closed site, in one step for all of them.

    - "transfer": a transfer of each member's registration to `target`, requested and released
      by the manager at once (the receiving branch's secretary still accepts it; the
      registration moves then, and the member leaves the site).
    - "participate": each member takes part in the joint or mobile branch `target`; their
      registration stays where it is.

    Returns the transfers or the participations made. Members not at the site, archived,
    with a transfer in progress, or that the manager may not move are refused, all together,
    and nothing is done."""
    stored = _locked_site(site, by)
    if stored.closed_on is None:
        raise ValidationError(_("The site is still open: its members stay where they are."))
    if action not in REHOME_ACTIONS:
        raise ValidationError({"action": _("Choose a transfer or a participation.")})
    if not same_group(stored.organization, target):
        raise ValidationError({"target": _("Choose a branch of the group.")})
    if action == REHOME_TRANSFER:
        _check_registration(target, field="target")
    if action == REHOME_PARTICIPATE:
        _check_site_branch(stored, target)

    locked, missing = _locked_members(members)
    problems = [_("No member #%(id)s.") % {"id": i} for i in missing]
    ids = [m.pk for m in locked]
    in_transfer = set(
        Transfer.objects.filter(TRANSFER_OPEN_Q, member__in=ids).values_list("member", flat=True)
    )
    taking_part = set(
        Participation.objects.filter(
            member__in=ids, organization=target, ended_on__isnull=True
        ).values_list("member", flat=True)
    )
    for m in locked:
        why = None
        if m.project_site_id != stored.pk or m.archived_at is not None:
            why = _("not at this site")
        elif m.pk in in_transfer:
            why = _("already has a transfer in progress")
        elif m.branch_id == target.pk:
            why = _("registered there already")
        elif action == REHOME_TRANSFER:
            if m.branch is None:
                why = _("registered nowhere: they join a branch through a join request")
            elif not scope.can_manage(by, m.branch):
                why = _("registered with %(branch)s, which you do not manage") % {
                    "branch": m.branch
                }
        elif m.pk in taking_part:
            why = _("already takes part there")
        elif not (scope.can_manage(by, target) or (m.branch and scope.can_manage(by, m.branch))):
            why = _("you may not add them to %(branch)s") % {"branch": target}
        if why:
            # A raw id of a member out of reach is not answered with their name.
            known = m.project_site_id == stored.pk or (m.branch and scope.can_manage(by, m.branch))
            problems.append(f"{m.real_name if known else f'#{m.pk}'}: {why}")
    _refuse(problems)

    reason = reason.strip() or _("Project site %(site)s closed") % {"site": stored.name}
    made: list = []
    if action == REHOME_TRANSFER:
        for m in locked:
            transfer = transfer_request(
                member=m, by=by, to_branch=target, letter_number=letter_number, reason=reason
            )
            made.append(transfer_release(transfer=transfer, by=by, letter_number=letter_number))
        kind = "site_members_transferred"
    else:
        for m in locked:
            made.append(
                participation_start(member=m, organization=target, by=by, note=reason[:200])
            )
        notify(
            kind="site_members_participate",
            target=stored,
            audience=users(m.user_id for m in locked),
            by=by,
            subject=f"{stored.name} → {target.name}",
            url=reverse("members:me"),
        )
        kind = "site_members_participate"
    timeline_record(
        organization=stored.organization,
        kind=kind,
        params={"site": stored.name, "to": target.name, "n": len(locked)},
    )
    return made


@transaction.atomic
def site_attach(
    *, site: ProjectSite, by, members: Iterable, branch: Organization, note: str = ""
) -> list[Member]:
    """Attach members to an open site: their project site becomes this one and they take part
    in the joint or mobile branch `branch` (unless they are registered or take part there
    already). Members the manager does not look after are refused, all together."""
    stored = _locked_site(site, by)
    if stored.closed_on is not None:
        raise ValidationError(_("The site is closed: re-home its members instead."))
    _check_site_branch(stored, branch)
    locked, missing = _locked_members(members)
    problems = [_("No member #%(id)s.") % {"id": i} for i in missing]
    ids = [m.pk for m in locked]
    looked_after = set(
        Member.objects.filter(pk__in=ids)
        .filter(
            Q() if (by.is_active and by.is_superuser) else member_scope_q(scope.managed_paths(by))
        )
        .values_list("pk", flat=True)
    )
    taking_part = set(
        Participation.objects.filter(
            member__in=ids, organization=branch, ended_on__isnull=True
        ).values_list("member", flat=True)
    )
    for m in locked:
        why = None
        if m.pk not in looked_after:
            why = _("not among the members you look after")
        elif m.archived_at is not None or not m.user.is_active:
            why = _("the record is archived")
        elif m.project_site_id == stored.pk and (m.branch_id == branch.pk or m.pk in taking_part):
            why = _("already attached")
        elif not (scope.can_manage(by, branch) or (m.branch and scope.can_manage(by, m.branch))):
            why = _("you may not add them to %(branch)s") % {"branch": branch}
        if why:
            # A raw id of a member out of reach is not answered with their name.
            problems.append(f"{m.real_name if m.pk in looked_after else f'#{m.pk}'}: {why}")
    _refuse(problems)

    now = timezone.now()
    Member.objects.filter(pk__in=ids).exclude(project_site=stored).update(
        project_site=stored, updated_at=now
    )
    note = note.strip() or stored.name
    for m in locked:
        if m.branch_id != branch.pk and m.pk not in taking_part:
            participation_start(member=m, organization=branch, by=by, note=note[:200])
    notify(
        kind="site_members_attached",
        target=stored,
        audience=users(m.user_id for m in locked),
        by=by,
        subject=f"{stored.name} · {branch.name}",
        url=reverse("members:me"),
    )
    timeline_record(
        organization=stored.organization,
        kind="site_members_attached",
        params={"site": stored.name, "to": branch.name, "n": len(locked)},
    )
    return locked
