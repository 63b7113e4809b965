"""Invitations: the secretaries' page (a branch's invitations, a form to invite by e-mail or
with a link, withdraw buttons) and the invitee's landing page behind the link.

The landing page refuses an unknown link (404) or one used, expired or withdrawn (410) with a
page that says why. An anonymous invitee gets allauth's sign-up (rendered here, posted here):
the token waits in their session, which is the only thing that opens sign-up
(`portal.adapters.AccountAdapter`), and the adapter uses the invitation in the transaction
that creates the account. A logged-in person without a registration confirms with a button."""

from allauth.account.forms import SignupForm
from allauth.account.views import SignupView
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import scope
from branches.models import Organization

from . import selectors, services
from .models import Invitation, Member
from .services import INVITATION_SESSION_KEY, InvitationRefused
from .views import _message_of

# The link of an invitation just made, shown once on the next page of its branch.
_NEW_LINK_KEY = "netbranch_invitation_link"

_REFUSAL_STATUS = {"invalid": 404, "used": 410, "expired": 410, "revoked": 410}


def _blank_first(choices):
    return [("", gettext_lazy("— the usual —")), *choices]


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("e-mail"),
        required=False,
        help_text=gettext_lazy(
            "The link is mailed there. Leave it empty to get a link to hand over yourself."
        ),
    )
    real_name = forms.CharField(
        label=gettext_lazy("real name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Filled in for the invitee, who may correct it."),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("membership"),
        choices=_blank_first(Member.Status.choices),
        required=False,
    )
    category = forms.ChoiceField(
        label=gettext_lazy("category"),
        choices=_blank_first(Member.Category.choices),
        required=False,
    )


class AcceptForm(forms.Form):
    real_name = forms.CharField(label=gettext_lazy("real name"), max_length=60)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=32, required=False)


