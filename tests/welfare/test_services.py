"""The welfare services: sign-up within the places, recording what was done, features,
photos, pairing cases, follow-up visits, handover and closing, and the follow-up reminders
with a frozen clock (`today=`)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from branches.models import TimelineEntry
from members.models import ActivityFact
from notifications.models import Event, Notification
from tests import factories
from welfare import services
from welfare.models import (
    CaseReminder,
    FollowUp,
    FollowUpPhoto,
    PairingCase,
    WelfareActivity,
    WelfareParticipant,
    WelfareSignUp,
)

from .conftest import days, exe_as, pdf, png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


# --- planning and publishing ------------------------------------------------------------------


def test_a_published_coming_activity_tells_the_branch_members_once(tree, make_activity, committed):
    activity = make_activity()
    event = Event.objects.get(kind="welfare_activity_published")
    recipients = set(
        Notification.objects.filter(event=event).values_list("recipient__username", flat=True)
    )
    assert {"member", "office", "secretary"} <= recipients
    assert not recipients & {"sibling_member", "outsider", "participant"}
    with committed():
        services.activity_publish(activity=activity, by=tree.secretary)
    assert Event.objects.filter(kind="welfare_activity_published").count() == 1


@pytest.mark.parametrize("who", ["secretary2", "member"])
def test_only_the_branch_committee_plans_its_activities(tree, who):
    user = tree.secretary2 if who == "secretary2" else tree.member.user
    with pytest.raises(PermissionDenied):
        services.activity_create(
            by=user, organization=tree.branch, kind="donation", title="捐书", held_on=TODAY()
        )


def test_the_themed_day_and_the_site_must_belong_to_the_organisation(tree, make_activity):
    from meetings.services import meeting_create

    other_day = meeting_create(
        by=tree.secretary2, organization=tree.sibling, kind="themed_day", title="主题党日",
        starts_at=timezone.now(), ends_at=timezone.now() + datetime.timedelta(hours=2),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        make_activity(meeting=other_day)
    assert "meeting" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_activity(project_site=tree.sibling_site)
    assert "project_site" in exc.value.message_dict
    own_day = meeting_create(
        by=tree.secretary, organization=tree.branch, kind="themed_day", title="主题党日：走访",
        starts_at=timezone.now(), ends_at=timezone.now() + datetime.timedelta(hours=2),
    )  # fmt: skip
    assert make_activity(meeting=own_day, project_site=tree.site).meeting == own_day


# --- sign-up ----------------------------------------------------------------------------------


def test_sign_up_takes_a_place_and_a_double_sign_up_takes_none(tree, make_activity):
    activity = make_activity(places=2)
    first = services.activity_sign_up(activity=activity, user=tree.member.user)
    again = services.activity_sign_up(activity=activity, user=tree.member.user)
    assert first.pk == again.pk
    activity.refresh_from_db()
    assert activity.signed_up == 1 and activity.places_left == 1
    assert WelfareSignUp.objects.filter(activity=activity).count() == 1


def test_the_last_place_goes_once_and_the_next_member_is_refused(tree, make_activity):
    activity = make_activity(places=1)
    services.activity_sign_up(activity=activity, user=tree.member.user)
    with pytest.raises(ValidationError, match="All places are taken"):
        services.activity_sign_up(activity=activity, user=tree.office.user)
    activity.refresh_from_db()
    assert activity.signed_up == 1
    assert not WelfareSignUp.objects.filter(member=tree.office).exists()  # rolled back


def test_withdrawing_frees_the_place(tree, make_activity):
    activity = make_activity(places=1)
    services.activity_sign_up(activity=activity, user=tree.member.user)
    assert services.activity_withdraw(activity=activity, user=tree.member.user) is True
    assert services.activity_withdraw(activity=activity, user=tree.member.user) is False
    services.activity_sign_up(activity=activity, user=tree.office.user)
    activity.refresh_from_db()
    assert activity.signed_up == 1


def test_the_database_refuses_more_sign_ups_than_places(tree, make_activity):
    activity = make_activity(places=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        WelfareActivity.objects.filter(pk=activity.pk).update(signed_up=2)


def test_fewer_places_than_sign_ups_is_refused(tree, make_activity):
    activity = make_activity(places=3)
    services.activity_sign_up(activity=activity, user=tree.member.user)
    services.activity_sign_up(activity=activity, user=tree.office.user)
    with pytest.raises(ValidationError) as exc:
        services.activity_update(activity=activity, by=tree.secretary, fields={"places": 1})
    assert "places" in exc.value.message_dict


@pytest.mark.parametrize("who", ["sibling_member", "outsider", "reviewer"])
def test_only_members_of_the_organisation_sign_up(tree, make_activity, who):
    activity = make_activity()
    user = tree.reviewer if who == "reviewer" else getattr(tree, who).user
    with pytest.raises(PermissionDenied):
        services.activity_sign_up(activity=activity, user=user)


def test_members_of_a_party_group_under_the_branch_sign_up(tree, make_activity):
    member = factories.MemberFactory(user__username="grouped", branch=tree.sibling)
    factories.ParticipationFactory(member=member, organization=tree.party_group)
    activity = make_activity()
    assert services.activity_sign_up(activity=activity, user=member.user).member == member


def test_no_sign_up_for_a_past_unpublished_or_done_activity(tree, make_activity):
    past = make_activity(held_on=TODAY() - days(1))
    with pytest.raises(ValidationError, match="closed"):
        services.activity_sign_up(activity=past, user=tree.member.user)
    draft = make_activity(publish=False)
    with pytest.raises(ValidationError):
        services.activity_sign_up(activity=draft, user=tree.member.user)


# --- what was done ----------------------------------------------------------------------------


def test_recording_done_puts_it_on_the_timeline_and_counts_participants_once(tree, make_activity):
    activity = make_activity(held_on=TODAY(), places=5)
    services.activity_sign_up(activity=activity, user=tree.member.user)
    done = services.activity_record_done(
        activity=activity, by=tree.secretary,
        participants=[(tree.member, "3.5"), (tree.office, 2)],
        money_yuan=Decimal("1200.00"), goods="棉被20床", goods_value_yuan=Decimal("3000"), beneficiaries=12,
    )  # fmt: skip
    assert (
        done.status == WelfareActivity.Status.DONE
        and done.done_at
        and done.recorded_by == tree.secretary
    )
    entry = TimelineEntry.objects.get(organization=tree.branch, kind="welfare_activity_done")
    assert str(entry) == f"Welfare activity: {activity.title}"
    hours = dict(WelfareParticipant.objects.values_list("member__user__username", "hours"))
    assert hours == {"member": Decimal("3.5"), "office": Decimal("2.0")}
    assert ActivityFact.objects.filter(kind=ActivityFact.Kind.SERVED).count() == 2
    # Recording again corrects the record and adds no second timeline line or fact.
    services.activity_record_done(activity=activity, by=tree.secretary, beneficiaries=14,
                                  participants=[(tree.member, 4)])  # fmt: skip
    assert TimelineEntry.objects.filter(kind="welfare_activity_done").count() == 1
    assert ActivityFact.objects.filter(kind=ActivityFact.Kind.SERVED).count() == 2
    assert list(WelfareParticipant.objects.values_list("hours", flat=True)) == [Decimal("4.0")]


def test_without_participants_the_sign_ups_become_participants(tree, make_activity):
    activity = make_activity(held_on=TODAY())
    services.activity_sign_up(activity=activity, user=tree.member.user)
    services.activity_record_done(activity=activity, by=tree.secretary)
    assert list(WelfareParticipant.objects.values_list("member", flat=True)) == [tree.member.pk]


def test_done_cannot_be_recorded_before_the_date_nor_for_outsiders(tree, make_activity):
    with pytest.raises(ValidationError, match="on its date or later"):
        services.activity_record_done(activity=make_activity(), by=tree.secretary)
    today = make_activity(held_on=TODAY())
    with pytest.raises(ValidationError, match="Not members of"):
        services.activity_record_done(
            activity=today, by=tree.secretary, participants=[(tree.sibling_member, 1)]
        )
    with pytest.raises(ValidationError, match="between 0 and 240"):
        services.activity_record_done(activity=today, by=tree.secretary, participants=[(tree.member, 300)])  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.activity_record_done(activity=today, by=tree.secretary2)


# --- features and photos ----------------------------------------------------------------------


def test_a_reviewer_features_an_activity_to_a_wider_subtree(tree, make_activity):
    activity = make_activity()
    with pytest.raises(PermissionDenied):
        services.activity_feature(activity=activity, organization=tree.company, by=tree.secretary)
    with pytest.raises(ValidationError, match="see the activity already"):
        services.activity_feature(
            activity=activity, organization=tree.party_group, by=tree.reviewer
        )
    feature = services.activity_feature(
        activity=activity, organization=tree.company, by=tree.reviewer
    )
    assert (
        services.activity_feature(activity=activity, organization=tree.company, by=tree.reviewer)
        == feature
    )
    with pytest.raises(ValidationError, match="Publish"):
        services.activity_feature(activity=make_activity(publish=False), organization=tree.company, by=tree.reviewer)  # fmt: skip


def test_photos_are_checked_as_core_checks_every_upload(tree, make_activity):
    activity = make_activity()
    photo = services.photo_add(activity=activity, by=tree.secretary, image=png("卓玛家.png"))
    assert photo.image.name.startswith("welfare/activities/") and "卓玛" not in photo.image.name
    assert photo.cleared is False
    with pytest.raises(ValidationError):
        services.photo_add(activity=activity, by=tree.secretary, image=exe_as("photo.jpg"))
    with pytest.raises(PermissionDenied):
        services.photo_add(activity=activity, by=tree.secretary2, image=png())


# --- pairing cases ----------------------------------------------------------------------------


def test_paired_members_must_belong_to_the_branch(tree, make_case):
    with pytest.raises(ValidationError) as exc:
        make_case(paired=[tree.sibling_member])
    assert "paired_members" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        make_case(by=tree.secretary2)


def test_a_case_moved_to_another_branch_keeps_no_outside_paired_member(tree, make_case):
    """Moving a case to another branch re-checks its paired members: otherwise a member of
    the first branch would go on reading the personal data of the other branch's case."""
    case = make_case()
    with pytest.raises(ValidationError) as exc:
        services.case_update(case=case, by=tree.reviewer, fields={"organization": tree.sibling})
    assert "paired_members" in exc.value.message_dict
    case.refresh_from_db()
    assert case.organization == tree.branch
    moved = services.case_update(
        case=case,
        by=tree.reviewer,
        fields={"organization": tree.sibling, "paired_members": [tree.sibling_member]},
    )
    assert moved.organization == tree.sibling
    assert list(moved.paired_members.all()) == [tree.sibling_member]


