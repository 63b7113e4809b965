"""The reads behind the welfare pages and the home card: each costs a fixed number of queries
whatever the data size (states and counts annotated, photos prefetched, lists paginated by the
views)."""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from branches import scope
from discussions.selectors import with_discussion_counts
from members.models import Member

from .. import privacy
from ..models import (
    FollowUp,
    FollowUpPhoto,
    PairingCase,
    WelfareActivity,
    WelfareParticipant,
    WelfarePhoto,
    WelfareSignUp,
)
from .access import activities_visible_to, cases_visible_to, on_my_path, with_is_paired

CASES_ON_INDEX = 5


def _period() -> int:
    return max(1, int(settings.NETBRANCH_WELFARE_FOLLOW_UP_DAYS))


def _signed_up_by(user):
    return Exists(WelfareSignUp.objects.filter(activity=OuterRef("pk"), member__user=user))


def _sum(field: str):
    return Coalesce(Sum(field), Value(Decimal(0)), output_field=DecimalField())


def _count_of(qs: QuerySet, group: str):
    counted = qs.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- activities -----------------------------------------------------------------------------


def activity_list_for_user(*, user, status: str | None = None, kind: str | None = None) -> QuerySet:
    """Activities the user sees (their branches', featured ones, those they manage), newest
    date first, with like and comment counts, whether they signed up, and the photos cleared
    for showing (one prefetch query for a page)."""
    qs = activities_visible_to(user=user).select_related("organization", "project_site")
    if status == "planned":
        qs = qs.filter(status=WelfareActivity.Status.PLANNED, held_on__gte=timezone.localdate())
    elif status == "done":
        qs = qs.filter(status=WelfareActivity.Status.DONE)
    if kind:
        qs = qs.filter(kind=kind)
    qs = with_discussion_counts(qs, user=user).annotate(signed_up_by_me=_signed_up_by(user))
    return qs.prefetch_related(
        Prefetch(
            "photos", queryset=WelfarePhoto.objects.filter(cleared=True), to_attr="shown_photos"
        )
    ).order_by("-held_on", "-pk")


def activity_detail(*, activity: WelfareActivity, user) -> dict:
    """What the activity page shows: photos (not yet cleared ones only to the branch
    committee), the participants and their hours, the user's sign-up, the features."""
    from ..services import is_member_there, sign_up_open

    all_photos = privacy.sees_uncleared_activity_photos(user, activity)
    photos = activity.photos.all() if all_photos else activity.photos.filter(cleared=True)
    participants = list(
        WelfareParticipant.objects.filter(activity=activity)
        .select_related("member")
        .order_by("member__real_name", "pk")
    )
    my_sign_up = WelfareSignUp.objects.filter(activity=activity, member__user=user).first()
    is_member = is_member_there(user, activity.organization)
    return {
        "activity": activity,
        "photos": list(photos),
        "shows_uncleared": all_photos,
        "participants": participants,
        "hours": sum((p.hours for p in participants), start=0),
        "my_sign_up": my_sign_up,
        "can_sign_up": is_member and sign_up_open(activity) and my_sign_up is None,
        "sign_up_open": sign_up_open(activity),
        "is_member": is_member,
        "can_manage": scope.can_manage(user, activity.organization),
        "features": list(activity.features.select_related("organization")),
    }


def signup_context(*, activity: WelfareActivity, user) -> dict:
    """The sign-up panel alone (the htmx answer of a sign-up): two queries."""
    from ..services import is_member_there, sign_up_open

    activity.refresh_from_db(fields=["signed_up", "places", "status"])
    my_sign_up = WelfareSignUp.objects.filter(activity=activity, member__user=user).first()
    is_member = is_member_there(user, activity.organization)
    return {
        "activity": activity,
        "my_sign_up": my_sign_up,
        "can_sign_up": is_member and sign_up_open(activity) and my_sign_up is None,
        "sign_up_open": sign_up_open(activity),
        "is_member": is_member,
    }


# --- cases ----------------------------------------------------------------------------------


def case_list_for_user(*, user, status: str | None = None) -> QuerySet:
    """Cases the user sees, open ones first, with `is_paired` (for `welfare.privacy`) and the
    number of follow-up visits."""
    qs = with_is_paired(cases_visible_to(user=user), user=user).select_related(
        "organization", "project_site"
    )
    if status in PairingCase.Status.values:
        qs = qs.filter(status=status)
    open_first = Case(When(status=PairingCase.Status.OPEN, then=Value(0)), default=Value(1))
    return qs.annotate(
        follow_up_count=_count_of(FollowUp.objects.filter(case=OuterRef("pk")), "case"),
        open_first=open_first,
    ).order_by("open_first", "-started_on", "-pk")