class InvitationSignupForm(SignupForm):
    """allauth's sign-up form with the member's real name (and phone) for their record."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["real_name"] = forms.CharField(
            label=gettext_lazy("real name"),
            max_length=60,
            widget=forms.TextInput(attrs={"autocomplete": "name"}),
        )
        self.fields["phone"] = forms.CharField(
            label=gettext_lazy("phone"),
            max_length=32,
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        )
        self.order_fields(["real_name", "email", "username", "password1", "password2", "phone"])


class InvitationSignupView(SignupView):
    """allauth's sign-up view, shown on (and posted to) the invitation's landing page."""

    template_name = "members/invitation_signup.html"

    def get_form_class(self):
        return InvitationSignupForm

    def get_initial(self) -> dict:
        initial = super().get_initial()
        invitation = self.kwargs["invitation"]
        if invitation.email:
            initial["email"] = invitation.email
        initial["real_name"] = invitation.real_name
        return initial

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["invitation"] = self.kwargs["invitation"]
        return context


# --- reads ----------------------------------------------------------------------------------


def _registration_branches(user):
    return scope.managed_organizations(user).filter(kind__in=Organization.REGISTRATION_KINDS)


def _access_branch(*, branch_id: int, user) -> Organization:
    """A registration branch the user manages; any other id is a 404."""
    branch = selectors.access_registration_branch(branch_id=branch_id)
    if not scope.can_manage(user, branch):
        raise Http404
    return branch


def _access_invitation(*, invitation_id: int, user) -> Invitation:
    found = Invitation.objects.select_related("branch").filter(pk=invitation_id).first()
    if found is None or not scope.can_manage(user, found.branch):
        raise Http404
    return found


# --- the secretaries' pages -----------------------------------------------------------------


@login_required
@require_GET
def invitations(request):
    """The branches the user may invite to, with their pending invitations; straight to the
    branch when there is one."""
    if not scope.has_role(request.user):
        raise PermissionDenied(_("Invitations are made by the branches' secretaries."))
    now = timezone.now()
    branches = (
        _registration_branches(request.user)
        .annotate(
            pending=Count(
                "invitations", filter=selectors.invitation_pending_q(now, prefix="invitations__")
            )
        )
        .order_by("path")
    )
    page = Paginator(branches, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    if page.paginator.count == 1:
        return redirect("members:invitations_branch", branch_id=page.object_list[0].pk)
    return render(request, "members/invitation_index.html", {"page_obj": page})


def _branch_page(request, branch, *, form=None, status=200):
    now = timezone.now()
    rows = (
        Invitation.objects.filter(branch=branch)
        .select_related("created_by", "used_by", "member", "revoked_by")
        .order_by("-created_at", "-id")
    )
    page = Paginator(rows, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.state = row.state_at(now)
        row.state_label = Invitation.State(row.state).label
    new = request.session.pop(_NEW_LINK_KEY, None)
    if new and new.get("branch") != branch.pk:
        new = None
    return render(
        request,
        "members/invitation_branch.html",
        {
            "branch": branch,
            "page_obj": page,
            "form": form or InvitationForm(),
            "new": new,
            "days": settings.NETBRANCH_INVITATION_DAYS,
            "State": Invitation.State,
        },
        status=status,
    )


@login_required
@require_GET
def invitations_branch(request, branch_id: int):
    return _branch_page(request, _access_branch(branch_id=branch_id, user=request.user))


@login_required
@require_POST
def invitation_new(request, branch_id: int):
    branch = _access_branch(branch_id=branch_id, user=request.user)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _branch_page(request, branch, form=form, status=400)
    try:
        invitation, raw_token = services.invitation_create(
            by=request.user, branch=branch, **form.cleaned_data
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message_of(exc))
        return redirect("members:invitations_branch", branch_id=branch.pk)
    request.session[_NEW_LINK_KEY] = {
        "branch": branch.pk,
        "link": request.build_absolute_uri(services.invitation_path(raw_token)),
        "email": invitation.email,
    }
    if invitation.email:
        messages.success(
            request, _("The invitation is on its way to %(email)s.") % {"email": invitation.email}
        )
    else:
        messages.success(request, _("The invitation link is ready: copy it now."))
    return redirect("members:invitations_branch", branch_id=branch.pk)


@login_required
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = _access_invitation(invitation_id=invitation_id, user=request.user)
    try:
        services.invitation_revoke(invitation=invitation, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message_of(exc))
    else:
        messages.success(request, _("The invitation is withdrawn: its link no longer works."))
    return redirect("members:invitations_branch", branch_id=invitation.branch_id)


# --- the invitee's landing page -------------------------------------------------------------


def _refused(request, exc: InvitationRefused, invitation: Invitation | None = None):
    return render(
        request,
        "members/invitation_refused.html",
        {"reason": _message_of(exc), "code": exc.code, "invitation": invitation},
        status=_REFUSAL_STATUS.get(exc.code, 409),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    try:
        invitation = services.invitation_check(raw_token=token)
    except InvitationRefused as exc:
        if request.session.get(INVITATION_SESSION_KEY) == token:
            del request.session[INVITATION_SESSION_KEY]
        return _refused(request, exc)
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
        return InvitationSignupView.as_view()(request, invitation=invitation, token=token)
    refusal = services.member_refusal(request.user)
    if refusal is not None:
        return _refused(request, refusal, invitation)
    data = request.POST if request.method == "POST" else None
    form = AcceptForm(data, initial={"real_name": invitation.real_name})
    if data is not None and form.is_valid():
        try:
            member = services.invitation_accept(
                raw_token=token, user=request.user, **form.cleaned_data
            )
        except InvitationRefused as exc:
            return _refused(request, exc, invitation)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(
                request,
                _("Welcome, %(name)s: you are registered with %(branch)s.")
                % {"name": member.real_name, "branch": member.branch},
            )
            return redirect("home")
    return render(
        request,
        "members/invitation_confirm.html",
        {"invitation": invitation, "form": form},
        status=400 if data is not None else 200,
    )
