"""Security review of the project-site pages: a manager who posts the raw id of a member they
do not look after (another branch's, another group's) is refused without learning that
member's name, on the re-homing page and on the attachment page alike."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from members.models import Member, Participation, Transfer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def closed(tree):
    today = timezone.localdate()
    site = factories.ProjectSiteFactory(
        organization=tree.branch,
        name="已关闭项目部",
        opened_on=today - timedelta(days=400),
        closed_on=today - timedelta(days=5),
    )
    Member.objects.filter(pk=tree.member.pk).update(project_site=site)
    return site


def _name_them(tree):
    """Distinctive names, so that a leak is unambiguous."""
    for attr, name in (("outsider", "外组张秘密"), ("sibling_member", "邻支部李秘密")):
        Member.objects.filter(pk=getattr(tree, attr).pk).update(real_name=name)


@pytest.mark.parametrize("stranger", ["outsider", "sibling_member"])
def test_rehome_does_not_name_a_member_out_of_reach(client, tree, closed, stranger):
    _name_them(tree)
    intruder = Member.objects.get(pk=getattr(tree, stranger).pk)
    client.force_login(tree.secretary)
    response = client.post(
        reverse("members:site_rehome", args=[closed.pk]),
        {"members": [tree.member.pk, intruder.pk], "action": "transfer", "target": tree.sibling.pk},
    )
    assert response.status_code == 400
    assert intruder.real_name not in response.content.decode()
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("stranger", ["outsider", "sibling_member"])
def test_attach_does_not_name_a_member_out_of_reach(client, tree, stranger):
    _name_them(tree)
    intruder = Member.objects.get(pk=getattr(tree, stranger).pk)
    client.force_login(tree.secretary)
    response = client.post(
        reverse("members:site_attach", args=[tree.site.pk]),
        {"members": [tree.office.pk, intruder.pk], "branch": tree.joint.pk},
    )
    assert response.status_code == 400
    assert intruder.real_name not in response.content.decode()
    assert not Participation.objects.filter(member=tree.office).exists()


def test_attach_does_not_name_an_archived_member_out_of_reach(client, tree):
    _name_them(tree)
    Member.objects.filter(pk=tree.outsider.pk).update(archived_at=timezone.now())
    client.force_login(tree.secretary)
    response = client.post(
        reverse("members:site_attach", args=[tree.site.pk]),
        {"members": [tree.office.pk, tree.outsider.pk], "branch": tree.joint.pk},
    )
    assert response.status_code == 400
    assert "外组张秘密" not in response.content.decode()
