"""The member-facing pages of the service sync. Thin: look up through the scope-checked
selectors, call a service. Sign-up answers htmx with the sign-up panel to swap in and a plain
form post with a redirect and a message; a follow-up visit is a plain multipart form.

Photos of cases that are not cleared for showing, and handover documents, are served here
after the privacy check, never linked by their storage URL."""

import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exports import xlsx_response
from lessons.forms import add_service_error

from . import privacy, selectors, services
from .exports import activities_sheet, cases_sheet
from .forms import FollowUpForm
from .models import FollowUpPhoto, PairingCase, WelfareActivity

SIGNUP_ANCHOR = "sign-up"


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


# --- activities -------------------------------------------------------------------------------


@login_required
@require_GET
def index(request):
    status = request.GET.get("status")
    status = status if status in ("planned", "done") else None
    kind = request.GET.get("kind")
    kind = kind if kind in WelfareActivity.Kind.values else None
    qs = selectors.activity_list_for_user(user=request.user, status=status, kind=kind)
    page = Paginator(qs, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "welfare/index.html",
        {
            "page_obj": page,
            "status": status,
            "kind": kind,
            "kinds": WelfareActivity.Kind.choices,
            "record": selectors.record_for_user(user=request.user),
            "cases": selectors.cases_on_index(user=request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def activity_detail(request, activity_id: int):
    activity = selectors.access_activity_by_id(activity_id=activity_id, user=request.user)
    return render(
        request,
        "welfare/activity_detail.html",
        selectors.activity_detail(activity=activity, user=request.user),
    )


def _signup_done(request, activity, *, notice: str = "", error: str = ""):
    if request.htmx:
        context = selectors.signup_context(activity=activity, user=request.user)
        context.update({"notice": notice, "error": error})
        return render(request, "welfare/includes/_signup.html", context)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(activity.get_absolute_url() + f"#{SIGNUP_ANCHOR}")


@login_required
@require_POST
def sign_up(request, activity_id: int):
    activity = selectors.access_activity_by_id(activity_id=activity_id, user=request.user)
    try:
        services.activity_sign_up(activity=activity, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _signup_done(request, activity, error=_message_of(exc))
    return _signup_done(request, activity, notice=_("You are signed up. See you there!"))


@login_required
@require_POST
def withdraw(request, activity_id: int):
    activity = selectors.access_activity_by_id(activity_id=activity_id, user=request.user)
    try:
        withdrawn = services.activity_withdraw(activity=activity, user=request.user)
    except (PermissionDenied, ValidationError) as exc:
        return _signup_done(request, activity, error=_message_of(exc))
    notice = _("Your sign-up is withdrawn.") if withdrawn else _("You had not signed up.")
    return _signup_done(request, activity, notice=notice)


# --- cases ------------------------------------------------------------------------------------


@login_required
@require_GET
def case_list(request):
    status = request.GET.get("status")
    status = status if status in PairingCase.Status.values else None
    qs = selectors.case_list_for_user(user=request.user, status=status)
    page = Paginator(qs, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    privacy.apply(page.object_list, user=request.user)
    return render(
        request,
        "welfare/case_list.html",
        {"page_obj": page, "status": status, "statuses": PairingCase.Status.choices},
    )


def _case_page(request, case, *, form=None, status=200):
    context = selectors.case_detail(case=case, user=request.user, page=request.GET.get("page", 1))
    if context["can_follow_up"]:
        context["form"] = form or FollowUpForm()
    return render(request, "welfare/case_detail.html", context, status=status)


@login_required
@require_GET
def case_detail(request, case_id: int):
    case = selectors.access_case_by_id(case_id=case_id, user=request.user)
    return _case_page(request, case)


@login_required
@require_POST
def follow_up_create(request, case_id: int):
    case = selectors.access_case_by_id(case_id=case_id, user=request.user)
    if not services.may_follow_up(request.user, case):
        raise PermissionDenied(_("Only the paired members and the branch committee record visits."))
    form = FollowUpForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.follow_up_add(
                case=case,
                by=request.user,
                visited_on=form.cleaned_data["visited_on"],
                notes=form.cleaned_data["notes"],
                photos=form.photos,
                cleared=form.cleaned_data["cleared"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The visit is recorded."))
            return redirect(case.get_absolute_url())
    return _case_page(request, case, form=form, status=400)


def _private_file(field_file, *, attachment: bool = False) -> FileResponse:
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    name = field_file.name.rsplit("/", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=attachment,
        filename=name,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def case_photo(request, case_id: int, photo_id: int):
    """A follow-up photo: cleared ones to whoever sees the case, the others only to those
    allowed the personal data (404 to everyone else, as if it did not exist)."""
    case = selectors.access_case_by_id(case_id=case_id, user=request.user)
    photo = FollowUpPhoto.objects.filter(pk=photo_id, follow_up__case=case).first()
    if photo is None or not (photo.cleared or privacy.personal_data_allowed(request.user, case)):
        raise Http404
    return _private_file(photo.image)


@login_required
@require_GET
def handover_document(request, case_id: int):
    case = selectors.access_case_by_id(case_id=case_id, user=request.user)
    if not case.handover_document or not privacy.personal_data_allowed(request.user, case):
        raise Http404
    return _private_file(case.handover_document, attachment=True)


# --- exports for the branch's record (a wider circle: no personal data) -------------------------


@login_required
@require_GET
def export_activities(request):
    activities = (
        selectors.activities_visible_to(user=request.user)
        .filter(organization__path__in=selectors.on_my_path(request.user))
        .select_related("organization")
        .annotate(participant_count=Count("participants"), hours=Sum("participants__hours"))
        .order_by("-held_on", "-pk")
    )
    headers, rows = activities_sheet(activities)
    return xlsx_response(
        filename="welfare-activities.xlsx", headers=headers, rows=rows, sheet_title=_("Activities")
    )


@login_required
@require_GET
def export_cases(request):
    cases = selectors.case_list_for_user(user=request.user)
    headers, rows = cases_sheet(cases, user=request.user, wider=True)
    return xlsx_response(
        filename="welfare-cases.xlsx", headers=headers, rows=rows, sheet_title=_("Pairing help")
    )
