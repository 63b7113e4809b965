"""The project-site lifecycle pages of the managers: the sites list (/members/sites/), the
re-homing worklist of a closed site and the attachment page of an open one. Thin: reads in
`selectors_sites`, writes in `services.sites`, plain forms with a redirect and a message."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from branches import scope
from branches.models import Organization

from . import selectors_sites as selectors
from . import services
from .services.sites import REHOME_PARTICIPATE, REHOME_TRANSFER, SITE_BRANCH_KINDS


class RehomeForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("How"),
        choices=[
            (REHOME_TRANSFER, gettext_lazy("Transfer the registration to the branch chosen")),
            (
                REHOME_PARTICIPATE,
                gettext_lazy("Take part in the joint or mobile branch chosen (registration stays)"),
            ),
        ],
        widget=forms.RadioSelect,
        initial=REHOME_TRANSFER,
    )
    target = forms.TypedChoiceField(label=gettext_lazy("Branch"), coerce=int)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    letter_number = forms.CharField(
        label=gettext_lazy("Letter number"), max_length=60, required=False
    )

    def __init__(self, *args, branches: list[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.branches = {b.pk: b for b in branches}
        joint = [(b.pk, b.name) for b in branches if b.kind in SITE_BRANCH_KINDS]
        other = [(b.pk, b.name) for b in branches if b.kind not in SITE_BRANCH_KINDS]
        self.fields["target"].choices = [
            ("", "—"),
            (_("Joint and mobile branches"), joint),
            (_("Other branches (transfer only)"), other),
        ]


class AttachForm(forms.Form):
    branch = forms.TypedChoiceField(label=gettext_lazy("Joint or mobile branch"), coerce=int)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, branches: list[Organization], **kwargs):
        super().__init__(*args, **kwargs)
        self.branches = {b.pk: b for b in branches if b.kind in SITE_BRANCH_KINDS}
        self.fields["branch"].choices = [("", "—")] + [
            (b.pk, b.name) for b in self.branches.values()
        ]


def _member_ids(request) -> list[int] | None:
    try:
        return sorted({int(v) for v in request.POST.getlist("members")})
    except ValueError:
        return None


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc) or _("You may not do this.")]


@login_required
@require_GET
def sites(request):
    if not scope.has_role(request.user):
        raise PermissionDenied(_("The project sites are for the secretaries and reviewers."))
    overview = selectors.sites_overview(user=request.user)
    size = settings.NETBRANCH_PAGE_SIZE
    return render(
        request,
        "members/site_list.html",
        {
            "closed": Paginator(overview["closed"], size).get_page(request.GET.get("closed")),
            "open": Paginator(overview["open"], size).get_page(request.GET.get("page")),
        },
    )


def _rehome_page(request, site, *, form=None, problems=(), chosen=(), status=200):
    rows = selectors.rehome_rows(site=site)
    find = request.GET.get("find", "")[:60]
    branches = selectors.group_branches(site=site, find=find)
    return render(
        request,
        "members/site_rehome.html",
        {
            "site": site,
            "pending": [m for m in rows if m.pending],
            "done": [m for m in rows if not m.pending],
            "form": form or RehomeForm(branches=branches),
            "problems": problems,
            "chosen": set(chosen),
            "find": find,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def site_rehome(request, site_id: int):
    site = selectors.access_site(site_id=site_id, user=request.user)
    if request.method == "GET":
        return _rehome_page(request, site)
    ids = _member_ids(request)
    if ids is None:
        return HttpResponseBadRequest()
    branches = selectors.group_branches(site=site, include=request.POST.get("target"))
    form = RehomeForm(request.POST, branches=branches)
    if not form.is_valid():
        return _rehome_page(request, site, form=form, chosen=ids, status=400)
    target = form.branches.get(form.cleaned_data["target"])
    try:
        made = services.site_rehome(
            site=site,
            by=request.user,
            members=ids,
            action=form.cleaned_data["action"],
            target=target,
            reason=form.cleaned_data["reason"],
            letter_number=form.cleaned_data["letter_number"],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _rehome_page(
            request, site, form=form, problems=_problems(exc), chosen=ids, status=400
        )
    if form.cleaned_data["action"] == REHOME_TRANSFER:
        text = _("%(n)s transfers to %(to)s are released; %(to)s's secretary accepts them.")
    else:
        text = _("%(n)s members now take part in %(to)s.")
    messages.success(request, text % {"n": len(made), "to": target.name})
    return redirect("members:site_rehome", site_id=site.pk)


def _attach_page(request, site, *, form=None, problems=(), chosen=(), status=200):
    query = request.GET.get("q", "")[:60]
    return render(
        request,
        "members/site_attach.html",
        {
            "site": site,
            "here": selectors.site_branch_rows(site=site),
            "query": query,
            "candidates": selectors.attach_candidates(site=site, user=request.user, query=query),
            "form": form or AttachForm(branches=selectors.group_branches(site=site)),
            "problems": problems,
            "chosen": set(chosen),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def site_attach(request, site_id: int):
    site = selectors.access_site(site_id=site_id, user=request.user)
    if request.method == "GET":
        return _attach_page(request, site)
    ids = _member_ids(request)
    if ids is None:
        return HttpResponseBadRequest()
    branches = selectors.group_branches(site=site, include=request.POST.get("branch"))
    form = AttachForm(request.POST, branches=branches)
    if not form.is_valid():
        return _attach_page(request, site, form=form, chosen=ids, status=400)
    branch = form.branches[form.cleaned_data["branch"]]
    try:
        attached = services.site_attach(
            site=site,
            by=request.user,
            members=ids,
            branch=branch,
            note=form.cleaned_data["note"],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _attach_page(
            request, site, form=form, problems=_problems(exc), chosen=ids, status=400
        )
    messages.success(
        request,
        _("%(n)s members attached to %(site)s, taking part in %(branch)s.")
        % {"n": len(attached), "site": site.name, "branch": branch.name},
    )
    return redirect("members:site_attach", site_id=site.pk)
