"""Who sees a beneficiary's personal data: the one place that decides. Pages, admin lists,
exports and notifications all ask here.

Personal data (a case's name, address, phone, situation, plan, follow-up notes, the handover
contact and document, and photos not cleared for showing) is for:
- the branch's secretary, deputies and committee members: those of the case's organisation
  (and, for a case of a party group, those of the branch it belongs to), not those of the
  committees above it, who see the public label like every other member,
- the committee reviewers over the case (and superusers),
- the case's paired members.
Everyone else who may see the case at all sees its public label ("a household in X village",
"Zhang 某, X village"; in English "Zhang (name withheld)") and only photos cleared for
showing. Notifications, comments and exports meant for a wider circle use the public label
whoever reads them.
"""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from branches import scope
from branches.models import Organization, RoleAssignment

#: The branch committee's roles; the reviewers (`scope.REVIEW_ROLES`) read from above.
COMMITTEE_ROLES = (
    RoleAssignment.Role.SECRETARY,
    RoleAssignment.Role.DEPUTY_SECRETARY,
    RoleAssignment.Role.COMMITTEE_MEMBER,
)

# Two-character surnames (复姓) that the public label keeps whole.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "令狐", "夏侯", "端木", "独孤", "南宫", "西门", "百里", "呼延", "轩辕",
)  # fmt: skip


def surname_of(name: str) -> str:
    """The surname of a Chinese name (a compound one whole), "" for an empty name."""
    name = (name or "").strip()
    if not name:
        return ""
    if name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[0]


def public_label(case) -> str:
    """What every member who may see the case reads: no name, no address."""
    village = (case.village or "").strip()
    if case.beneficiary_kind == "person":
        surname = (case.surname or "").strip() or surname_of(case.name)
        if surname and village:
            return _("%(surname)s (name withheld), %(village)s") % {
                "surname": surname,
                "village": village,
            }
        if surname:
            return _("%(surname)s (name withheld)") % {"surname": surname}
        return _("a person in %(village)s") % {"village": village} if village else _("a person")
    if village:
        return _("a household in %(village)s") % {"village": village}
    return _("a household")


def personal_data_allowed(user, case) -> bool:
    """May `user` read the personal data of `case`? No query for managers (the scope cache);
    for others, a selector's `is_paired` annotation, prefetched paired members, or one query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if committee_reads(user, case.organization):
        return True
    paired = getattr(case, "is_paired", None)
    if paired is None:
        cache = getattr(case, "_prefetched_objects_cache", {})
        if "paired_members" in cache:
            paired = any(m.user_id == user.pk for m in cache["paired_members"])
        else:
            paired = case.paired_members.filter(user=user).exists()
    return bool(paired)


def _committee_paths(organization) -> set[str]:
    """Where the branch committee of `organization` sits: the organisation itself, and for a
    party group the branch above it."""
    paths = {organization.path}
    if organization.kind == Organization.Kind.GROUP and len(organization.path) > Organization.steplen:  # fmt: skip
        paths.add(organization.path[: -Organization.steplen])
    return paths


def committee_reads(user, organization) -> bool:
    """Does the user read personal data of every case of `organization` by their role (the
    branch committee, a reviewer over it, a superuser)? No query beyond the scope cache."""
    if scope.can_manage(user, organization, scope.REVIEW_ROLES):
        return True  # superusers too
    paths = _committee_paths(organization)
    return any(role in COMMITTEE_ROLES and path in paths for role, path in scope.assignments(user))


def personal_q(user) -> Q:
    """The cases whose personal data `user` reads, as a filter on PairingCase (for the admin's
    search by name)."""
    if user.is_active and user.is_superuser:
        return Q()
    from .models import PairingCase

    through = PairingCase.paired_members.through
    q = Q(Exists(through.objects.filter(pairingcase=OuterRef("pk"), member__user=user)))
    reviewed = scope.managed_paths(user, scope.REVIEW_ROLES)
    if reviewed:
        q |= scope.subtree_q(reviewed, prefix="organization__")
    committee = [path for role, path in scope.assignments(user) if role in COMMITTEE_ROLES]
    if committee:
        q |= Q(organization__path__in=committee)
        for path in committee:
            q |= Q(
                organization__kind=Organization.Kind.GROUP,
                organization__path__startswith=path,
                organization__depth=len(path) // Organization.steplen + 1,
            )
    return q


def beneficiary_label(case, *, personal: bool) -> str:
    """The beneficiary as `personal` allows: the name (and village), or the public label."""
    if not personal:
        return public_label(case)
    if case.village:
        return f"{case.name} · {case.village}"
    return case.name


def apply(cases, *, user) -> list:
    """Mark each case with `personal` (may this user read its personal data) and `label`."""
    out = []
    for case in cases:
        case.personal = personal_data_allowed(user, case)
        case.label = beneficiary_label(case, personal=case.personal)
        out.append(case)
    return out


def sees_uncleared_activity_photos(user, activity) -> bool:
    """Activity photos not cleared for showing: the branch committee and those above it only."""
    return scope.can_manage(user, activity.organization)