def is_overdue(case: PairingCase, *, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    if case.status != PairingCase.Status.OPEN:
        return False
    since = case.last_follow_up_on or case.started_on
    return (today - since).days >= _period()


def case_detail(*, case: PairingCase, user, page=1) -> dict:
    """The case page: the beneficiary as the user may see them, the paired members, and a
    page of follow-up visits with their photos (all to those allowed the personal data,
    cleared ones to the others). Four queries whatever the number of visits."""
    from ..services import may_follow_up

    personal = privacy.personal_data_allowed(user, case)
    case.personal = personal
    case.label = privacy.beneficiary_label(case, personal=personal)
    photos = FollowUpPhoto.objects.all() if personal else FollowUpPhoto.objects.filter(cleared=True)
    follow_ups = (
        FollowUp.objects.filter(case=case)
        .select_related("by__member")
        .prefetch_related(Prefetch("photos", queryset=photos, to_attr="shown_photos"))
        .order_by("-visited_on", "-pk")
    )
    page_obj = Paginator(follow_ups, settings.NETBRANCH_PAGE_SIZE).get_page(page)
    return {
        "case": case,
        "personal": personal,
        "paired": list(case.paired_members.all().order_by("real_name", "pk")),
        "page_obj": page_obj,
        "overdue": is_overdue(case),
        "period": _period(),
        "can_follow_up": may_follow_up(user, case),
        "can_manage": scope.can_manage(user, case.organization),
    }


# --- the branch's record and the home card --------------------------------------------------


def year_bounds(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return date(today.year, 1, 1), date(today.year, 12, 31)


def record_for_user(*, user, today: date | None = None) -> dict | None:
    """This year's welfare record of the user's own organisations (registered branch,
    participations): activities done, hours, money and goods, people helped, open and
    handed-over cases. Three queries; None when there is nothing yet."""
    start, end = year_bounds(today)
    own = scope.home_paths(user)
    if not own:
        return None
    done = WelfareActivity.objects.filter(
        organization__path__in=own,
        status=WelfareActivity.Status.DONE,
        held_on__range=(start, end),
    )
    row = done.aggregate(
        activities=Count("pk"),
        money=_sum("money_yuan"),
        goods_value=_sum("goods_value_yuan"),
        beneficiaries=Coalesce(Sum("beneficiaries"), Value(0)),
    )
    row["hours"] = WelfareParticipant.objects.filter(activity__in=done.values("pk")).aggregate(
        s=_sum("hours")
    )["s"]
    cases = PairingCase.objects.filter(organization__path__in=own).aggregate(
        open=Count("pk", filter=Q(status=PairingCase.Status.OPEN)),
        handed_over=Count("pk", filter=Q(status=PairingCase.Status.HANDED_OVER)),
    )
    if not row["activities"] and not cases["open"] and not cases["handed_over"]:
        return None
    return {**row, **cases, "year": start.year}


def service_card(*, user, member: Member | None) -> dict | None:
    """The home page's service card (DESIGN: service sync): the next welfare activity of my
    branches (and whether I signed up), this year's record of my branches, my open pairing
    cases and how many wait for a visit. Five queries at most; None when there is nothing to
    show (the card is then left out)."""
    if member is None:
        return None
    today = timezone.localdate()
    home = on_my_path(user)
    upcoming = (
        WelfareActivity.objects.filter(
            organization__path__in=home,
            published_at__isnull=False,
            status=WelfareActivity.Status.PLANNED,
            held_on__gte=today,
        )
        .select_related("organization")
        .annotate(signed_up_by_me=_signed_up_by(user))
        .order_by("held_on", "pk")
        .first()
        if home
        else None
    )
    record = record_for_user(user=user, today=today)
    cutoff = today - timedelta(days=_period())
    mine = PairingCase.objects.filter(
        status=PairingCase.Status.OPEN, paired_members=member
    ).aggregate(
        open=Count("pk"),
        overdue=Count(
            "pk",
            filter=Q(last_follow_up_on__lte=cutoff)
            | Q(last_follow_up_on__isnull=True, started_on__lte=cutoff),
        ),
    )
    if upcoming is None and record is None and not mine["open"]:
        return None
    return {"next": upcoming, "record": record, "my_cases": mine, "today": today}


def cases_on_index(*, user) -> list:
    """A few cases for the welfare page, labelled as `welfare.privacy` allows (one query)."""
    return privacy.apply(case_list_for_user(user=user)[:CASES_ON_INDEX], user=user)
