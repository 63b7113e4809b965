"""Who sees a beneficiary's personal data: the one place that decides. Pages, admin lists,
exports and notifications all ask here.

Personal data (a case's name, address, phone, situation, plan, follow-up notes, the handover
contact and document, and photos not cleared for showing) is for:
- those who manage the case's organisation: its secretary, deputies and committee members,
  those of the organisations above it and the committee reviewers over it (superusers too),
- the case's paired members.
Everyone else who may see the case at all sees its public label ("a household in X village",
"Zhang 某, X village"; in English "Zhang (name withheld)") and only photos cleared for
showing. Notifications, comments and exports meant for a wider circle use the public label
whoever reads them.
"""

from django.utils.translation import gettext as _

from branches import scope

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
    if scope.can_manage(user, case.organization):
        return True
    paired = getattr(case, "is_paired", None)
    if paired is None:
        cache = getattr(case, "_prefetched_objects_cache", {})
        if "paired_members" in cache:
            paired = any(m.user_id == user.pk for m in cache["paired_members"])
        else:
            paired = case.paired_members.filter(user=user).exists()
    return bool(paired)


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
