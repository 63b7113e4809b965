"""Pages of the paper packs (离线学习包) for sites without network: the pack of an organisation
(HTML that prints well from any browser, and the same as a PDF rendered on the server), the
page where a secretary types the short code from a paper sign-in sheet, and the entry of that
sheet (attendance, minutes, a photo of the sheet, reflections typed or photographed), which
enters the meeting as held offline. Thin: scope-checked selectors, one service, PRG."""

import time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from core.richtext import editor_widget
from core.uploads import CheckedImageFormField
from lessons.forms import add_service_error

from ..models import SHORT_CODE_LENGTH, Meeting
from ..selectors import packs as selectors
from ..selectors import reflections as reflection_selectors
from ..services.packs import SheetReflection, meeting_ensure_short_code, meeting_enter_sheet


def _meeting_id(request) -> int | None:
    raw = request.GET.get("meeting")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise Http404 from exc


def _pack_context(request, organization_id: int) -> dict:
    organization = selectors.access_pack_organization(
        organization_id=organization_id, user=request.user
    )
    context = selectors.pack_for_organization(
        organization=organization, meeting_id=_meeting_id(request)
    )
    if context["meeting"] is not None:
        meeting_ensure_short_code(meeting=context["meeting"])
    context["entry_url"] = request.build_absolute_uri(reverse("meetings:offline_code"))
    return context


@login_required
@require_GET
def pack(request, organization_id: int):
    context = _pack_context(request, organization_id)
    return render(request, "meetings/pack.html", context)


@login_required
@require_GET
def pack_pdf(request, organization_id: int):
    context = _pack_context(request, organization_id)
    context["pdf"] = True
    html = render_to_string("meetings/pack_pdf.html", context, request=request)
    from ..pdf import render_pdf  # WeasyPrint needs Pango: only the PDF depends on it

    started = time.perf_counter()
    data = render_pdf(html)
    meeting = context["meeting"]
    name = f"pack-{organization_id}{'-' + meeting.short_code if meeting else ''}.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Server-Timing"] = f"pdf;dur={(time.perf_counter() - started) * 1000:.0f}"
    return response


# --- the entry of a sheet -------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the sheet"),
        max_length=20,
        help_text=gettext_lazy("The %(n)s letters and digits printed on the sign-in sheet.")
        % {"n": SHORT_CODE_LENGTH},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.meeting = None

    def clean_code(self):
        meeting = selectors.meeting_by_short_code(code=self.cleaned_data["code"], user=self.user)
        if meeting is None:
            # The same words for an unknown code and another organisation's meeting.
            raise ValidationError(
                _("No meeting you keep the minutes of has this code. Check the code on the sheet.")
            )
        refusal = entry_refusal(meeting)
        if refusal:
            raise ValidationError(refusal)
        self.meeting = meeting
        return meeting.short_code


def entry_refusal(meeting: Meeting, now=None) -> str:
    """Why a sheet cannot be entered for this meeting now ("" when it can)."""
    now = now or timezone.now()
    if meeting.status == Meeting.Status.CANCELLED:
        return _("This meeting is cancelled.")
    if meeting.minutes_confirmed_at is not None:
        return _("The minutes of this meeting are confirmed: its sheet can no longer be entered.")
    if meeting.starts_at > now:
        return _("A meeting can be entered only after it took place.")
    if meeting.status == Meeting.Status.HELD and not meeting.held_offline:
        return _("This meeting is already recorded as held online: correct it on its minutes page.")
    return ""


@login_required
@require_GET
def offline_code(request):
    """Type the code from a paper sheet (a read: GET), then on to its entry form. Also lists
    the packs to print for the sites without coverage the user looks after."""
    form = CodeForm(request.GET or None, user=request.user)
    if form.is_bound and form.is_valid():
        return redirect("meetings:offline_sheet", code=form.meeting.short_code)
    sites = list(selectors.sites_without_coverage(user=request.user)[: selectors.PACK_ORGANIZATIONS_SHOWN])  # fmt: skip
    return render(request, "meetings/pack_code.html", {"form": form, "sites": sites})