def test_a_case_label_never_shows_the_name(tree, make_case):
    household = make_case()
    person = make_case(beneficiary_kind="person", name="欧阳小明", village="三村")
    named = make_case(beneficiary_kind="person", name="扎西顿珠", surname="扎西")
    assert str(household) == "a household in 那曲镇三村"
    assert str(person) == "欧阳 (name withheld), 三村"
    assert str(named) == "扎西 (name withheld), 那曲镇三村"
    assert "卓玛" not in str(household)


def test_follow_ups_by_paired_members_and_the_committee_only(tree, make_case):
    case = make_case()
    visit = services.follow_up_add(
        case=case,
        by=tree.member.user,
        visited_on=TODAY(),
        notes="送去学习用品",
        photos=[png(), png()],
    )
    assert visit.photos.count() == 2
    case.refresh_from_db()
    assert case.last_follow_up_on == TODAY()
    assert ActivityFact.objects.filter(member=tree.member, kind="served").exists()
    services.follow_up_add(
        case=case, by=tree.secretary, visited_on=TODAY() - days(3), notes="电话回访"
    )
    case.refresh_from_db()
    assert case.last_follow_up_on == TODAY()  # an older visit does not move it back
    for user in (tree.office.user, tree.secretary2, tree.sibling_member.user):
        with pytest.raises(PermissionDenied):
            services.follow_up_add(case=case, by=user, visited_on=TODAY(), notes="x")


