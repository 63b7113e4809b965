"""The member's own pages: their record (/me/) with the details they may correct and their
transfers, and finding a branch to join (/join/). Thin: scope-checked lookups in selectors,
writes in services, plain forms with a redirect and a message."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import scope

from . import selectors, services
from .forms import CaseCloseForm, ContactAttemptForm, JoinRequestForm, OwnContactForm, TransferForm
from .models import ActivityFact, Member


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def _own_member(request) -> Member:
    member = Member.objects.select_related("branch").filter(user=request.user).first()
    if member is None:
        raise PermissionDenied(_("You have no member record yet: find a branch to join."))
    return member


def _me_page(request, *, contact_form=None, status=200):
    record = selectors.record_for_user(user=request.user)
    member = record["member"]
    query = request.GET.get("q", "")[:60]
    context = {
        **record,
        "contact_form": contact_form or (OwnContactForm(instance=member) if member else None),
        "query": query,
        "results": selectors.branch_search(query=query) if query and member else [],
    }
    return render(request, "members/me.html", context, status=status)


@login_required
@require_GET
def me(request):
    return _me_page(request)


@login_required
@require_POST
def me_contact(request):
    member = _own_member(request)
    form = OwnContactForm(request.POST, instance=Member(pk=member.pk))
    if not form.is_valid():
        return _me_page(request, contact_form=form, status=400)
    try:
        services.member_own_update(
            member=member,
            by=request.user,
            fields={f: form.cleaned_data[f] for f in services.OWN_FIELDS},
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("Your record is updated."))
    return redirect("members:me")


@login_required
@require_http_methods(["GET", "POST"])
def me_transfer(request):
    """GET: the form for a transfer to the branch `?to=` (found on /me/) or, without it, out of
    the group. POST: ask for it."""
    member = _own_member(request)
    data = request.POST if request.method == "POST" else None
    to_id = (data or request.GET).get("to_branch") or request.GET.get("to")
    to_branch = selectors.access_registration_branch(branch_id=to_id) if to_id else None
    form = TransferForm(data, initial={"to_branch": to_branch.pk if to_branch else None})
    if data is not None and form.is_valid():
        try:
            services.transfer_request(
                member=member,
                by=request.user,
                to_branch=to_branch,
                external_organization=""
                if to_branch
                else form.cleaned_data["external_organization"],
                letter_number=form.cleaned_data["letter_number"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message_of(exc))
        else:
            messages.success(
                request, _("Your transfer is requested; your branch's secretary is told.")
            )
        return redirect("members:me")
    if to_branch is not None:
        del form.fields["external_organization"]
    return render(
        request,
        "members/transfer_form.html",
        {"member": member, "to_branch": to_branch, "form": form},
        status=400 if data is not None else 200,
    )


@login_required
@require_POST
def me_transfer_withdraw(request, transfer_id: int):
    transfer = selectors.access_own_transfer(transfer_id=transfer_id, user=request.user)
    try:
        services.transfer_withdraw(transfer=transfer, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The transfer is withdrawn."))
    return redirect("members:me")


# --- finding a branch ----------------------------------------------------------------------------


@login_required
@require_GET
def join(request):
    query = request.GET.get("q", "")[:60]
    member = Member.objects.select_related("branch").filter(user=request.user).first()
    registered = member is not None and member.branch is not None
    record_requests = list(
        request.user.join_requests.select_related("branch").order_by("-created_at", "-pk")
    )
    return render(
        request,
        "members/join.html",
        {
            "query": query,
            "results": selectors.branch_search(query=query) if query else [],
            "registered_member": member if registered else None,
            "join_requests": record_requests,
            "pending": any(j.state == j.State.PENDING for j in record_requests),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def join_send(request, branch_id: int):
    branch = selectors.access_registration_branch(branch_id=branch_id)
    member = Member.objects.filter(user=request.user).first()
    initial = {"real_name": member.real_name, "phone": member.phone} if member else {}
    form = JoinRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.join_request_send(user=request.user, branch=branch, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _message_of(exc))
        else:
            messages.success(
                request, _("Your request is sent; the branch's secretary will answer it.")
            )
        return redirect("members:join")
    return render(
        request,
        "members/join_form.html",
        {"branch": branch, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def join_withdraw(request, join_request_id: int):
    join_request = selectors.access_own_join_request(
        join_request_id=join_request_id, user=request.user
    )
    try:
        services.join_request_withdraw(join_request=join_request, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("Your request is withdrawn."))
    return redirect("members:join")


# --- the lost-contact radar and outreach cases (managers) ----------------------------------------


def _radar_page(request, *, status=200):
    if not scope.has_role(request.user):
        raise PermissionDenied(_("The radar is for the secretaries and reviewers."))
    contact = request.GET.get("status", "")
    page = Paginator(
        selectors.radar_rows(user=request.user, status=contact), settings.NETBRANCH_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    # The last fact's kind comes from a subquery as its raw value: show its label.
    kinds = dict(ActivityFact.Kind.choices)
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.last_fact_label = kinds.get(row.last_fact_kind, row.last_fact_kind)
    cases = Paginator(selectors.outreach_cases_open(user=request.user), 50).get_page(
        request.GET.get("cases")
    )
    return render(
        request,
        "members/radar.html",
        {
            "page_obj": page,
            "cases": cases,
            "status": contact,
            "statuses": [
                s for s in Member.ContactStatus.choices if s[0] != Member.ContactStatus.ACTIVE
            ],
            "now": timezone.now(),
            "at_risk_days": settings.NETBRANCH_CONTACT_AT_RISK_DAYS,
            "lost_days": settings.NETBRANCH_CONTACT_LOST_DAYS,
        },
        status=status,
    )


@login_required
@require_GET
def radar(request):
    return _radar_page(request)


@login_required
@require_POST
def case_open(request, member_id: int):
    member = selectors.access_radar_member(member_id=member_id, user=request.user)
    try:
        case = services.outreach_case_open(
            member=member, by=request.user, note=request.POST.get("note", "")[:500]
        )
    except ValidationError as exc:
        messages.error(request, _message_of(exc))
        return redirect("members:radar")
    messages.success(request, _("Outreach case opened for %(name)s.") % {"name": member})
    return redirect("members:case", case_id=case.pk)


def _case_page(request, case_id, *, attempt_form=None, close_form=None, status=200):
    case = selectors.access_outreach_case(case_id=case_id, user=request.user)
    return render(
        request,
        "members/case.html",
        {
            "case": case,
            "attempt_form": attempt_form or ContactAttemptForm(),
            "close_form": close_form or CaseCloseForm(),
        },
        status=status,
    )


@login_required
@require_GET
def case(request, case_id: int):
    return _case_page(request, case_id)


@login_required
@require_POST
def case_attempt(request, case_id: int):
    found = selectors.access_outreach_case(case_id=case_id, user=request.user)
    form = ContactAttemptForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case_id, attempt_form=form, status=400)
    try:
        services.outreach_attempt_log(case=found, by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("Contact attempt logged."))
    return redirect("members:case", case_id=found.pk)


@login_required
@require_POST
def case_close(request, case_id: int):
    found = selectors.access_outreach_case(case_id=case_id, user=request.user)
    form = CaseCloseForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case_id, close_form=form, status=400)
    try:
        services.outreach_case_close(case=found, by=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("Outreach case closed."))
    return redirect("members:case", case_id=found.pk)