class SheetForm(forms.Form):
    """The paper sheet: who was present (ticked), the minutes, a photo of the sheet and, for a
    Party lesson or a themed day, each attendee's reflection typed or photographed."""

    minutes = forms.CharField(label=gettext_lazy("minutes"), required=False)
    sign_in_sheet = CheckedImageFormField(
        label=gettext_lazy("photo of the sign-in sheet"), required=False, widget=forms.FileInput
    )

    def __init__(self, *args, meeting: Meeting, users: list, present: set, reflections: dict, user, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.meeting, self.users = meeting, users
        self.with_reflections = reflection_selectors.takes_reflections(meeting)
        self.fields["minutes"].widget = editor_widget(user=user)
        self.fields["present"] = forms.TypedMultipleChoiceField(
            label=gettext_lazy("present"),
            choices=[(u.pk, self.name_of(u)) for u in users],
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        if not self.is_bound:
            self.initial.setdefault("minutes", meeting.minutes)
            self.initial.setdefault("present", sorted(present))
        limit = reflection_selectors.max_length()
        self.rows = []
        for u in users:
            mine = reflections.get(u.pk)
            own = mine is not None and mine.entered_by_id is None
            row = {"user": u, "name": self.name_of(u), "own": mine if own else None}
            if self.with_reflections and not own:
                body, photo = f"reflection_{u.pk}", f"reflection_photo_{u.pk}"
                self.fields[body] = forms.CharField(
                    label=gettext_lazy("reflection"),
                    required=False,
                    max_length=limit,
                    strip=True,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
                self.fields[photo] = CheckedImageFormField(
                    label=gettext_lazy("or a photo of it"), required=False, widget=forms.FileInput
                )
                if mine is not None and not self.is_bound:
                    self.initial.setdefault(body, mine.body)
                row.update(body=self[body], photo=self[photo], entered=mine)
            self.rows.append(row)

    @staticmethod
    def name_of(user) -> str:
        member = getattr(user, "member", None)
        return (member.real_name if member else "") or user.get_username()

    def checked(self) -> set[int]:
        if self.is_bound:
            raw = self.data.getlist(self.add_prefix("present"))
            return {int(v) for v in raw if str(v).isdigit()}
        return set(self.initial.get("present") or ())

    def sheet_reflections(self) -> list[SheetReflection]:
        out = []
        for u in self.users:
            body = self.cleaned_data.get(f"reflection_{u.pk}") or ""
            photo = self.cleaned_data.get(f"reflection_photo_{u.pk}")
            if body or photo:
                out.append(SheetReflection(user_id=u.pk, body=body, photo=photo))
        return out


@login_required
@require_http_methods(["GET", "POST"])
def offline_sheet(request, code: str):
    meeting = selectors.access_meeting_by_short_code(code=code, user=request.user)
    refusal = entry_refusal(meeting)
    if refusal:
        messages.error(request, refusal)
        return redirect("meetings:minutes", meeting_id=meeting.pk)
    users, present, reflections = selectors.sheet_entry_rows(meeting)
    kwargs = {"meeting": meeting, "users": users, "present": present, "reflections": reflections}
    if request.method == "POST":
        form = SheetForm(request.POST, request.FILES, user=request.user, **kwargs)
        if form.is_valid():
            try:
                result = meeting_enter_sheet(
                    meeting=meeting,
                    by=request.user,
                    present_user_ids=form.cleaned_data["present"],
                    minutes=form.cleaned_data["minutes"],
                    sign_in_sheet=form.cleaned_data["sign_in_sheet"] or None,
                    reflections=form.sheet_reflections(),
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "The sheet is entered: the meeting counts as held offline, %(present)s present, %(written)s reflections entered."
                    )
                    % {"present": result.present, "written": result.written},
                )
                if result.kept:
                    messages.info(
                        request,
                        ngettext(
                            "%(n)s member had written a reflection online: it is kept as written.",
                            "%(n)s members had written a reflection online: they are kept as written.",
                            result.kept,
                        )
                        % {"n": result.kept},
                    )
                return redirect("meetings:minutes", meeting_id=meeting.pk)
    else:
        form = SheetForm(user=request.user, **kwargs)
    return render(
        request,
        "meetings/pack_entry.html",
        {"meeting": meeting, "form": form, "checked": form.checked()},
    )


urlpatterns = [
    path("meetings/pack/<int:organization_id>/", pack, name="pack"),
    path("meetings/pack/<int:organization_id>.pdf", pack_pdf, name="pack_pdf"),
    path("meetings/offline/", offline_code, name="offline_code"),
    path("meetings/offline/<str:code>/", offline_sheet, name="offline_sheet"),
]