def test_follow_up_dates_notes_and_uploads_are_checked(tree, make_case):
    case = make_case()
    add = services.follow_up_add
    with pytest.raises(ValidationError, match="after it took place"):
        add(case=case, by=tree.member.user, visited_on=TODAY() + days(1), notes="x")
    with pytest.raises(ValidationError, match="before the pairing started"):
        add(case=case, by=tree.member.user, visited_on=TODAY() - days(30), notes="x")
    with pytest.raises(ValidationError, match="Say what was done"):
        add(case=case, by=tree.member.user, visited_on=TODAY(), notes="  ")
    with pytest.raises(ValidationError):
        add(
            case=case,
            by=tree.member.user,
            visited_on=TODAY(),
            notes="x",
            photos=[png(), exe_as("a.png")],
        )
    with pytest.raises(ValidationError, match="At most 6"):
        add(case=case, by=tree.member.user, visited_on=TODAY(), notes="x", photos=[png()] * 7)
    assert not FollowUp.objects.exists() and not FollowUpPhoto.objects.exists()


def test_handover_keeps_the_case_readable_and_read_only(tree, make_case):
    case = make_case()
    with pytest.raises(ValidationError) as exc:
        services.case_hand_over(case=case, by=tree.secretary, to_kind="village_committee", to="",
                                contact="", on=TODAY(), document=None)  # fmt: skip
    assert {"to", "contact", "document"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        services.case_hand_over(case=case, by=tree.secretary, to_kind="village_committee",
                                to="三村村委会", contact="次仁 13908960002", on=TODAY(),
                                document=exe_as("移交.pdf"))  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.case_hand_over(case=case, by=tree.member.user, to_kind="village_committee",
                                to="三村村委会", contact="次仁", on=TODAY(), document=pdf())  # fmt: skip
    done = services.case_hand_over(
        case=case, by=tree.secretary, to_kind="village_committee", to="那曲镇三村村委会",
        contact="次仁 13908960002", on=TODAY(), document=pdf(), note="项目部撤场",
    )  # fmt: skip
    assert done.status == PairingCase.Status.HANDED_OVER
    assert done.handover_document.name.startswith("welfare/handover/")
    assert "卓玛" not in done.handover_document.name  # the uploaded name is not kept
    with pytest.raises(ValidationError, match="kept as it was"):
        services.follow_up_add(case=done, by=tree.member.user, visited_on=TODAY(), notes="x")
    with pytest.raises(ValidationError, match="kept as it was"):
        services.case_update(case=done, by=tree.secretary, fields={"plan": "改"})
    with pytest.raises(ValidationError):
        services.case_close(case=done, by=tree.secretary, on=TODAY(), reason="x")


def test_closing_needs_a_reason(tree, make_case):
    case = make_case()
    with pytest.raises(ValidationError):
        services.case_close(case=case, by=tree.secretary, on=TODAY(), reason=" ")
    closed = services.case_close(case=case, by=tree.secretary, on=TODAY(), reason="已脱贫")
    assert closed.status == "closed" and closed.closed_on == TODAY()


# --- reminders (frozen clock: today=) ---------------------------------------------------------


@pytest.fixture
def stale_case(tree, make_case, settings):
    settings.NETBRANCH_WELFARE_FOLLOW_UP_DAYS = 60
    start = datetime.date(2025, 1, 1)
    case = make_case(started_on=start)
    return case, start


def reminders_to(username):
    return list(
        Notification.objects.filter(recipient__username=username)
        .order_by("event__created_at")
        .values_list("event__kind", flat=True)
    )


def test_reminders_go_once_per_period_paired_members_then_the_secretary(
    tree, stale_case, committed
):
    _case, start = stale_case
    send = services.cases_send_follow_up_reminders
    with committed():
        assert send(today=start + days(59)) == 0  # not yet a period
        assert send(today=start + days(60)) == 1
        assert send(today=start + days(60)) == 0  # a doubled tick
        assert send(today=start + days(100)) == 0  # same period
    assert reminders_to("member") == ["welfare_follow_up_due"]
    assert reminders_to("secretary") == []
    with committed():
        assert send(today=start + days(120)) == 1
        assert send(today=start + days(150)) == 0
        assert send(today=start + days(180)) == 1
    assert reminders_to("secretary") == ["welfare_follow_up_overdue", "welfare_follow_up_overdue"]
    assert reminders_to("member") == ["welfare_follow_up_due", *["welfare_follow_up_overdue"] * 2]
    assert list(CaseReminder.objects.order_by("period_start").values_list("stage", flat=True)) == [
        "paired", "secretary", "secretary",
    ]  # fmt: skip


def test_a_visit_restarts_the_clock(tree, stale_case, committed):
    case, start = stale_case
    with committed():
        services.cases_send_follow_up_reminders(today=start + days(60))
        services.follow_up_add(case=case, by=tree.member.user, visited_on=start + days(61),
                               notes="走访", today=start + days(61))  # fmt: skip
        assert services.cases_send_follow_up_reminders(today=start + days(120)) == 0
        assert services.cases_send_follow_up_reminders(today=start + days(121)) == 1
    assert reminders_to("member") == ["welfare_follow_up_due", "welfare_follow_up_due"]


def test_a_handed_over_or_closed_case_stops_reminding(tree, stale_case, make_case, committed):
    case, start = stale_case
    services.case_hand_over(case=case, by=tree.secretary, to_kind="village_committee",
                            to="三村村委会", contact="次仁", on=start + days(30), document=pdf())  # fmt: skip
    other = make_case(started_on=start)
    services.case_close(case=other, by=tree.secretary, on=start + days(30), reason="搬迁")
    with committed():
        assert services.cases_send_follow_up_reminders(today=start + days(200)) == 0
    assert not Notification.objects.exists()


def test_reminder_texts_carry_no_personal_data(tree, stale_case, committed):
    _case, start = stale_case
    with committed():
        services.cases_send_follow_up_reminders(today=start + days(130))
    event = Event.objects.get()
    from notifications import kinds

    text = kinds.render(event)
    assert "那曲镇三村" in text and "130 days" in text
    for secret in ("卓玛", "13908960001", "二组15号", "去世"):
        assert secret not in text and secret not in event.subject and secret not in event.url
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "member",
        "secretary",
    }


def test_a_case_without_paired_members_reminds_the_secretary_at_once(tree, make_case, committed):
    make_case(paired=[], started_on=datetime.date(2025, 1, 1))
    with committed():
        services.cases_send_follow_up_reminders(today=datetime.date(2025, 3, 5))
    assert reminders_to("secretary") == ["welfare_follow_up_overdue"]
    assert CaseReminder.objects.get().stage == "secretary"
