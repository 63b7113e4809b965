"""Motions in the secretaries' admin: scoped lists and raw ids, raising through the services
(the refused combinations as form errors), "Save and open the vote", read-only once open,
closing early, and the follow-up of a decision."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import services
from decisions.models import Motion
from tests.decisions.conftest import close_at_end
from tests.lessons.conftest import events_for

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:decisions_motion_changelist")
ADD = reverse("admin:decisions_motion_add")
ORGS = ["group", "company", "branch", "party_group", "sibling", "joint", "outside"]
SEES = {
    "secretary": {"branch", "party_group"},
    "secretary2": {"sibling"},
    "reviewer": {"group", "company", "branch", "party_group", "sibling", "joint"},
    "admin": set(ORGS),
}


def change_url(motion):
    return reverse("admin:decisions_motion_change", args=[motion.pk])


def form_data(organization, **overrides):
    now = timezone.localtime().replace(second=0, microsecond=0)
    closes = now + timedelta(days=3)
    data = {
        "organization": organization.pk,
        "meeting": "",
        "title": "关于开展结对帮扶的议案",
        "body": "<p>提请表决。</p>",
        "electorate": Motion.Electorate.FULL_MEMBERS,
        "opens_at_0": now.date().isoformat(),
        "opens_at_1": now.strftime("%H:%M:%S"),
        "closes_at_0": closes.date().isoformat(),
        "closes_at_1": closes.strftime("%H:%M:%S"),
        "results_hidden": "on",
        "quorum_percent": "50",
        "threshold": Motion.Threshold.SIMPLE,
        "majority_of": Motion.MajorityOf.ELECTORATE,
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def motion_per_org(tree, make_motion):
    return {org: make_motion(org=getattr(tree, org), by=tree.admin, title=f"{org}的议案") for org in ORGS}  # fmt: skip


@pytest.mark.parametrize("who", list(SEES))
def test_changelist_and_raw_ids_are_scoped(client, tree, motion_per_org, who):
    client.force_login(getattr(tree, who))
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert {m.title for m in response.context["cl"].result_list} == {
        f"{o}的议案" for o in SEES[who]
    }
    for org, motion in motion_per_org.items():
        expected = 200 if org in SEES[who] else 404
        assert client.get(change_url(motion)).status_code == expected, (who, org)


def test_a_secretary_raises_and_opens_a_secret_ballot(client, tree, committed):
    client.force_login(tree.secretary)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, form_data(tree.branch, secret="on", changeable="on"))
    assert response.status_code == 200
    assert "cannot be changed once cast" in response.content.decode()
    response = client.post(ADD, form_data(tree.branch, secret="on", results_hidden=None))
    assert "stay hidden until the close" in response.content.decode()
    response = client.post(ADD, form_data(tree.sibling))
    assert response.status_code == 200 and not Motion.objects.exists()  # not their branch
    with committed():
        response = client.post(ADD, form_data(tree.branch, secret="on", _publish="1"))
    assert response.status_code == 302
    motion = Motion.objects.get()
    assert (motion.status, motion.secret, motion.raised_by) == (Motion.Status.OPEN, True, tree.secretary)  # fmt: skip
    assert events_for(motion, "motion_opened").count() == 1


def test_an_open_motion_is_read_only(client, tree, make_motion):
    motion = make_motion(open=True, title="原标题")
    client.force_login(tree.secretary)
    response = client.get(change_url(motion))
    assert response.status_code == 200 and 'name="title"' not in response.content.decode()
    client.post(change_url(motion), form_data(tree.branch, title="改了"))
    assert Motion.objects.get(pk=motion.pk).title == "原标题"
    assert client.post(reverse("admin:decisions_motion_delete", args=[motion.pk])).status_code == 403  # fmt: skip


def test_the_reviewer_looks_and_does_not_raise(client, tree, make_motion):
    motion = make_motion(open=True)
    client.force_login(tree.reviewer)
    assert client.get(change_url(motion)).status_code == 200
    assert client.get(ADD).status_code == 403


def test_the_close_action_counts_and_a_public_vote_lists_its_votes(client, tree, make_motion, committed):  # fmt: skip
    motion = make_motion(open=True)
    services.vote_cast(motion=motion, user=tree.member.user, choice="for")
    client.force_login(tree.secretary)
    html = client.get(change_url(motion)).content.decode()
    assert "hidden until the close" in html and "votes (public vote)" not in html.lower()
    with committed():
        client.post(CHANGELIST, {"action": "close_votes", "_selected_action": [motion.pk]})
    motion.refresh_from_db()
    assert motion.status == Motion.Status.CLOSED and motion.closed_by == tree.secretary
    html = client.get(change_url(motion)).content.decode()
    assert "votes (public vote)" in html.lower() and tree.member.user.username in html


def test_the_follow_up_is_assigned_by_a_secretary(client, tree, make_motion, committee_member):
    motion = make_motion(open=True)
    for user in (tree.member.user, tree.office.user, committee_member):
        services.vote_cast(motion=motion, user=user, choice="for")
    motion = services.motion_close(motion=motion, by=tree.secretary)
    assert motion.is_decision
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    data = form_data(tree.branch, owner=tree.office.user.pk, due_on=due)
    data.update({"votes-TOTAL_FORMS": "0", "votes-INITIAL_FORMS": "0", "updates-TOTAL_FORMS": "0", "updates-INITIAL_FORMS": "0"})  # fmt: skip
    client.force_login(committee_member)
    html = client.get(change_url(motion)).content.decode()
    assert 'name="owner"' not in html  # committee members do not assign
    client.force_login(tree.secretary)
    response = client.post(change_url(motion), {**data, "owner": tree.sibling_member.user.pk})
    assert response.status_code == 200  # not a member of the branch: a form error
    response = client.post(change_url(motion), data)
    assert response.status_code == 302
    motion.refresh_from_db()
    assert motion.owner == tree.office.user and motion.due_on.isoformat() == due


def test_drafts_are_deleted_closed_motions_stay(client, tree, make_motion):
    draft = make_motion()
    closed = close_at_end(make_motion(open=True))
    client.force_login(tree.secretary)
    client.post(reverse("admin:decisions_motion_delete", args=[draft.pk]), {"post": "yes"})
    assert not Motion.objects.filter(pk=draft.pk).exists()
    assert client.get(reverse("admin:decisions_motion_delete", args=[closed.pk])).status_code == 403
