"""The register: the scoped member changelist (filters, fixed query count), the Excel export
(cells neutralised) and the Excel import (all rows or none, every bad row reported)."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from members import services
from members.models import Member
from tests import factories

User = get_user_model()
HEADERS = list(services.IMPORT_COLUMNS)


def _sheet(rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    data = io.BytesIO()
    wb.save(data)
    data.seek(0)
    data.name = "members.xlsx"
    return data


def _row(tree, n, **kw):
    row = {
        "username": f"new{n}",
        "email": f"new{n}@example.com",
        "real_name": f"新党员{n}",
        "branch": tree.branch.name,
        "project_site": tree.site.name,
        "status": "正式党员" if n % 2 else "probationary",
        "category": "front_line",
        "phone": "13800000000",
        "position": "施工员",
        "joined_party_on": "2015-07-01",
    }
    row.update(kw)
    return [row[c] for c in HEADERS]


def _import(client, rows):
    return client.post(reverse("admin:members_member_import"), {"sheet": _sheet(rows)})


def test_import_creates_every_row(client, tree):
    client.force_login(tree.secretary)
    response = _import(client, [_row(tree, i) for i in range(3)])
    assert response.status_code == 302
    created = Member.objects.filter(user__username__startswith="new")
    assert created.count() == 3
    first = created.get(user__username="new1")
    assert (first.branch, first.project_site, first.status) == (tree.branch, tree.site, "full")
    assert str(first.joined_party_on) == "2015-07-01"
    assert created.get(user__username="new0").status == "probationary"


def test_import_with_bad_rows_imports_nothing_and_reports_each(client, tree, english):
    client.force_login(tree.secretary)
    rows = [
        _row(tree, 1),
        _row(tree, 2, branch=tree.sibling.name),  # row 3: another branch's
        _row(tree, 3, category="astronaut"),  # row 4
        _row(tree, 4),
        _row(tree, 1, email="dup@example.com"),  # row 6: the user name of row 2 again
        _row(tree, 5, joined_party_on="yesterday"),  # row 7
        _row(tree, 6, email="not-an-address"),  # row 8
        _row(tree, 7, project_site=tree.sibling_site.name),  # row 9
    ]
    before = (User.objects.count(), Member.objects.count())
    response = _import(client, rows)
    assert response.status_code == 400
    assert (User.objects.count(), Member.objects.count()) == before
    reported = [r.row for r in response.context["rejected"]]
    assert reported == [3, 4, 6, 7, 8, 9]
    page = response.content.decode()
    assert "Nothing was imported: 6 rows are wrong." in page
    assert "is not one you manage" in page and "astronaut" in page


def test_import_refuses_a_file_that_is_not_excel(client, tree):
    client.force_login(tree.secretary)
    bogus = io.BytesIO(b"real_name,branch\n")
    bogus.name = "members.xlsx"
    response = client.post(reverse("admin:members_member_import"), {"sheet": bogus})
    assert response.status_code == 400
    assert not Member.objects.filter(user__username__startswith="new").exists()


def test_import_goes_through_cores_document_checks(client, tree, english):
    """A workbook whose sheet unpacks to far more than it weighs (a zip bomb) is refused by
    core's upload checks before openpyxl opens it."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 4_000_000)
    data.seek(0)
    data.name = "members.xlsx"
    client.force_login(tree.secretary)
    response = client.post(reverse("admin:members_member_import"), {"sheet": data})
    assert response.status_code == 400
    assert "zip bomb" in response.content.decode()


def test_import_of_an_empty_sheet_is_rejected(client, tree):
    client.force_login(tree.secretary)
    assert _import(client, []).status_code == 400


def test_a_plain_member_may_not_import(client, tree):
    client.force_login(tree.member.user)
    assert _import(client, [_row(tree, 1)]).status_code == 403
    assert not User.objects.filter(username="new1").exists()


def test_blank_sheet_lists_the_columns(client, tree):
    client.force_login(tree.secretary)
    response = client.get(reverse("admin:members_member_import_blank"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[1]] == HEADERS


def test_export_neutralises_formulas(client, tree):
    Member.objects.filter(pk=tree.member.pk).update(real_name="=HYPERLINK(1)", phone="+86 1")
    client.force_login(tree.secretary)
    response = client.post(
        reverse("admin:members_member_changelist"),
        {"action": "export_xlsx", "_selected_action": [tree.member.pk]},
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    row = [c.value for c in sheet[2]]
    assert row[0] == "'=HYPERLINK(1)" and "'+86 1" in row


def _many(tree, n):
    for _ in range(n):
        factories.MemberFactory(branch=tree.branch, project_site=tree.site)


def _bulk(tree, n):
    users = User.objects.bulk_create(User(username=f"bulk{i}") for i in range(n))
    Member.objects.bulk_create(
        Member(user=u, real_name=f"批量{i}", branch=tree.branch, project_site=tree.site)
        for i, u in enumerate(users)
    )


def _changelist_queries(client, query=""):
    url = reverse("admin:members_member_changelist") + query
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", ["", "?contact_status__exact=lost&category__exact=office"])
def test_register_query_count_is_fixed(client, tree, query):
    client.force_login(tree.secretary)
    _many(tree, 10)
    small = _changelist_queries(client, query)
    assert small == 10  # session, user, scope, counts, the page of rows with its joins, ...
    _bulk(tree, 10_000)
    assert _changelist_queries(client, query) == small


def test_register_shows_only_the_secretarys_members(client, tree):
    client.force_login(tree.secretary2)
    page = client.get(reverse("admin:members_member_changelist")).content.decode()
    assert tree.sibling_member.real_name in page
    assert tree.member.real_name not in page
