"""The five-star rating (五星党支部): the score formula on hand-computed fixtures, the weights and
thresholds from settings, the committee's decisions (who may, a reason to override, history
kept over recomputations), practice accounts (five stars only, shared group-wide), the rating
on the branch page, and fixed query counts."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from branches.models import Organization, RoleAssignment
from notifications.models import Event, Notification
from reports.models import (
    ActivityReport,
    BranchFigures,
    BranchRating,
    PracticeAccount,
    RatingDecision,
    ReportEvent,
)
from reports.services import rating as services
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2025
NOW = datetime(2026, 2, 1, 10, 0, tzinfo=SHANGHAI)

REQUIRED = {"general_meeting": 4, "party_lesson": 4, "committee_meeting": 12, "themed_day": 12}


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are checked in English (the msgids), whatever the default language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def perfect(**changes) -> dict:
    """A year where the branch met every requirement."""
    figures = {
        "members": 10,
        "meetings_held": dict(REQUIRED),
        "meetings_required": dict(REQUIRED),
        "meetings_missed": 0,
        "attendance_expected": 100,
        "attendance_present": 100,
        "attendance_rate": 1.0,
        "study_finished": 50,
        "study_completion": 1.0,
        "reflections": 40,
        "welfare_hours": 80.0,
        "decisions_done": 2,
        "decisions_overdue": 0,
        "board_questions": 3,
        "board_answered": 3,
        "contact": {"active": 10, "at_risk": 0, "invisible": 0, "lost": 0, "pocket": 0},
        "outreach_open": 0,
    }
    figures.update(changes)
    return figures


def mixed() -> dict:
    """The worked example: every criterion partly met."""
    return perfect(
        meetings_missed=4,
        attendance_rate=0.8,
        study_completion=0.6,
        reflections=20,
        welfare_hours=40.0,
        decisions_done=3,
        decisions_overdue=1,
        board_questions=4,
        board_answered=3,
        contact={"active": 7, "at_risk": 1, "invisible": 0, "lost": 1, "pocket": 1},
        outreach_open=1,
    )


def points(breakdown) -> dict:
    return {row["key"]: row["points"] for row in breakdown["criteria"]}


# --- the formula --------------------------------------------------------------------------------


def test_perfect_year_scores_100_and_five_stars():
    total, stars, breakdown = services.score(perfect(), (12, 12))
    assert total == Decimal("100.0")
    assert stars == 5
    assert sum(points(breakdown).values()) == 100


def test_mixed_year_by_hand():
    total, stars, breakdown = services.score(mixed(), (2, 3))
    assert points(breakdown) == {
        "meetings": 17.5,  # 28 of 32 required not missed = 0.875 × 20
        "attendance": 12.0,  # 0.8 × 15
        "study": 9.0,  # 0.6 × 15
        "reflections": 5.0,  # 20 / (10 members × 4) = 0.5 × 10
        "welfare": 5.0,  # 40 h / (10 × 8 h) = 0.5 × 10
        "decisions": 7.5,  # 3 done / 4 due × 10
        "board": 3.8,  # 3 / 4 × 5 = 3.75, rounded half up
        "contact": 6.0,  # (7 active − 1 lost/pocket without a case) / 10 × 10
        "reports": 3.3,  # 2 / 3 on time = 0.667 × 5 = 3.335
    }
    assert total == Decimal("69.1")
    assert stars == 3
    assert breakdown["score"] == 69.1


def test_empty_year_is_exactly_two_stars():
    """Nothing required, asked or due counts as met (meetings, decisions, board, reports:
    20 + 10 + 5 + 5); rates without data and per-member criteria without members give 0."""
    total, stars, breakdown = services.score({}, None)
    assert total == Decimal("40.0")
    assert stars == 2  # exactly on the 2-star threshold
    assert points(breakdown)["attendance"] == 0
    assert points(breakdown)["contact"] == 0


def test_caps_on_per_member_criteria_and_rates():
    total, _stars, breakdown = services.score(
        perfect(reflections=1000, welfare_hours=5000.0, attendance_rate=1.4, board_answered=9),
        (5, 5),
    )
    p = points(breakdown)
    assert p["reflections"] == 10.0
    assert p["welfare"] == 10.0
    assert p["attendance"] == 15.0
    assert p["board"] == 5.0
    assert total == Decimal("100.0")


def test_contact_penalty_never_below_zero():
    figures = perfect(
        contact={"active": 1, "at_risk": 0, "invisible": 0, "lost": 6, "pocket": 3},
        outreach_open=0,
    )
    assert points(services.score(figures, None)[2])["contact"] == 0


NOTHING_ELSE = {
    "attendance_rate": 0.0, "study_completion": None, "reflections": 0, "welfare_hours": 0,
    "contact": {},
}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "expected_total", "expected_stars"),
    [
        ({}, "100.0", 5),
        ({"study_completion": 1 / 3}, "90.0", 5),  # 0.333 × 15 = 4.995 → 5.0: on the line
        ({"study_completion": 0.3267}, "89.9", 4),  # 0.327 × 15 = 4.905 → 4.9
        ({"study_completion": None, "reflections": 0}, "75.0", 4),
        ({"study_completion": None, "reflections": 0, "attendance_rate": 0.993}, "74.9", 3),
        ({"study_completion": None, "reflections": 0, "attendance_rate": 0.0}, "60.0", 3),
        (
            {
                "study_completion": None,
                "reflections": 0,
                "attendance_rate": 0.0,
                "welfare_hours": 79.2,
            },
            "59.9",
            2,
        ),
        (NOTHING_ELSE, "40.0", 2),
        (
            {**NOTHING_ELSE, "meetings_required": {"themed_day": 200}, "meetings_missed": 1},
            "39.9",
            1,
        ),
    ],
)
def test_star_thresholds_on_scores(changes, expected_total, expected_stars):
    total, stars, _b = services.score(perfect(**changes), None)
    assert (str(total), stars) == (expected_total, expected_stars)


@pytest.mark.parametrize(
    ("score", "stars"),
    [
        ("100", 5), ("90.0", 5), ("89.9", 4), ("75.0", 4), ("74.9", 3), ("60.0", 3),
        ("59.9", 2), ("40.0", 2), ("39.9", 1), ("0", 1),
    ],
)  # fmt: skip
def test_stars_at_each_threshold(score, stars):
    assert services.stars_for(Decimal(score)) == stars


def test_weights_and_thresholds_come_from_settings(settings):
    before, _s, _b = services.score(mixed(), (2, 3))
    settings.NETBRANCH_RATING_WEIGHTS = {"meetings": 50, "attendance": 50}
    total, stars, breakdown = services.score(mixed(), (2, 3))
    assert total == Decimal("83.8")  # 0.875 × 50 = 43.75 → 43.8, + 0.8 × 50 = 40.0
    assert total != before
    assert stars == 4
    assert points(breakdown)["study"] == 0
    settings.NETBRANCH_RATING_STARS = [95, 85, 80, 10]
    assert services.score(mixed(), (2, 3))[1] == 3


def test_weights_not_summing_to_100_are_refused(settings):
    settings.NETBRANCH_RATING_WEIGHTS = {"meetings": 50, "attendance": 40}
    with pytest.raises(ImproperlyConfigured):
        services.score(mixed(), None)
    settings.NETBRANCH_RATING_WEIGHTS = {"meetings": 90, "speed": 10}
    with pytest.raises(ImproperlyConfigured):
        services.score(mixed(), None)


# --- computing the year -------------------------------------------------------------------------


def put_figures(org, figures, year=YEAR):
    BranchFigures.objects.update_or_create(
        organization=org,
        period_kind="year",
        period_start=date(year, 1, 1),
        defaults={"figures": figures, "computed_at": NOW},
    )


def rate(org, figures, *, year=YEAR) -> BranchRating:
    put_figures(org, figures, year)
    services.ratings_compute(year=year, organization_ids=[org.pk], now=NOW)
    return BranchRating.objects.select_related("organization").get(organization=org, year=year)


def test_reports_on_time_counts_first_submission_against_due_date(tree):
    def report(month, first_submitted, *, status="submitted"):
        start = date(YEAR, month, 1)
        due = date(YEAR, month, 28) + timedelta(days=10)
        r = ActivityReport.objects.create(
            organization=tree.branch,
            period_kind="month",
            period_start=start,
            period_end=date(YEAR, month, 28),
            due_on=due,
            status=status,
            submitted_at=first_submitted,
            figures_at=first_submitted,
        )
        if first_submitted:
            ReportEvent.objects.create(report=r, action="submitted", at=first_submitted)
        return r, due

    report(3, None, status="draft")  # due, never submitted
    _r2, due2 = report(4, datetime(YEAR, 5, 8, 23, 30, tzinfo=SHANGHAI))  # on the due day
    # First submitted a day late, then returned and resubmitted: still late.
    r3, due3 = report(5, datetime(YEAR, 6, 8, 0, 30, tzinfo=SHANGHAI))
    assert due2 == date(YEAR, 5, 8) and due3 == date(YEAR, 6, 7)
    ReportEvent.objects.create(report=r3, action="submitted", at=datetime(YEAR, 6, 20, tzinfo=SHANGHAI))  # fmt: skip
    report(12, None, status="draft")  # due in January next year: not due on 2026-01-05
    got = services.reports_on_time(
        organization_ids=[tree.branch.pk, tree.sibling.pk], year=YEAR, today=date(YEAR + 1, 1, 5)
    )
    assert got == {tree.branch.pk: (1, 3)}


def test_compute_rates_every_branch_and_only_branches(tree):
    put_figures(tree.branch, mixed())
    result = services.ratings_compute(year=YEAR, now=NOW)
    rated = dict(BranchRating.objects.filter(year=YEAR).values_list("organization_id", "score"))
    assert tree.branch.pk in rated and tree.joint.pk in rated and tree.outside.pk in rated
    assert tree.company.pk not in rated and tree.party_group.pk not in rated
    assert rated[tree.branch.pk] == Decimal("70.8")  # no report due: 5 points, not 3.3
    assert result["created"] == len(rated)
    assert RatingDecision.objects.filter(action="computed").count() == len(rated)
    # Again with the same figures: nothing new in the history.
    assert services.ratings_compute(year=YEAR, now=NOW + timedelta(days=1))["changed"] == 0
    assert RatingDecision.objects.count() == len(rated)


def test_recomputation_keeps_the_decision_and_records_history(tree):
    rating = rate(tree.branch, mixed())
    assert (rating.status, rating.stars, rating.computed_stars) == ("computed", None, 3)
    rating = services.rating_override(rating=rating, by=tree.reviewer, stars=4, reason="抢险有功")
    put_figures(tree.branch, perfect())
    services.ratings_compute(year=YEAR, organization_ids=[tree.branch.pk], now=NOW)
    rating.refresh_from_db()
    assert rating.score == Decimal("100.0")
    assert rating.computed_stars == 5
    assert (rating.status, rating.stars, rating.reason) == ("overridden", 4, "抢险有功")
    assert rating.shown_stars == 4
    history = list(rating.decisions.order_by("pk").values_list("action", "stars", "score"))
    assert history == [
        ("computed", 3, Decimal("70.8")),
        ("overridden", 4, Decimal("70.8")),
        ("computed", 5, Decimal("100.0")),
    ]
    # The committee may now confirm the new stars.
    services.rating_confirm(rating=rating, by=tree.reviewer)
    rating.refresh_from_db()
    assert (rating.status, rating.stars) == ("confirmed", 5)
    with pytest.raises(ValidationError):
        services.rating_confirm(rating=rating, by=tree.reviewer)


def test_only_a_reviewer_above_decides(tree):
    rating = rate(tree.branch, mixed())
    other = factories.UserFactory(username="other_reviewer")
    factories.RoleAssignmentFactory(
        user=other, organization=tree.other_group, role=RoleAssignment.Role.REVIEWER
    )
    # A reviewer who is also on the branch's own committee does not rate it.
    both = factories.UserFactory(username="both")
    factories.RoleAssignmentFactory(user=both, organization=tree.company, role="reviewer")
    factories.RoleAssignmentFactory(user=both, organization=tree.branch, role="deputy_secretary")
    for user in (tree.secretary, tree.secretary2, tree.member.user, other, both):
        with pytest.raises(PermissionDenied):
            services.rating_confirm(rating=rating, by=user)
        with pytest.raises(PermissionDenied):
            services.rating_override(rating=rating, by=user, stars=5, reason="x")
    services.rating_confirm(rating=rating, by=tree.reviewer)


def test_override_needs_a_reason(tree):
    rating = rate(tree.branch, mixed())
    with pytest.raises(ValidationError) as exc:
        services.rating_override(rating=rating, by=tree.reviewer, stars=5, reason="   ")
    assert "reason" in exc.value.error_dict
    rating.refresh_from_db()
    assert rating.status == "computed"
    assert not rating.decisions.exclude(action="computed").exists()


def test_decision_tells_the_secretaries(tree, django_capture_on_commit_callbacks):
    rating = rate(tree.branch, mixed())
    with django_capture_on_commit_callbacks(execute=True):
        services.rating_confirm(rating=rating, by=tree.reviewer)
    event = Event.objects.get(kind="rating_decided")
    assert event.audience == "users"
    assert event.url == tree.branch.get_absolute_url()  # where the stars show
    assert set(Notification.objects.filter(event=event).values_list("recipient__username", flat=True)) == {"secretary"}  # fmt: skip


# --- pages: the reviewer's decisions ------------------------------------------------------------


@pytest.fixture
def other_reviewer(tree):
    """The reviewer of another company of the same group, with a branch of its own."""
    company = factories.OrganizationFactory(
        parent=tree.group, name="二公司党委", kind=Organization.Kind.COMMITTEE
    )
    user = factories.UserFactory(username="other_reviewer")
    factories.RoleAssignmentFactory(
        user=user, organization=company, role=RoleAssignment.Role.REVIEWER
    )
    user.branch = factories.OrganizationFactory(parent=company, name="二公司项目党支部")
    return user


def test_confirm_and_override_pages_permissions(client, tree, other_reviewer):
    rating = rate(tree.branch, mixed())
    confirm = reverse("reports:rating_confirm", args=[rating.pk])
    override = reverse("reports:rating_override", args=[rating.pk])
    detail = reverse("reports:rating", args=[rating.pk])
    client.force_login(tree.secretary)
    assert client.get(detail).status_code == 403
    assert client.post(confirm).status_code == 403
    assert client.post(override, {"stars": 5, "reason": "x"}).status_code == 403
    client.force_login(other_reviewer)
    assert client.get(detail).status_code == 404
    assert client.post(confirm).status_code == 404
    assert client.post(override, {"stars": 5, "reason": "x"}).status_code == 404
    client.force_login(tree.member.user)
    assert client.post(confirm).status_code == 404
    assert client.get(confirm).status_code == 405  # POST only
    rating.refresh_from_db()
    assert rating.status == "computed"

    client.force_login(tree.reviewer)
    assert client.get(detail).status_code == 200
    response = client.post(confirm, {"reason": ""})
    assert response.status_code == 302
    rating.refresh_from_db()
    assert (rating.status, rating.stars, rating.decided_by) == ("confirmed", 3, tree.reviewer)


def test_override_page_without_reason_shows_the_error(client, tree):
    rating = rate(tree.branch, mixed())
    client.force_login(tree.reviewer)
    url = reverse("reports:rating_override", args=[rating.pk])
    response = client.post(url, {"stars": 5, "reason": ""})
    assert response.status_code == 400
    assert "Give the reason for setting the stars." in response.content.decode()
    rating.refresh_from_db()
    assert rating.status == "computed"
    response = client.post(url, {"stars": 5, "reason": "群众评价高"})
    assert response.status_code == 302
    rating.refresh_from_db()
    assert (rating.status, rating.stars, rating.reason) == ("overridden", 5, "群众评价高")
    page = client.get(reverse("reports:rating", args=[rating.pk])).content.decode()
    assert "群众评价高" in page  # in the history


def test_ratings_list_scoped_and_filtered(client, tree, other_reviewer):
    for org in (tree.branch, tree.sibling, tree.joint, tree.outside, other_reviewer.branch):
        rate(org, mixed() if org != tree.sibling else perfect())
    url = reverse("reports:ratings") + f"?year={YEAR}"
    client.force_login(tree.secretary)
    assert client.get(url).status_code == 403
    client.force_login(tree.reviewer)
    page = client.get(url).content.decode()
    assert tree.branch.name in page and tree.sibling.name in page
    assert other_reviewer.branch.name in page  # the group's reviewer sees every company
    assert tree.outside.name not in page
    page = client.get(url + "&stars=5").content.decode()
    assert tree.sibling.name in page and tree.branch.name not in page
    page = client.get(url + "&status=confirmed").content.decode()
    assert tree.sibling.name not in page
    page = client.get(url + "&sort=-score").content.decode()
    assert page.index(tree.sibling.name) < page.index(tree.branch.name)
    client.force_login(other_reviewer)
    page = client.get(url).content.decode()
    assert other_reviewer.branch.name in page
    assert tree.branch.name not in page and tree.outside.name not in page


def _company_with_branches(n: int):
    company = factories.OrganizationFactory(name=f"公司{n}", kind=Organization.Kind.COMMITTEE)
    reviewer = factories.UserFactory(username=f"rev{n}")
    factories.RoleAssignmentFactory(user=reviewer, organization=company, role="reviewer")
    ids = []
    for i in range(n):
        org = factories.OrganizationFactory(parent=company, name=f"支部{n}-{i}")
        put_figures(org, mixed() if i % 2 else perfect())
        ids.append(org.pk)
    services.ratings_compute(year=YEAR, organization_ids=ids, now=NOW)
    return company, reviewer, ids


def test_ratings_list_query_count_fixed(client, tree, django_assert_num_queries):
    counts = []
    for n in (2, 30):
        _company, reviewer, ids = _company_with_branches(n)
        account_rating = BranchRating.objects.get(organization_id=ids[0], year=YEAR)
        account_rating.status, account_rating.stars = "confirmed", 5
        account_rating.decided_at = NOW
        account_rating.save()
        PracticeAccount.objects.create(
            organization_id=ids[0], rating=account_rating, title="做法", body="<p>x</p>",
            status="submitted",
        )  # fmt: skip
        client.force_login(reviewer)
        url = reverse("reports:ratings") + f"?year={YEAR}&sort=-score"
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert f"支部{n}-{n - 1}" in response.content.decode() or n > 20
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    print("ratings list queries (2 vs 30 branches):", counts)


def test_compute_query_count_fixed(tree):
    counts = []
    for n in (2, 30):
        company = factories.OrganizationFactory(name=f"c{n}", kind=Organization.Kind.COMMITTEE)
        ids = []
        for i in range(n):
            org = factories.OrganizationFactory(parent=company, name=f"b{n}-{i}")
            put_figures(org, mixed())
            ids.append(org.pk)
        with CaptureQueriesContext(connection) as ctx:
            services.ratings_compute(year=YEAR, organization_ids=ids, now=NOW)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_recompute_page(client, tree, django_capture_on_commit_callbacks):
    put_figures(tree.branch, mixed())
    client.force_login(tree.secretary)
    assert client.post(reverse("reports:ratings_recompute"), {"year": YEAR}).status_code == 403
    client.force_login(tree.reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:ratings_recompute"), {"year": YEAR})
    assert response.status_code == 302
    rated = set(BranchRating.objects.filter(year=YEAR).values_list("organization_id", flat=True))
    assert rated == {tree.branch.pk, tree.sibling.pk, tree.joint.pk}  # not the other group


# --- the guide and the branch page ---------------------------------------------------------------


def test_guide_documents_the_weights_and_the_secretary_sees_the_breakdown(client, tree, settings):
    settings.NETBRANCH_RATING_STARS = [91, 76, 61, 41]
    this_year = services.current_year()
    rate(tree.branch, mixed(), year=this_year)
    last = rate(tree.branch, perfect(), year=this_year - 1)
    services.rating_confirm(rating=last, by=tree.reviewer)
    client.force_login(tree.member.user)
    page = client.get(reverse("reports:rating_guide")).content.decode()
    assert "Meetings held as required" in page
    assert "91" in page and "41" in page
    assert "17.5" not in page  # a member does not see a breakdown
    client.force_login(tree.secretary)
    page = client.get(reverse("reports:rating_guide")).content.decode()
    assert "70.8" in page  # this year's score
    assert "17.5" in page  # the meetings' points
    assert reverse("reports:practice_write", args=[last.pk]) in page  # five stars confirmed


def test_branch_page_shows_the_stars_with_a_fixed_query_count(client, tree):
    url = reverse("branches:detail", args=[tree.branch.pk])
    client.force_login(tree.member.user)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    rating = rate(tree.branch, mixed(), year=YEAR - 1)
    services.rating_override(rating=rating, by=tree.reviewer, stars=4, reason="x")
    rate(tree.branch, perfect(), year=YEAR)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url).content.decode()
    assert "4 stars out of 5" in page
    assert "5 stars out of 5" in page
    assert "★★★★☆" in page
    five = BranchRating.objects.get(organization=tree.branch, year=YEAR)
    services.rating_confirm(rating=five, by=tree.reviewer)
    for i in range(6):
        PracticeAccount.objects.create(
            organization=tree.branch, rating=five, title=f"做法{i}", body="<p>x</p>",
            status="shared", shared_at=NOW,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "做法5" in page
    assert len(one.captured_queries) == len(many.captured_queries)
    assert len(one.captured_queries) - len(before.captured_queries) <= 2
    print(
        "branch page queries: no rating",
        len(before.captured_queries),
        "with ratings",
        len(one.captured_queries),
        len(many.captured_queries),
    )


# --- practice accounts --------------------------------------------------------------------------


def test_practice_account_refused_for_a_four_star_branch(client, tree):
    rating = rate(tree.branch, perfect())
    # Computed five stars is not enough: the committee must decide.
    with pytest.raises(ValidationError):
        services.practice_account_save(rating=rating, by=tree.secretary, title="t", body="b")
    services.rating_override(rating=rating, by=tree.reviewer, stars=4, reason="报告逾期")
    rating.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.practice_account_save(rating=rating, by=tree.secretary, title="t", body="b")
    assert "five stars" in " ".join(exc.value.messages)
    client.force_login(tree.secretary)
    response = client.get(reverse("reports:practice_write", args=[rating.pk]), follow=True)
    assert "Only a branch the committee rated five stars" in response.content.decode()
    assert not PracticeAccount.objects.exists()


def test_shared_account_notifies_the_group_and_shows_on_the_branch_page(
    client, tree, django_capture_on_commit_callbacks
):
    rating = rate(tree.branch, perfect())
    services.rating_confirm(rating=rating, by=tree.reviewer)
    client.force_login(tree.secretary)
    write = reverse("reports:practice_write", args=[rating.pk])
    assert client.get(write).status_code == 200
    response = client.post(
        write, {"title": "隧道里的先锋岗", "body": "<p>做法</p><script>alert(1)</script>"}
    )
    account = PracticeAccount.objects.get()
    assert response.status_code == 302
    assert "<script>" not in account.body and account.status == "draft"
    # Another branch's secretary cannot write for it, nor see the draft.
    client.force_login(tree.secretary2)
    assert client.get(write).status_code == 404
    assert client.get(account.get_absolute_url()).status_code == 404
    client.force_login(tree.secretary)
    client.post(reverse("reports:practice_submit", args=[account.pk]))
    account.refresh_from_db()
    assert account.status == "submitted"
    # The secretary does not share it; a member does not see it yet.
    assert client.post(reverse("reports:practice_share", args=[account.pk])).status_code == 403
    client.force_login(tree.member.user)
    assert client.get(account.get_absolute_url()).status_code == 404

    client.force_login(tree.reviewer)
    assert "隧道里的先锋岗" in client.get(reverse("reports:ratings") + f"?year={YEAR}").content.decode()  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:practice_share", args=[account.pk]))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == "shared" and account.shared_by == tree.reviewer
    event = Event.objects.get(kind="practice_shared")
    assert event.audience == "members.of_organizations"
    assert event.audience_params["orgs"] == [tree.group.pk]
    told = set(Notification.objects.filter(event=event).values_list("recipient__username", flat=True))  # fmt: skip
    assert {"member", "office", "sibling_member", "participant", "secretary2"} <= told
    assert "outsider" not in told

    client.force_login(tree.sibling_member.user)  # another branch of the group
    page = client.get(account.get_absolute_url()).content.decode()
    assert "隧道里的先锋岗" in page and "<script>" not in page
    client.force_login(tree.member.user)
    page = client.get(reverse("branches:detail", args=[tree.branch.pk])).content.decode()
    assert "隧道里的先锋岗" in page
    client.force_login(tree.outsider.user)  # another group
    assert client.get(account.get_absolute_url()).status_code == 404


def test_admin_lists_ratings_in_scope(client, tree):
    rate(tree.branch, mixed())
    rate(tree.outside, mixed())
    client.force_login(tree.reviewer)
    page = client.get(reverse("admin:reports_branchrating_changelist")).content.decode()
    assert tree.branch.name in page and tree.outside.name not in page
    other = BranchRating.objects.get(organization=tree.outside)
    response = client.get(reverse("admin:reports_branchrating_change", args=[other.pk]))
    assert response.status_code == 404
    client.force_login(tree.secretary)
    response = client.post(
        reverse("admin:reports_branchrating_changelist"),
        {
            "action": "confirm",
            "_selected_action": [BranchRating.objects.get(organization=tree.branch).pk],
        },
    )
    assert BranchRating.objects.get(organization=tree.branch).status == "computed"


def test_now_is_used_for_the_current_year():
    assert services.current_year() == timezone.localdate(timezone.now(), SHANGHAI).year
