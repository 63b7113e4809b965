"""Invitations: made only by managers of the branch; the link works once and expires and a
withdrawn one is dead; the e-mail carries the link; an anonymous invitee signs up through
allauth (closed without a valid invitation in the session) and lands in the branch; a logged-in
person without a registration confirms; a registered member is sent to a transfer; two uses
at once give one member. The secretaries' page and the admin are scoped, at a fixed cost."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import TimelineEntry
from members import services
from members.models import Invitation, Member
from members.services import INVITATION_SESSION_KEY, InvitationRefused
from tests import factories
from tests.members.conftest import events_for, race, recipients_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
User = get_user_model()
PASSWORD = "Plateau-4600-road"


@pytest.fixture
def invite(tree):
    """invite(branch=tree.branch, by=tree.secretary, **kw) -> (invitation, raw token)."""

    def make(branch=None, by=None, **kw):
        return services.invitation_create(
            by=by or tree.secretary, branch=branch or tree.branch, **kw
        )

    return make


@pytest.fixture
def newcomer(db):
    return factories.UserFactory(username="newcomer")


def accept_url(raw_token: str) -> str:
    return reverse("members:invitation_accept", args=[raw_token])


def signup_data(**kw) -> dict:
    data = {
        "real_name": "卓玛",
        "email": "zhuoma@example.com",
        "username": "zhuoma",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "phone": "13800000001",
    }
    data.update(kw)
    return data


# --- the service ------------------------------------------------------------------------------


def test_only_the_hash_of_the_token_is_kept(tree, invite):
    invitation, raw = invite()
    assert len(raw) >= 40
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.token_hash == services.invitations.token_hash(raw) != raw
    assert raw not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    lasts = stored.expires_at - stored.created_at
    assert timedelta(days=14, seconds=-1) < lasts <= timedelta(days=14)


def test_a_link_used_twice_is_refused(tree, invite, newcomer):
    invitation, raw = invite(real_name="新来的")
    member = services.invitation_accept(raw_token=raw, user=newcomer)
    assert (member.branch, member.real_name) == (tree.branch, "新来的")
    other = factories.UserFactory(username="other")
    with pytest.raises(InvitationRefused) as refused:
        services.invitation_accept(raw_token=raw, user=other, real_name="别人")
    assert refused.value.code == "used"
    assert "used already" in refused.value.messages[0]
    assert not Member.objects.filter(user=other).exists()
    invitation.refresh_from_db()
    assert (invitation.used_by, invitation.member) == (newcomer, member)


def test_a_link_after_expiry_is_refused(tree, invite, newcomer, settings):
    settings.NETBRANCH_INVITATION_DAYS = 3
    start = timezone.now() - timedelta(days=10)
    invitation, raw = invite(now=start)
    assert invitation.expires_at == start + timedelta(days=3)
    # One second before the end it still works (on a fixed clock), one second after it does not.
    with pytest.raises(InvitationRefused) as refused:
        services.invitation_accept(
            raw_token=raw, user=newcomer, real_name="迟到", now=start + timedelta(days=3, seconds=1)
        )
    assert refused.value.code == "expired"
    assert not Member.objects.filter(user=newcomer).exists()
    member = services.invitation_accept(
        raw_token=raw, user=newcomer, real_name="准时", now=start + timedelta(days=3, seconds=-1)
    )
    assert member.branch == tree.branch
    assert services.invitation_pending(raw) is None


def test_a_withdrawn_link_is_refused(tree, invite, newcomer):
    invitation, raw = invite()
    services.invitation_revoke(invitation=invitation, by=tree.secretary)
    with pytest.raises(InvitationRefused) as refused:
        services.invitation_accept(raw_token=raw, user=newcomer, real_name="某人")
    assert refused.value.code == "revoked"
    with pytest.raises(InvitationRefused):  # withdrawn once
        services.invitation_revoke(invitation=invitation, by=tree.secretary)
    with pytest.raises(InvitationRefused) as unknown:
        services.invitation_accept(raw_token="not-a-token", user=newcomer, real_name="某人")
    assert unknown.value.code == "invalid"
    assert not Member.objects.filter(user=newcomer).exists()


def test_a_used_invitation_cannot_be_withdrawn(tree, invite, newcomer):
    invitation, raw = invite(real_name="新来的")
    services.invitation_accept(raw_token=raw, user=newcomer)
    with pytest.raises(InvitationRefused):
        services.invitation_revoke(invitation=invitation, by=tree.secretary)


@pytest.mark.parametrize(
    ("who", "branch", "allowed"),
    [
        ("secretary", "branch", True),
        ("secretary2", "branch", False),
        ("secretary", "sibling", False),
        ("reviewer", "branch", True),
        ("reviewer", "outside", False),
        ("member", "branch", False),
        ("admin", "outside", True),
    ],
)
def test_who_may_invite_and_withdraw(tree, who, branch, allowed):
    by = getattr(tree, who)
    by = by.user if isinstance(by, Member) else by
    target = getattr(tree, branch)
    if not allowed:
        with pytest.raises(PermissionDenied):
            services.invitation_create(by=by, branch=target)
        invitation, _ = services.invitation_create(by=tree.admin, branch=target)
        with pytest.raises(PermissionDenied):
            services.invitation_revoke(invitation=invitation, by=by)
        assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
        return
    invitation, _ = services.invitation_create(by=by, branch=target)
    services.invitation_revoke(invitation=invitation, by=by)
    assert Invitation.objects.get(pk=invitation.pk).revoked_by == by


def test_only_registration_branches_invite(tree):
    with pytest.raises(ValidationError):
        services.invitation_create(by=tree.admin, branch=tree.party_group)
    with pytest.raises(ValidationError):
        services.invitation_create(by=tree.admin, branch=tree.company)


def test_a_registered_member_is_told_to_ask_for_a_transfer(tree, invite):
    _, raw = invite(real_name="已登记")
    with pytest.raises(InvitationRefused) as refused:
        services.invitation_accept(raw_token=raw, user=tree.sibling_member.user)
    assert refused.value.code == "member"
    assert "transfer" in refused.value.messages[0]
    tree.sibling_member.refresh_from_db()
    assert tree.sibling_member.branch == tree.sibling
    assert services.invitation_pending(raw) is not None


def test_a_pocket_member_is_registered_by_the_invitation(tree, invite):
    pocket = factories.MemberFactory(
        user__username="pocket",
        real_name="口袋党员",
        branch=None,
        contact_status=Member.ContactStatus.POCKET,
    )
    _, raw = invite()
    member = services.invitation_accept(raw_token=raw, user=pocket.user)
    assert member.pk == pocket.pk
    pocket.refresh_from_db()
    assert (pocket.branch, pocket.contact_status) == (tree.branch, Member.ContactStatus.ACTIVE)


def test_accepting_prefills_tells_the_branch_and_welcomes(tree, invite, newcomer, committed):
    invitation, raw = invite(
        status=Member.Status.PROBATIONARY, category=Member.Category.REMOTE, real_name="扎西"
    )
    with committed():
        member = services.invitation_accept(raw_token=raw, user=newcomer, phone="139")
    assert (member.status, member.category, member.phone) == ("probationary", "remote", "139")
    (told,) = events_for(invitation, "invitation_accepted")
    assert recipients_of(told) == {"secretary"}
    (welcome,) = events_for(tree.branch, "invitation_welcome")
    assert recipients_of(welcome) == {"newcomer"}
    assert TimelineEntry.objects.filter(
        organization=tree.branch, kind="member_registered", params__person="扎西"
    ).exists()


def test_the_email_carries_the_link_and_leaves_once(tree, invite, committed, settings):
    settings.NETBRANCH_BASE_URL = "https://dangjian.example.com"
    with committed():
        invitation, raw = invite(email="Zhuoma@Example.com", real_name="卓玛")
    assert invitation.email == "zhuoma@example.com"
    (sent,) = mail.outbox
    assert sent.to == ["zhuoma@example.com"]
    assert f"https://dangjian.example.com{accept_url(raw)}" in sent.body
    assert tree.branch.name in sent.subject
    invitation.refresh_from_db()
    assert invitation.emailed_at is not None
    # The task run again (a retry, a redelivery) sends nothing more.
    assert services.invitation_email_send(invitation_id=invitation.pk, raw_token=raw) is False
    assert len(mail.outbox) == 1


def test_a_link_invitation_sends_no_mail_and_a_withdrawn_one_none_later(tree, invite, committed):
    with committed():
        invite()
    assert mail.outbox == []
    invitation, raw = invite(email="late@example.com")
    services.invitation_revoke(invitation=invitation, by=tree.secretary)
    assert services.invitation_email_send(invitation_id=invitation.pk, raw_token=raw) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_two_uses_of_one_link_at_once_give_one_member(require_postgres, tree, invite):
    _, raw = invite(real_name="同时")
    # Three people, one each (list.pop is atomic), released together.
    people = [factories.UserFactory(username=f"racer{i}") for i in range(3)]
    results = race(lambda: services.invitation_accept(raw_token=raw, user=people.pop()), n=3)
    assert sum(isinstance(r, Member) for r in results) == 1, results
    assert sum(isinstance(r, InvitationRefused) for r in results) == 2, results
    assert Member.objects.filter(user__username__startswith="racer").count() == 1
    assert Invitation.objects.get().used_by.username.startswith("racer")


# --- the landing page and allauth's sign-up ----------------------------------------------------


def test_anonymous_invitee_signs_up_and_lands_in_the_branch(client, tree, invite):
    invitation, raw = invite(email="zhuoma@example.com", real_name="卓玛")
    page = client.get(accept_url(raw))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="zhuoma@example.com"' in html and 'value="卓玛"' in html
    assert tree.branch.name in html
    assert client.session[INVITATION_SESSION_KEY] == raw

    response = client.post(accept_url(raw), signup_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("home")
    user = User.objects.get(username="zhuoma")
    assert user.check_password(PASSWORD)
    member = Member.objects.get(user=user)
    assert (member.branch, member.real_name, member.phone) == (tree.branch, "卓玛", "13800000001")
    invitation.refresh_from_db()
    assert (invitation.used_by, invitation.member) == (user, member)
    assert INVITATION_SESSION_KEY not in client.session

    home = client.get(reverse("home"))
    assert home.wsgi_request.user == user
    assert f"you are registered with {tree.branch.name}" in home.content.decode()

    # The same link again, even from the same browser: refused, nothing made.
    client.logout()
    again = client.get(accept_url(raw))
    assert again.status_code == 410
    assert "used already" in again.content.decode()
    assert client.post(accept_url(raw), signup_data(username="again")).status_code == 410
    assert not User.objects.filter(username="again").exists()


def test_signup_through_allauths_own_page_with_the_token_in_the_session(client, tree, invite):
    _, raw = invite(real_name="次仁")
    client.get(accept_url(raw))
    response = client.post(reverse("account_signup"), signup_data(username="ciren"))
    assert response.status_code == 302
    member = Member.objects.get(user__username="ciren")
    assert (member.branch, member.real_name) == (tree.branch, "次仁")


def test_signup_stays_closed_without_a_valid_token(client, tree, invite, settings):
    page = client.get(reverse("account_signup"))
    assert "account/signup_closed.html" in [t.name for t in page.templates]
    client.post(reverse("account_signup"), signup_data())
    assert not User.objects.filter(username="zhuoma").exists()
    # An expired token in the session opens nothing either.
    _, raw = invite(now=timezone.now() - timedelta(days=30))
    session = client.session
    session[INVITATION_SESSION_KEY] = raw
    session.save()
    page = client.get(reverse("account_signup"))
    assert "account/signup_closed.html" in [t.name for t in page.templates]
    client.post(reverse("account_signup"), signup_data())
    assert not User.objects.filter(username="zhuoma").exists()


def test_expired_withdrawn_and_unknown_links_say_why(client, tree, invite):
    _, expired = invite(now=timezone.now() - timedelta(days=20))
    page = client.get(accept_url(expired))
    assert page.status_code == 410 and "expired on" in page.content.decode()
    withdrawn, raw = invite()
    services.invitation_revoke(invitation=withdrawn, by=tree.secretary)
    page = client.get(accept_url(raw))
    assert page.status_code == 410 and "withdrawn" in page.content.decode()
    page = client.get(accept_url("x" * 43))
    assert page.status_code == 404 and "not valid" in page.content.decode()
    assert INVITATION_SESSION_KEY not in client.session


def test_a_link_used_meanwhile_refuses_the_signup_and_keeps_nothing(client, tree, invite):
    _, raw = invite(real_name="慢一步")
    client.get(accept_url(raw))  # the form is open in the browser
    services.invitation_accept(raw_token=raw, user=factories.UserFactory(username="faster"))
    response = client.post(reverse("account_signup"), signup_data(username="slower"))
    assert not User.objects.filter(username="slower").exists()
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    page = client.post(accept_url(raw), signup_data(username="slower"))
    assert page.status_code == 410
    assert not User.objects.filter(username="slower").exists()


def test_refused_in_the_signup_transaction_rolls_the_account_back(
    client, tree, invite, monkeypatch
):
    """The invitation is refused inside the transaction that saves the account (used by
    someone else a moment before): the new account is rolled back and the invitee told why."""
    _, raw = invite(real_name="慢一步")
    client.get(accept_url(raw))

    def beaten(**kw):
        raise InvitationRefused("This invitation was used already.", code="used")

    monkeypatch.setattr("members.services.invitation_accept", beaten)
    response = client.post(accept_url(raw), signup_data(username="slower"))
    assert response.status_code == 302 and response["Location"] == accept_url(raw)
    assert not User.objects.filter(username="slower").exists()
    assert not Member.objects.filter(real_name="慢一步").exists()
    page = client.get(response["Location"])
    assert "This invitation was used already." in page.content.decode()


def test_logged_in_person_without_a_record_confirms(client, tree, invite, newcomer):
    _, raw = invite(real_name="新来的")
    client.force_login(newcomer)
    page = client.get(accept_url(raw))
    assert page.status_code == 200 and "Join the branch" in page.content.decode()
    assert client.post(accept_url(raw), {"real_name": ""}).status_code == 400
    response = client.post(accept_url(raw), {"real_name": "新来的", "phone": ""})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert Member.objects.get(user=newcomer).branch == tree.branch
    assert client.get(accept_url(raw)).status_code == 410


def test_logged_in_member_is_refused_and_the_invitation_kept(client, tree, invite):
    _, raw = invite()
    client.force_login(tree.member.user)
    page = client.get(accept_url(raw))
    assert page.status_code == 409
    assert "ask for a transfer" in page.content.decode()
    assert reverse("members:me") in page.content.decode()
    assert client.post(accept_url(raw), {"real_name": "重复"}).status_code == 409
    assert services.invitation_pending(raw) is not None
    assert Member.objects.get(user=tree.member.user).branch == tree.branch


# --- the secretaries' page ----------------------------------------------------------------------


def test_secretary_invites_by_link_sees_it_once_and_withdraws(client, tree, committed):
    client.force_login(tree.secretary)
    index = client.get(reverse("members:invitations"))
    assert index.status_code == 302
    page_url = reverse("members:invitations_branch", args=[tree.branch.pk])
    assert index["Location"] == page_url
    with committed():
        response = client.post(
            reverse("members:invitation_new", args=[tree.branch.pk]), {"real_name": "多吉"}
        )
    assert response.status_code == 302 and response["Location"] == page_url
    assert mail.outbox == []
    page = client.get(page_url).content.decode()
    link = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', page, re.S)
    assert link, page
    raw = link.group(1).rsplit("/", 2)[-2]
    assert link.group(1).startswith("http://testserver/members/invite/")
    assert services.invitation_pending(raw).real_name == "多吉"
    assert raw not in client.get(page_url).content.decode()  # shown once

    invitation = Invitation.objects.get()
    client.post(reverse("members:invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_by == tree.secretary
    assert "withdrawn on" in client.get(page_url).content.decode()


def test_secretary_invites_by_email(client, tree, committed):
    client.force_login(tree.secretary)
    with committed():
        client.post(
            reverse("members:invitation_new", args=[tree.branch.pk]),
            {"email": "dorje@example.com", "status": "probationary", "category": "remote"},
        )
    (sent,) = mail.outbox
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.status, invitation.category) == (
        "dorje@example.com",
        "probationary",
        "remote",
    )
    raw = re.search(r"/members/invite/([\w-]+)/", sent.body).group(1)
    assert services.invitation_pending(raw) == invitation
    page = client.get(reverse("members:invitations_branch", args=[tree.branch.pk]))
    assert raw in page.content.decode()  # once, for a copy
    bad = client.post(
        reverse("members:invitation_new", args=[tree.branch.pk]), {"email": "not-an-address"}
    )
    assert bad.status_code == 400 and Invitation.objects.count() == 1


def test_another_branchs_secretary_gets_404(client, tree, invite):
    invitation, _ = invite()
    client.force_login(tree.secretary2)
    assert (
        client.get(reverse("members:invitations_branch", args=[tree.branch.pk])).status_code == 404
    )
    new = client.post(reverse("members:invitation_new", args=[tree.branch.pk]), {})
    assert new.status_code == 404
    revoke = client.post(reverse("members:invitation_revoke", args=[invitation.pk]))
    assert revoke.status_code == 404
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().revoked_at is None
    assert client.get(reverse("members:invitation_revoke", args=[invitation.pk])).status_code == 405
    # Their own branch works; a plain member has no page.
    assert (
        client.get(reverse("members:invitations_branch", args=[tree.sibling.pk])).status_code == 200
    )
    client.force_login(tree.member.user)
    assert client.get(reverse("members:invitations")).status_code == 403
    assert (
        client.get(reverse("members:invitations_branch", args=[tree.branch.pk])).status_code == 404
    )


def test_the_home_worklist_links_the_invitations(client, tree):
    client.force_login(tree.secretary)
    assert reverse("members:invitations") in client.get(reverse("home")).content.decode()


def test_reviewer_index_lists_branches_with_pending_counts(client, tree, invite):
    invite()
    invite(branch=tree.sibling, by=tree.secretary2)
    client.force_login(tree.reviewer)
    page = client.get(reverse("members:invitations"))
    assert page.status_code == 200
    rows = {b.name: b.pending for b in page.context["page_obj"].object_list}
    assert rows == {tree.branch.name: 1, tree.sibling.name: 1, tree.joint.name: 0}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_cost_the_same_for_few_and_many(client, tree, invite):
    url = reverse("members:invitations_branch", args=[tree.branch.pk])
    client.force_login(tree.secretary)
    client.get(url)

    def add(n, start):
        for i in range(n):
            invitation, raw = invite(email=f"p{start + i}@example.com")
            if i % 3 == 1:
                services.invitation_accept(
                    raw_token=raw,
                    user=factories.UserFactory(username=f"u{start + i}"),
                    real_name="某",
                )
            elif i % 3 == 2:
                services.invitation_revoke(invitation=invitation, by=tree.secretary)

    add(3, 0)
    small = _queries(client, url)
    add(40, 100)
    large = _queries(client, url)
    print(f"invitations page: {small} queries with 3 invitations, {large} with 43")
    assert small == large <= 10

    client.force_login(tree.reviewer)
    index = reverse("members:invitations")
    small = _queries(client, index)
    for i in range(25):
        factories.OrganizationFactory(parent=tree.company, name=f"新支部{i}", kind="branch")
    large = _queries(client, index)
    print(f"invitations index: {small} queries with 3 branches, {large} with 28")
    assert small == large <= 10


# --- the admin ------------------------------------------------------------------------------------


def test_admin_is_scoped_read_only_and_withdraws(client, tree, invite):
    mine, _ = invite()
    theirs, _ = invite(branch=tree.sibling, by=tree.secretary2)
    url = reverse("admin:members_invitation_changelist")
    client.force_login(tree.secretary)
    page = client.get(url)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [mine]
    assert (
        client.get(reverse("admin:members_invitation_change", args=[theirs.pk])).status_code == 404
    )
    detail = client.get(reverse("admin:members_invitation_change", args=[mine.pk]))
    assert detail.status_code == 200 and mine.token_hash not in detail.content.decode()
    assert client.get(reverse("admin:members_invitation_add")).status_code == 403
    client.post(url, {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_by == tree.secretary and theirs.revoked_at is None
    assert list(client.get(url, {"state": "revoked"}).context["cl"].result_list) == [mine]
    assert list(client.get(url, {"state": "pending"}).context["cl"].result_list) == []


def test_admin_list_costs_the_same_for_few_and_many(client, tree, invite):
    url = reverse("admin:members_invitation_changelist")
    client.force_login(tree.secretary)
    for _ in range(2):
        invite()
    small = _queries(client, url)
    for i in range(30):
        _, raw = invite(email=f"a{i}@example.com")
        if i % 2:
            services.invitation_accept(
                raw_token=raw, user=factories.UserFactory(username=f"v{i}"), real_name="某"
            )
    large = _queries(client, url)
    print(f"invitations admin: {small} queries with 2 invitations, {large} with 32")
    assert small == large
