from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import scope, selectors


@login_required
def organization_detail(request, organization_id: int):
    org = selectors.access_organization_by_id(organization_id=organization_id, user=request.user)
    context = selectors.organization_detail(organization=org, page=request.GET.get("page", 1))
    context["can_manage"] = scope.can_manage(request.user, org)
    template = "branches/includes/_timeline.html" if request.htmx else "branches/detail.html"
    return render(request, template, context)
