"""Pages of the five-star rating (五星党支部): /reports/rating/ explains how branches are rated
(criteria, weights and thresholds from settings; for a branch's committee, their own branch's
breakdown), the reviewer's list /reports/ratings/ with each rating's page (confirm, override
with a reason, history, recompute), and the practice accounts of five-star branches (written
and submitted by the branch, shared group-wide by the reviewer). Thin: scope-checked
selectors, a service call, a message and a redirect (PRG); nothing needs JavaScript."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branches import scope
from core.richtext import editor_widget

from ..models import BranchRating, PracticeAccount
from ..selectors import rating as selectors
from ..services import rating as services
from . import add_errors, message_of

STAR_CHOICES = [(n, str(n)) for n in (5, 4, 3, 2, 1)]


class OverrideForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=gettext_lazy("Stars"), choices=STAR_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required: the branch's secretaries read it."),
        error_messages={"required": gettext_lazy("Give the reason for setting the stars.")},
    )


class ConfirmForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PracticeForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    body = forms.CharField(
        label=gettext_lazy("Our practice"),
        help_text=gettext_lazy("A short account: what you did, how, and what came of it."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget = editor_widget(user=user)


# --- how branches are rated ---------------------------------------------------------------------


@login_required
@require_GET
def rating_guide(request):
    """The documentation of the score, for everyone; for a branch's committee, their branch's
    breakdown this year and last year's decided rating."""
    year = services.current_year()
    branches = selectors.own_branches(user=request.user, years=[year, year - 1])
    for org in branches:
        by_year = {r.year: r for r in org.year_ratings}
        org.current = by_year.get(year)
        org.current_rows = services.criteria_rows(org.current.breakdown) if org.current else []
        org.last = by_year.get(year - 1)
        org.five_star = next(
            (r for r in org.year_ratings if r.status in selectors.DECIDED and r.stars == 5), None
        )
    return render(
        request,
        "reports/rating_guide.html",
        {
            "criteria": services.criteria_rows(),
            "stars": services.star_rows(),
            "year": year,
            "branches": branches,
            "is_reviewer": scope.has_role(request.user, scope.REVIEW_ROLES),
        },
    )


# --- the reviewer's list ------------------------------------------------------------------------


def _require_reviewer(user) -> None:
    if not scope.has_role(user, scope.REVIEW_ROLES):
        raise PermissionDenied


def _year(request) -> int:
    current = services.current_year()
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or current)
    except ValueError:
        return current
    return year if 2000 <= year <= current + 1 else current


