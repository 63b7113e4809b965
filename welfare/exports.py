"""Spreadsheets of the service sync, written through `core.exports` (formula-safe). What a
case row shows is `welfare.privacy`'s decision: exports meant for a wider circle (a member's
download of the branch record) never carry personal data, whoever downloads them."""

from django.utils.translation import gettext as _

from . import privacy


def activities_sheet(activities) -> tuple[list, list]:
    """Activities with what was done: no beneficiary data. `activities` carry the
    `hours` and `participant_count` annotations."""
    headers = [
        _("date"), _("organisation"), _("kind"), _("title"), _("place"), _("status"),
        _("participants"), _("hours"), _("money given (yuan)"), _("goods given"),
        _("value of the goods (yuan)"), _("people helped"),
    ]  # fmt: skip
    rows = (
        [
            a.held_on,
            a.organization.name,
            a.get_kind_display(),
            a.title,
            a.place,
            a.get_status_display(),
            a.participant_count,
            float(a.hours or 0),
            float(a.money_yuan),
            a.goods,
            float(a.goods_value_yuan),
            a.beneficiaries,
        ]
        for a in activities
    )
    return headers, rows


def cases_sheet(cases, *, user, wider: bool) -> tuple[list, list]:
    """Cases as `user` may see them. With `wider`, the public label only and no personal
    columns at all; otherwise the personal columns are filled for the cases whose personal
    data `user` may read (`welfare.privacy`) and left empty for the others."""
    headers = [
        _("beneficiary"), _("organisation"), _("village or community"), _("helped"),
        _("kind of help"), _("status"), _("paired since"), _("last follow-up visit"),
        _("follow-up visits"), _("handed over on"), _("handed over to"),
    ]  # fmt: skip
    if not wider:
        headers += [
            _("full name"), _("address"), _("phone"), _("people in the household"), _("situation"),
            _("help plan"), _("contact"),
        ]  # fmt: skip

    def row(case):
        personal = False if wider else privacy.personal_data_allowed(user, case)
        out = [
            privacy.beneficiary_label(case, personal=False), case.organization.name, case.village,
            case.get_beneficiary_kind_display(), case.get_help_kind_display(),
            case.get_status_display(), case.started_on, case.last_follow_up_on,
            getattr(case, "follow_up_count", None), case.handed_over_on,
            case.handover_to if case.handover_to else "",
        ]  # fmt: skip
        if not wider:
            values = (
                case.name, case.address, case.phone, case.household_size, case.situation,
                case.plan, case.handover_contact,
            )  # fmt: skip
            out += list(values) if personal else [""] * len(values)
        return out

    return headers, (row(c) for c in cases)
