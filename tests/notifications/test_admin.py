"""The Notice admin, the secretaries' main tool: scoped (changelist, raw ids, choices,
autocomplete, actions), saving and publishing through the services, read statistics; and the
Event admin, for IT only."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications import services
from notifications.models import Event, Notice, NoticeReminder, Notification

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notice_changelist")
ADD = reverse("admin:notifications_notice_add")
ORGS = ["group", "company", "branch", "party_group", "sibling", "joint", "outside"]


def change_url(notice):
    return reverse("admin:notifications_notice_change", args=[notice.pk])


def form_data(organization, **overrides):
    data = {
        "organization": organization.pk,
        "kind": Notice.Kind.NOTICE,
        "title": "关于召开支部党员大会的通知",
        "summary": "",
        "body": "<p>请全体党员准时参加。</p>",
        "for_office": "on",
        "for_front_line": "on",
        "for_remote": "on",
        "expires_at_0": "",
        "expires_at_1": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def notice_per_org(tree, make_notice):
    return {org: make_notice(org=getattr(tree, org), title=f"{org}的通知") for org in ORGS}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("secretary", {"branch", "party_group"}),
        ("secretary2", {"sibling"}),
        ("reviewer", {"group", "company", "branch", "party_group", "sibling", "joint"}),
        ("admin", set(ORGS)),
    ],
)
def test_changelist_and_raw_ids_are_scoped(client, tree, notice_per_org, who, sees):
    client.force_login(getattr(tree, who))
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert {n.title for n in response.context["cl"].result_list} == {f"{o}的通知" for o in sees}
    for org, notice in notice_per_org.items():
        expected = 200 if org in sees else 404
        assert client.get(change_url(notice)).status_code == expected, (who, org)
        delete = reverse("admin:notifications_notice_delete", args=[notice.pk])
        assert client.get(delete).status_code == expected, (who, org)


def test_a_post_to_another_branchs_notice_changes_nothing(client, tree, notice_per_org):
    sibling_notice = notice_per_org["sibling"]
    client.force_login(tree.secretary)
    response = client.post(change_url(sibling_notice), form_data(tree.branch, title="改过了"))
    assert response.status_code == 404
    response = client.post(change_url(sibling_notice), form_data(tree.branch, _publish="1"))
    assert response.status_code == 404
    sibling_notice.refresh_from_db()
    assert (sibling_notice.title, sibling_notice.organization, sibling_notice.status) == (
        "sibling的通知",
        tree.sibling,
        Notice.Status.DRAFT,
    )


def test_members_without_a_role_cannot_open_the_notice_admin(client, tree, notice_per_org):
    client.force_login(tree.member.user)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(notice_per_org["branch"])).status_code == 403


def test_add_form_refuses_another_branchs_organisation(client, tree):
    client.force_login(tree.secretary)
    for org in (tree.sibling, tree.company, tree.outside):
        response = client.post(ADD, form_data(org))
        assert response.status_code == 200, org
        assert "organization" in response.context["adminform"].form.errors, org
    assert not Notice.objects.exists()


def test_organisation_autocomplete_is_scoped(client, tree):
    client.force_login(tree.secretary)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "notifications", "model_name": "notice", "field_name": "organization"},
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert ids == {tree.branch.pk, tree.party_group.pk}


def test_add_saves_a_draft_through_the_service(client, tree):
    client.force_login(tree.secretary)
    response = client.post(
        ADD, form_data(tree.branch, for_remote="", body="<p>好</p><script>x()</script>")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    notice = Notice.objects.get()
    assert notice.status == Notice.Status.DRAFT
    assert notice.author == tree.secretary
    assert (notice.for_office, notice.for_front_line, notice.for_remote) == (True, True, False)
    assert "<script" not in notice.body
    assert not Event.objects.exists()


def test_attachments_are_checked_and_kept(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(tree.secretary)
    inline = {"attachments-TOTAL_FORMS": "1", "attachments-0-title": "会议议程"}
    fake = SimpleUploadedFile("议程.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(ADD, form_data(tree.branch, **inline, **{"attachments-0-file": fake}))
    assert response.status_code == 200
    assert not Notice.objects.exists()

    pdf = SimpleUploadedFile(
        "议程.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n", content_type="application/pdf"
    )
    response = client.post(ADD, form_data(tree.branch, **inline, **{"attachments-0-file": pdf}))
    assert response.status_code == 302
    notice = Notice.objects.get()
    [attachment] = notice.attachments.all()
    assert attachment.title == "会议议程"
    with attachment.file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-")


def test_add_without_any_category_is_a_form_error(client, tree):
    client.force_login(tree.secretary)
    response = client.post(
        ADD, form_data(tree.branch, for_office="", for_front_line="", for_remote="")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Notice.objects.exists()


def test_save_and_publish_on_the_add_page(client, tree, committed):
    client.force_login(tree.secretary)
    assert 'name="_publish"' in client.get(ADD).content.decode()
    with committed():
        response = client.post(ADD, form_data(tree.branch, title="立即发布的通知", _publish="1"))
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.is_published and notice.published_at
    event = Event.objects.get()
    assert (event.kind, event.target_id, event.actor) == (
        "notice_published",
        notice.pk,
        tree.secretary,
    )
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "member",
        "office",
        "secretary",
    }


def test_save_and_publish_on_the_change_page(client, tree, make_notice, committed):
    draft = make_notice(org=tree.branch, by=tree.secretary, title="草稿")
    client.force_login(tree.secretary)
    assert 'name="_publish"' in client.get(change_url(draft)).content.decode()
    with committed():
        response = client.post(
            change_url(draft), form_data(tree.branch, title="定稿", _publish="1")
        )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("定稿", Notice.Status.PUBLISHED)
    assert Event.objects.get().subject == "定稿"
    assert Notification.objects.count() == 3

    # Published: no publish button, and pressing it again (a stale page) tells no one twice.
    assert 'name="_publish"' not in client.get(change_url(draft)).content.decode()
    with committed():
        client.post(change_url(draft), form_data(tree.branch, title="定稿", _publish="1"))
    assert Event.objects.count() == 1


def test_a_plain_save_does_not_publish(client, tree, make_notice):
    draft = make_notice(org=tree.branch, by=tree.secretary)
    client.force_login(tree.secretary)
    response = client.post(change_url(draft), form_data(tree.branch, title="只保存"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("只保存", Notice.Status.DRAFT)
    assert not Event.objects.exists()


def test_publish_action_within_scope_and_on_crafted_ids(client, tree, notice_per_org, committed):
    client.force_login(tree.secretary)
    own, foreign = notice_per_org["branch"], notice_per_org["sibling"]
    with committed():
        response = client.post(
            CHANGELIST,
            {"action": "publish", "_selected_action": [foreign.pk, notice_per_org["outside"].pk]},
        )
    assert response.status_code == 302
    assert not Notice.objects.filter(status=Notice.Status.PUBLISHED).exists()
    assert not Event.objects.exists()

    with committed():
        client.post(CHANGELIST, {"action": "publish", "_selected_action": [own.pk, foreign.pk]})
    assert set(Notice.objects.filter(status=Notice.Status.PUBLISHED)) == {own}
    assert Event.objects.get().target_id == own.pk

    with committed():  # again: already published, nobody told twice
        response = client.post(CHANGELIST, {"action": "publish", "_selected_action": [own.pk]})
    assert Event.objects.count() == 1
    assert messages_of(response)


def test_remind_action_once_a_day(client, tree, make_notice, committed):
    notice = make_notice(org=tree.branch, by=tree.secretary, publish=True)
    draft = make_notice(org=tree.branch, by=tree.secretary, title="还是草稿")
    services.notice_mark_read(notice=notice, user=tree.member.user)
    client.force_login(tree.secretary)
    client.cookies["django_language"] = "en"
    with committed():
        response = client.post(
            CHANGELIST, {"action": "remind_unread", "_selected_action": [notice.pk]}
        )
    assert response.status_code == 302
    assert any("2 members reminded" in m for m in messages_of(response))
    reminder = Event.objects.get(kind="notice_reminder")
    assert set(
        Notification.objects.filter(event=reminder).values_list("recipient__username", flat=True)
    ) == {"office", "secretary"}

    with committed():
        response = client.post(
            CHANGELIST, {"action": "remind_unread", "_selected_action": [notice.pk, draft.pk]}
        )
    assert Event.objects.filter(kind="notice_reminder").count() == 1
    assert NoticeReminder.objects.count() == 1
    text = " ".join(messages_of(response))
    assert "today's reminder has already gone out" in text
    assert "Publish the notice before reminding anyone" in text


def test_remind_action_on_a_crafted_id_does_nothing(client, tree, make_notice, committed):
    foreign = make_notice(org=tree.sibling, by=tree.secretary2, publish=True)
    client.force_login(tree.secretary)
    with committed():
        client.post(CHANGELIST, {"action": "remind_unread", "_selected_action": [foreign.pk]})
    assert not NoticeReminder.objects.exists()
    assert not Event.objects.filter(kind="notice_reminder").exists()


def test_published_change_page_shows_who_has_read_it(client, tree, make_notice):
    notice = make_notice(org=tree.branch, by=tree.secretary, publish=True)
    services.notice_mark_read(notice=notice, user=tree.member.user)
    client.force_login(tree.secretary)
    client.cookies["django_language"] = "en"
    page = client.get(change_url(notice)).content.decode()
    assert "1 read, 2 not yet." in page
    unread_part = page.split("<strong>Not read yet:</strong>", 1)[1].split("</p>", 1)[0]
    read_part = page.split("<strong>Read:</strong>", 1)[1].split("</p>", 1)[0]
    assert tree.member.real_name in read_part
    assert tree.office.real_name in unread_part
    assert tree.secretary.member.real_name in unread_part
    assert tree.member.real_name not in unread_part

    draft = make_notice(org=tree.branch, by=tree.secretary)
    assert "not yet." not in client.get(change_url(draft)).content.decode()


def test_a_published_notice_is_not_deleted_by_a_secretary(client, tree, make_notice):
    published = make_notice(org=tree.branch, by=tree.secretary, publish=True)
    draft = make_notice(org=tree.branch, by=tree.secretary)
    client.force_login(tree.secretary)
    delete = "admin:notifications_notice_delete"
    assert client.post(reverse(delete, args=[published.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse(delete, args=[draft.pk]), {"post": "yes"}).status_code == 302
    assert list(Notice.objects.all()) == [published]


@pytest.mark.parametrize("who", ["secretary", "reviewer", "admin"])
def test_event_admin_is_for_superusers_only(client, tree, make_notice, who):
    make_notice(publish=True)
    event = Event.objects.get()
    client.force_login(getattr(tree, who))
    changelist = client.get(reverse("admin:notifications_event_changelist"))
    detail = client.get(reverse("admin:notifications_event_change", args=[event.pk]))
    index = client.get(reverse("admin:index")).content.decode()
    if who == "admin":
        assert changelist.status_code == 200
        assert detail.status_code == 200
        assert reverse("admin:notifications_event_changelist") in index
        assert client.get(reverse("admin:notifications_event_add")).status_code == 403
    else:
        assert changelist.status_code == 403
        assert detail.status_code == 403
        assert reverse("admin:notifications_event_changelist") not in index
        assert reverse("admin:notifications_notice_changelist") in index