@login_required
@require_GET
def rating_list(request):
    user = request.user
    _require_reviewer(user)
    year = _year(request)
    stars = request.GET.get("stars")
    stars = int(stars) if stars in {"1", "2", "3", "4", "5"} else None
    status = request.GET.get("status")
    status = status if status in BranchRating.Status.values else None
    sort = request.GET.get("sort")
    sort = sort if sort in selectors.SORTS else "path"
    page = Paginator(
        selectors.ratings_for_reviewer(user=user, year=year, stars=stars, status=status, sort=sort),
        settings.NETBRANCH_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    current = services.current_year()
    return render(
        request,
        "reports/rating_list.html",
        {
            "page_obj": page,
            "year": year,
            "years": list(range(current, current - 5, -1)),
            "stars": stars,
            "status": status,
            "sort": sort,
            "statuses": BranchRating.Status.choices,
            "sorts": [
                ("path", _("by organisation")),
                ("-score", _("highest score first")),
                ("score", _("lowest score first")),
                ("name", _("by name")),
            ],
            "star_choices": [5, 4, 3, 2, 1],
            "submitted": selectors.submitted_accounts_for_reviewer(user=user),
        },
    )


@login_required
@require_POST
def rating_recompute(request):
    """Recompute the year's ratings of the reviewer's subtree (a Celery task; decisions kept)."""
    user = request.user
    _require_reviewer(user)
    year = _year(request)
    org_ids = list(
        services.rated_organizations()
        .filter(pk__in=scope.reviewed_organizations(user).values("pk"))
        .values_list("pk", flat=True)
    )
    from ..tasks import compute_ratings

    compute_ratings.delay_on_commit(year=year, organization_ids=org_ids)
    messages.success(
        request,
        _("The ratings of %(year)s are being recomputed; the committee's decisions are kept.")
        % {"year": year},
    )
    return redirect(f"{reverse('reports:ratings')}?year={year}")


# --- one rating ---------------------------------------------------------------------------------


def _rating_page(
    request, rating: BranchRating, *, confirm_form=None, override_form=None, status=200
):
    return render(
        request,
        "reports/rating_detail.html",
        {
            "rating": rating,
            "rows": services.criteria_rows(rating.breakdown),
            "history": selectors.rating_history(rating=rating),
            "accounts": list(rating.practice_accounts.order_by("-created_at", "-pk")),
            "confirm_form": confirm_form or ConfirmForm(),
            "override_form": override_form or OverrideForm(initial={"stars": rating.shown_stars}),
        },
        status=status,
    )


@login_required
@require_GET
def rating_detail(request, rating_id: int):
    rating = selectors.access_rating(rating_id=rating_id, user=request.user)
    return _rating_page(request, rating)


@login_required
@require_POST
def rating_confirm(request, rating_id: int):
    rating = selectors.access_rating(rating_id=rating_id, user=request.user)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.rating_confirm(
                rating=rating, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, message_of(exc))
        else:
            messages.success(request, _("The rating is confirmed; the branch is told."))
            return redirect("reports:rating", rating.pk)
    return _rating_page(request, rating, confirm_form=form, status=400)


@login_required
@require_POST
def rating_override(request, rating_id: int):
    rating = selectors.access_rating(rating_id=rating_id, user=request.user)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.rating_override(
                rating=rating,
                by=request.user,
                stars=form.cleaned_data["stars"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The stars are set; the branch is told."))
            return redirect("reports:rating", rating.pk)
    return _rating_page(request, rating, override_form=form, status=400)


# --- practice accounts --------------------------------------------------------------------------


def _refuse(request, exc: Exception):
    messages.error(request, message_of(exc))
    return redirect("reports:rating_guide")


@login_required
@require_http_methods(["GET", "POST"])
def practice_write(request, rating_id: int):
    """Write the practice account of a five-star rating (or go on with the one not yet shared)."""
    rating = selectors.access_own_rating(rating_id=rating_id, user=request.user)
    try:
        services.require_five_stars(rating)
    except ValidationError as exc:
        return _refuse(request, exc)
    account = (
        rating.practice_accounts.exclude(status=PracticeAccount.Status.SHARED)
        .order_by("-created_at")
        .first()
    )
    if account is not None:
        return redirect("reports:practice_edit", account.pk)
    return _practice_form(request, rating=rating, account=None)


@login_required
@require_http_methods(["GET", "POST"])
def practice_edit(request, account_id: int):
    account = selectors.access_practice_account(account_id=account_id, user=request.user)
    if not services.can_write_practice(request.user, account.organization):
        raise PermissionDenied
    if account.status == PracticeAccount.Status.SHARED:
        messages.error(request, _("A shared account can no longer be changed."))
        return redirect(account.get_absolute_url())
    return _practice_form(request, rating=account.rating, account=account)


def _practice_form(request, *, rating: BranchRating, account: PracticeAccount | None):
    if request.method == "POST":
        form = PracticeForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                account = services.practice_account_save(
                    rating=rating,
                    by=request.user,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    account=account,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The account is saved."))
                return redirect(account.get_absolute_url())
    else:
        initial = {"title": account.title, "body": account.body} if account else None
        form = PracticeForm(initial=initial, user=request.user)
    return render(
        request, "reports/practice_form.html", {"form": form, "rating": rating, "account": account}
    )


@login_required
@require_GET
def practice_detail(request, account_id: int):
    account = selectors.access_practice_account(account_id=account_id, user=request.user)
    return render(
        request,
        "reports/practice_detail.html",
        {
            "account": account,
            "can_write": services.can_write_practice(request.user, account.organization),
            "can_share": services.can_decide(request.user, account.organization),
        },
    )


@login_required
@require_POST
def practice_submit(request, account_id: int):
    account = selectors.access_practice_account(account_id=account_id, user=request.user)
    try:
        services.practice_account_submit(account=account, by=request.user)
    except ValidationError as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The account is with the committee."))
    return redirect(account.get_absolute_url())


@login_required
@require_POST
def practice_share(request, account_id: int):
    account = selectors.access_practice_account(account_id=account_id, user=request.user)
    try:
        services.practice_account_share(account=account, by=request.user)
    except ValidationError as exc:
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The account is shared with every member of the group."))
    return redirect(account.get_absolute_url())


urlpatterns = [
    path("reports/rating/", rating_guide, name="rating_guide"),
    path("reports/ratings/", rating_list, name="ratings"),
    path("reports/ratings/recompute/", rating_recompute, name="ratings_recompute"),
    path("reports/ratings/<int:rating_id>/", rating_detail, name="rating"),
    path("reports/ratings/<int:rating_id>/confirm/", rating_confirm, name="rating_confirm"),
    path("reports/ratings/<int:rating_id>/override/", rating_override, name="rating_override"),
    path("reports/ratings/<int:rating_id>/practice/", practice_write, name="practice_write"),
    path("reports/practice/<int:account_id>/", practice_detail, name="practice"),
    path("reports/practice/<int:account_id>/edit/", practice_edit, name="practice_edit"),
    path("reports/practice/<int:account_id>/submit/", practice_submit, name="practice_submit"),
    path("reports/practice/<int:account_id>/share/", practice_share, name="practice_share"),
]
