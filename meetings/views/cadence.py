"""The cadence page (三会一课 compliance) for managers: per organisation they manage, the
required meeting kinds × the months or quarters of a year, met, missed or current. A fixed
number of queries whatever the number of organisations (paginated) and meetings."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from branches import scope

from ..selectors import cadence as selectors

#: Years offered before the current one.
YEARS_BACK = 4


def _year(value, today) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today.year
    return year if today.year - YEARS_BACK <= year <= today.year else today.year


@login_required
@require_GET
def cadence(request):
    if not scope.has_role(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today)
    page = Paginator(
        selectors.cadence_organizations_for(request.user), settings.NETBRANCH_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    tables = selectors.cadence_for(organizations=page.object_list, year=year, today=today)
    return render(
        request,
        "meetings/cadence/cadence.html",
        {
            "year": year,
            "years": range(today.year, today.year - YEARS_BACK - 1, -1),
            "months": range(1, 13),
            "page_obj": page,
            "tables": tables,
            "warn_days": settings.NETBRANCH_CADENCE_WARN_DAYS,
        },
    )


urlpatterns = [
    path("meetings/cadence/", cadence, name="cadence"),
]
