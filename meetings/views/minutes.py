"""Pages of the minutes (会议记录) and the ledger (台账): the recorder's minutes page (CKEditor 5,
attachments, "mark as held", the secretary's "confirm"), the entry of a meeting held offline,
the printable ledger of a period and its Excel export. Thin: look up through the scope-checked
selectors, call a service, redirect with a message (PRG); nothing needs JavaScript."""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import xlsx_response
from core.richtext import editor_widget
from core.uploads import CheckedFileFormField, CheckedImageFormField
from lessons.forms import add_service_error

from .. import selectors
from ..models import Meeting
from ..selectors import minutes as minutes_selectors
from ..services import meeting_record_offline
from ..services import minutes as minutes_services


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=gettext_lazy("minutes"), required=False)
    sign_in_sheet = CheckedImageFormField(
        label=gettext_lazy("photo of the sign-in sheet"),
        required=False,
        widget=forms.FileInput,
        help_text=gettext_lazy("Optional: a photo of the paper sign-in sheet."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minutes"].widget = editor_widget(user=user)


class AttachmentForm(forms.Form):
    file = CheckedFileFormField(label=gettext_lazy("file"))
    title = forms.CharField(label=gettext_lazy("title"), max_length=120, required=False)


class PresentField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        member = getattr(obj, "member", None)
        return (member.real_name if member else "") or obj.get_username()


class OfflineEntryForm(forms.Form):
    """A meeting held offline, entered afterwards: who was present (the expected attendees,
    ticked), the minutes and a photo of the paper sign-in sheet."""

    present = PresentField(
        label=gettext_lazy("present"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Tick everyone who took part, as on the paper sign-in sheet."),
    )
    minutes = forms.CharField(label=gettext_lazy("minutes"), required=False)
    sign_in_sheet = CheckedImageFormField(
        label=gettext_lazy("photo of the sign-in sheet"), required=False, widget=forms.FileInput
    )

    def __init__(self, *args, meeting: Meeting, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        expected = (
            selectors.expected_attendees(meeting)
            .select_related("member")
            .order_by("member__real_name", "pk")
        )
        self.fields["present"].queryset = expected
        self.fields["minutes"].widget = editor_widget(user=user)
        if not self.is_bound:
            self.initial.setdefault("minutes", meeting.minutes)
            self.initial.setdefault(
                "present",
                list(
                    meeting.attendances.filter(signed_in_at__isnull=False).values_list(
                        "user_id", flat=True
                    )
                ),
            )


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _minutes_url(meeting: Meeting) -> str:
    return reverse("meetings:minutes", args=[meeting.pk])


def _back(request, meeting: Meeting):
    """To `next` when it is a path on this site, else to the minutes page."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(_minutes_url(meeting))


# --- the minutes page -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request, meeting_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    if request.method == "POST":
        form = MinutesForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                minutes_services.minutes_save(
                    meeting=meeting,
                    by=request.user,
                    minutes=form.cleaned_data["minutes"],
                    sign_in_sheet=form.cleaned_data["sign_in_sheet"] or None,
                )
            except ValidationError as exc:
                if not hasattr(exc, "error_dict"):  # confirmed meanwhile, no longer held
                    messages.error(request, _message_of(exc))
                    return redirect(_minutes_url(meeting))
                add_service_error(form, exc)
            else:
                messages.success(request, _("The minutes are saved."))
                return redirect(_minutes_url(meeting))
    else:
        form = MinutesForm(initial={"minutes": meeting.minutes}, user=request.user)
    context = minutes_selectors.minutes_block(meeting=meeting, user=request.user)
    context.update({"form": form, "attachment_form": AttachmentForm()})
    return render(request, "meetings/minutes/edit.html", context)


@login_required
@require_POST
def minutes_confirm(request, meeting_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    try:
        minutes_services.minutes_confirm(meeting=meeting, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The minutes are confirmed: they are now part of the ledger."))
    return _back(request, meeting)


@login_required
@require_POST
def meeting_mark_held(request, meeting_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    try:
        minutes_services.meeting_mark_held(meeting=meeting, by=request.user)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The meeting is marked as held. Now write the minutes."))
    return _back(request, meeting)


@login_required
@require_POST
def attachment_add(request, meeting_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            minutes_services.minutes_attachment_add(
                meeting=meeting,
                by=request.user,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The file is attached to the minutes."))
            return redirect(_minutes_url(meeting))
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(_minutes_url(meeting))


@login_required
@require_POST
def attachment_remove(request, meeting_id: int, attachment_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    try:
        minutes_services.minutes_attachment_remove(
            meeting=meeting, by=request.user, attachment_id=attachment_id
        )
    except ValidationError as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The attachment is removed."))
    return redirect(_minutes_url(meeting))


@login_required
@require_http_methods(["GET", "POST"])
def offline_entry(request, meeting_id: int):
    meeting = minutes_selectors.access_meeting_for_minutes(meeting_id=meeting_id, user=request.user)
    if request.method == "POST":
        form = OfflineEntryForm(request.POST, request.FILES, meeting=meeting, user=request.user)
        if form.is_valid():
            try:
                meeting_record_offline(
                    meeting=meeting,
                    by=request.user,
                    present_user_ids=[u.pk for u in form.cleaned_data["present"]],
                    minutes=form.cleaned_data["minutes"],
                    sign_in_sheet=form.cleaned_data["sign_in_sheet"] or None,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The meeting is entered as held offline."))
                return redirect(_minutes_url(meeting))
    else:
        form = OfflineEntryForm(meeting=meeting, user=request.user)
    return render(request, "meetings/minutes/offline.html", {"meeting": meeting, "form": form})


# --- the ledger -----------------------------------------------------------------------------


class LedgerForm(forms.Form):
    org = forms.IntegerField(required=False, widget=forms.Select)
    start = forms.DateField(label=gettext_lazy("from"), required=False)
    end = forms.DateField(label=gettext_lazy("to"), required=False)
    sub = forms.BooleanField(label=gettext_lazy("with the organisations under it"), required=False)

    def period(self) -> tuple[date, date]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("start") or date(today.year, 1, 1)
        end = data.get("end") or date(today.year, 12, 31)
        if end < start:
            start, end = end, start
        return start, end


def _ledger(request):
    form = LedgerForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else False
    org_id = form.cleaned_data.get("org") if valid else None
    organization = minutes_selectors.ledger_organization(user=request.user, organization_id=org_id)
    start, end = form.period()
    # Unticked "sub" comes as nothing: the first visit (no query string) includes the subtree.
    subtree = bool(form.cleaned_data.get("sub")) if valid else not form.is_bound
    meetings = minutes_selectors.ledger_meetings(
        organization=organization, start=start, end=end, subtree=subtree
    )
    return form, organization, start, end, subtree, meetings


@login_required
@require_GET
def ledger(request):
    form, organization, start, end, subtree, meetings = _ledger(request)
    rows = list(meetings[: minutes_selectors.LEDGER_PAGE_LIMIT + 1])
    truncated = len(rows) > minutes_selectors.LEDGER_PAGE_LIMIT
    rows = rows[: minutes_selectors.LEDGER_PAGE_LIMIT]
    for meeting in rows:
        meeting.absent = minutes_selectors.absent(meeting)
    return render(
        request,
        "meetings/minutes/ledger.html",
        {
            "form": form,
            "organization": organization,
            "organizations": minutes_selectors.ledger_organizations(request.user).only(
                "pk", "name", "depth", "path"
            ),
            "start": start,
            "end": end,
            "subtree": subtree,
            "meetings": rows,
            "truncated": truncated,
            "limit": minutes_selectors.LEDGER_PAGE_LIMIT,
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
def ledger_xlsx(request):
    _form, organization, start, end, _subtree, meetings = _ledger(request)
    return xlsx_response(
        filename=f"ledger-{organization.pk}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
        headers=minutes_selectors.LEDGER_HEADERS,
        rows=minutes_selectors.ledger_rows(meetings),
        sheet_title=_("Ledger"),
    )


urlpatterns = [
    path("meetings/ledger/", ledger, name="ledger"),
    path("meetings/ledger.xlsx", ledger_xlsx, name="ledger_xlsx"),
    path("meetings/<int:meeting_id>/minutes/", minutes_edit, name="minutes"),
    path("meetings/<int:meeting_id>/minutes/confirm/", minutes_confirm, name="minutes_confirm"),
    path("meetings/<int:meeting_id>/minutes/attachments/", attachment_add, name="minutes_attach"),
    path(
        "meetings/<int:meeting_id>/minutes/attachments/<int:attachment_id>/remove/",
        attachment_remove,
        name="minutes_detach",
    ),
    path("meetings/<int:meeting_id>/held/", meeting_mark_held, name="mark_held"),
    path("meetings/<int:meeting_id>/offline/", offline_entry, name="offline"),
]
