from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import EmailPreferenceForm
from .models import EmailPreference, Notice


@login_required
def inbox(request):
    page = Paginator(
        selectors.inbox_for_user(user=request.user), settings.NETBRANCH_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page_obj": page})


@login_required
def notification_open(request, notification_id: int):
    """Mark one notification read and go to what it is about."""
    row = selectors.access_notification_by_id(notification_id=notification_id, user=request.user)
    services.notification_open(notification=row, user=request.user)
    url = row.event.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:inbox")


@login_required
def email_settings(request):
    current = (
        EmailPreference.objects.filter(user=request.user).values_list("mode", flat=True).first()
    )
    form = EmailPreferenceForm(
        request.POST if request.method == "POST" else None,  # an empty POST is still a POST
        initial={"mode": current or EmailPreference.Mode.IMMEDIATE},
    )
    if request.method == "POST" and form.is_valid():
        services.email_preference_set(user=request.user, mode=form.cleaned_data["mode"])
        messages.success(request, _("Your e-mail choice is saved."))
        return redirect("notifications:settings")
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "has_email": bool(request.user.email)},
    )


@login_required
def notice_list(request):
    kind = request.GET.get("kind") or None
    qs = selectors.notice_list_for_user(user=request.user, kind=kind)
    page = Paginator(qs, settings.NETBRANCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notice_list.html",
        {
            "page_obj": page,
            "kind": kind if kind in Notice.Kind.values else None,
            "kinds": Notice.Kind.choices,
        },
    )


@login_required
def notice_detail(request, notice_id: int):
    notice = selectors.access_notice_by_id(notice_id=notice_id, user=request.user)
    if notice.is_published:
        services.notice_mark_read(notice=notice, user=request.user)
    return render(
        request,
        "notifications/notice_detail.html",
        {"notice": notice, "attachments": list(notice.attachments.all())},
    )
