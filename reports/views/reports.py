"""Pages of the activity reports: the list (a branch committee's periods and reports, a
reviewer's reports to review with filters), a report's page (figures, compliance, narrative,
attachments, history; the secretary's edit and submit, the reviewer's approve and return), the
printable view and the Excel export. Thin: scope-checked selectors, services, PRG redirects;
nothing needs JavaScript."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import scope
from core.exports import xlsx_response
from core.richtext import editor_widget
from core.uploads import CheckedFileFormField

from ..models import ActivityReport
from ..periods import Period
from ..selectors import reports as selectors
from ..services import reports as services
from . import add_errors, message_of


class NarrativeForm(forms.Form):
    narrative = forms.CharField(label=gettext_lazy("narrative"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["narrative"].widget = editor_widget(user=user)


class AttachmentForm(forms.Form):
    file = CheckedFileFormField(label=gettext_lazy("file"))
    title = forms.CharField(label=gettext_lazy("title"), max_length=120, required=False)


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("comments for the branch"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
    )


class ApproveForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("comments (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
    )


def _period_of(request) -> Period | None:
    try:
        return Period.parse(request.GET.get("period", ""))
    except ValueError:
        return None


def _status_of(request) -> str:
    status = request.GET.get("status", "")
    return status if status in selectors.LIST_STATUSES else ""


# --- the list ------------------------------------------------------------------------------


@login_required
@require_GET
def report_list(request):
    user = request.user
    mine = selectors.my_periods(user=user)
    reviews = scope.has_role(user, scope.REVIEW_ROLES)
    if not mine and not reviews:
        raise PermissionDenied
    status, period = _status_of(request), _period_of(request)
    page = None
    if reviews:
        page = Paginator(
            selectors.reports_for_review(user=user, status=status, period=period),
            settings.NETBRANCH_PAGE_SIZE,
        ).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/report_list.html",
        {
            "mine": mine,
            "reviews": reviews,
            "page_obj": page,
            "status": status,
            "period": period,
            "period_text": str(period) if period else "",
            "due_days": settings.NETBRANCH_REPORT_DUE_DAYS,
            "statuses": [
                (s, label)
                for s, label in (
                    ("submitted", _("submitted, to review")),
                    ("returned", _("returned")),
                    ("approved", _("approved")),
                    ("draft", _("draft")),
                    ("overdue", _("overdue")),
                )
            ],
        },
    )


@login_required
@require_POST
def report_open(request):
    user = request.user
    orgs = {str(o.pk): o for o in selectors.preparer_organizations(user)}
    org = orgs.get(request.POST.get("organization", ""))
    if org is None:
        raise Http404
    try:
        period = Period.parse(request.POST.get("period", ""))
        report = services.report_open(organization=org, period=period, by=user)
    except ValueError:
        messages.error(request, _("Unknown period."))
        return redirect("reports:list")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
        return redirect("reports:list")
    return redirect(report)


@login_required
@require_GET
def report_export(request):
    user = request.user
    if not (
        selectors.preparer_paths(user)
        or selectors.reviewer_paths(user)
        or (user.is_superuser and user.is_active)
    ):
        raise PermissionDenied
    reports = selectors.export_reports(
        user=user, status=_status_of(request), period=_period_of(request)
    )
    headers, rows = selectors.export_sheet(reports)
    return xlsx_response(
        filename="activity-reports.xlsx", headers=headers, rows=rows, sheet_title=_("Reports")
    )


# --- a report --------------------------------------------------------------------------------


def _render_report(request, report: ActivityReport, **forms_) -> object:
    context = selectors.report_page(report=report, user=request.user)
    if context["can_edit"]:
        context["form"] = forms_.get("form") or NarrativeForm(
            user=request.user, initial={"narrative": report.narrative}
        )
        context["attachment_form"] = forms_.get("attachment_form") or AttachmentForm()
    if context["can_review"]:
        context["return_form"] = forms_.get("return_form") or ReturnForm()
        context["approve_form"] = forms_.get("approve_form") or ApproveForm()
    status = 400 if forms_ else 200
    return render(request, "reports/report_detail.html", context, status=status)


@login_required
@require_GET
def report_detail(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    return _render_report(request, report)


@login_required
@require_GET
def report_print(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    context = selectors.report_page(report=report, user=request.user)
    return render(request, "reports/report_print.html", context)


@login_required
@require_http_methods(["POST"])
def report_edit(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    form = NarrativeForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_report(request, report, form=form)
    try:
        services.report_update(
            report=report, by=request.user, narrative=form.cleaned_data["narrative"]
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The narrative is saved."))
    return redirect(report)


@login_required
@require_POST
def report_attach(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_report(request, report, attachment_form=form)
    try:
        services.report_attachment_add(
            report=report,
            by=request.user,
            file=form.cleaned_data["file"],
            title=form.cleaned_data["title"],
        )
    except ValidationError as exc:
        add_errors(form, exc)
        return _render_report(request, report, attachment_form=form)
    except PermissionDenied as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The file is attached."))
    return redirect(report)


@login_required
@require_POST
def report_detach(request, report_id: int, attachment_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    try:
        services.report_attachment_remove(
            report=report, by=request.user, attachment_id=attachment_id
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The attachment is removed."))
    return redirect(report)


@login_required
@require_POST
def report_submit(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    try:
        services.report_submit(report=report, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(
            request, _("The report is submitted: its figures are frozen and the reviewers told.")
        )
    return redirect(report)


@login_required
@require_POST
def report_approve(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _render_report(request, report, approve_form=form)
    try:
        services.report_approve(
            report=report, by=request.user, comment=form.cleaned_data["comment"]
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The report is approved."))
    return redirect(report)


@login_required
@require_POST
def report_return(request, report_id: int):
    report = selectors.access_report_by_id(report_id=report_id, user=request.user)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _render_report(request, report, return_form=form)
    try:
        services.report_return(report=report, by=request.user, comment=form.cleaned_data["comment"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The report is returned to the branch with your comments."))
    return redirect(report)


urlpatterns = [
    path("reports/", report_list, name="list"),
    path("reports/open/", report_open, name="open"),
    path("reports/export.xlsx", report_export, name="export"),
    path("reports/<int:report_id>/", report_detail, name="report"),
    path("reports/<int:report_id>/print/", report_print, name="print"),
    path("reports/<int:report_id>/edit/", report_edit, name="edit"),
    path("reports/<int:report_id>/attach/", report_attach, name="attach"),
    path(
        "reports/<int:report_id>/attachments/<int:attachment_id>/remove/",
        report_detach,
        name="detach",
    ),
    path("reports/<int:report_id>/submit/", report_submit, name="submit"),
    path("reports/<int:report_id>/approve/", report_approve, name="approve"),
    path("reports/<int:report_id>/return/", report_return, name="return"),
]
