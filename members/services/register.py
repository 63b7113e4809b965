"""The register: importing members from an Excel sheet. Every row is validated and created
through `member_create`; when any row is bad nothing is imported (one transaction) and every
rejected row is reported with its number and the reason."""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from branches import scope
from branches.models import Organization, ProjectSite

from ..models import Member
from .records import member_create

# The columns of the import sheet, in order (the first row holds the headers).
IMPORT_COLUMNS = (
    "username",
    "email",
    "real_name",
    "branch",
    "project_site",
    "status",
    "category",
    "phone",
    "position",
    "joined_party_on",
)
MAX_IMPORT_ROWS = 5000


@dataclass
class RejectedRow:
    row: int
    reason: str


class ImportRejected(Exception):
    """Nothing was imported; `rows` says which rows are bad and why."""

    def __init__(self, rows: list[RejectedRow]):
        super().__init__(f"{len(rows)} rows rejected")
        self.rows = rows


def _choices(choices) -> dict[str, str]:
    """A cell may hold the stored value or its label in either language."""
    known = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            for value, label in choices:
                known[str(label).strip().lower()] = value
    known.update({value: value for value, _label in choices})
    return known


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value))
    except ValueError as exc:
        raise ValidationError(
            _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value}
        ) from exc


def read_rows(fileobj) -> list[tuple[int, dict]]:
    """(sheet row number, {column: value}) of the first sheet, headers skipped, empty rows
    ignored. A file that is not an .xlsx workbook is a ValidationError."""
    try:
        wb = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(_("This is not an Excel (.xlsx) file.")) from exc
    rows = []
    try:
        for number, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
            if number == 1 or not any(_text(v) for v in values):
                continue
            rows.append((number, dict(zip(IMPORT_COLUMNS, values, strict=False))))
            if len(rows) > MAX_IMPORT_ROWS:
                raise ValidationError(
                    _("At most %(n)d members per import.") % {"n": MAX_IMPORT_ROWS}
                )
    finally:
        wb.close()
    return rows


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
                for field, msgs in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    return str(exc)


@transaction.atomic
def members_import(*, by, rows: list[tuple[int, dict]]) -> list[Member]:
    """Create a member for each row, or none at all: raises ImportRejected listing every bad
    row (its sheet number and the reason). Branches and sites are named; branches must be
    ones `by` manages."""
    branches = Organization.objects.filter(kind__in=Organization.REGISTRATION_KINDS)
    if not (by.is_active and by.is_superuser):
        branches = branches.filter(scope.subtree_q(scope.managed_paths(by)))
    by_name: dict[str, list[Organization]] = {}
    for org in branches:
        by_name.setdefault(org.name, []).append(org)
    sites: dict[tuple[int, str], ProjectSite] = {
        (s.organization_id, s.name): s
        for s in ProjectSite.objects.filter(
            organization__in=[o for v in by_name.values() for o in v]
        )
    }
    statuses = _choices(Member.Status.choices)
    categories = _choices(Member.Category.choices)
    rejected: list[RejectedRow] = []
    created: list[Member] = []
    if not rows:
        raise ImportRejected([RejectedRow(0, _("The sheet has no member rows."))])
    for number, cells in rows:
        try:
            name = _text(cells.get("branch"))
            found = by_name.get(name, [])
            if len(found) != 1:
                raise ValidationError(
                    _("Branch “%(name)s” is not one you manage.") % {"name": name}
                    if not found
                    else _("Several branches are named “%(name)s”.") % {"name": name}
                )
            branch = found[0]
            site_name = _text(cells.get("project_site"))
            site = None
            if site_name:
                site = sites.get((branch.pk, site_name))
                if site is None:
                    raise ValidationError(
                        _("Project site “%(name)s” does not belong to %(branch)s.")
                        % {"name": site_name, "branch": branch}
                    )
            status = statuses.get(_text(cells.get("status")).lower() or Member.Status.FULL)
            category = categories.get(
                _text(cells.get("category")).lower() or Member.Category.OFFICE
            )
            if status is None:
                raise ValidationError(_("Unknown membership “%(v)s”.") % {"v": cells.get("status")})
            if category is None:
                raise ValidationError(_("Unknown category “%(v)s”.") % {"v": cells.get("category")})
            username, email = _text(cells.get("username")), _text(cells.get("email"))
            if not username or not _text(cells.get("real_name")):
                raise ValidationError(_("The user name and the real name are required."))
            validate_email(email)
            with transaction.atomic():
                created.append(
                    member_create(
                        by=by,
                        username=username,
                        email=email,
                        real_name=_text(cells.get("real_name")),
                        branch=branch,
                        project_site=site,
                        status=status,
                        category=category,
                        phone=_text(cells.get("phone")),
                        position=_text(cells.get("position")),
                        joined_party_on=_date(cells.get("joined_party_on")),
                    )
                )
        except (ValidationError, PermissionDenied) as exc:
            rejected.append(RejectedRow(number, _message(exc)))
    if rejected:
        transaction.set_rollback(True)
        raise ImportRejected(rejected)
    return created
