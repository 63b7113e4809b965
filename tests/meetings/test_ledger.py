"""The ledger (台账): held meetings of an organisation over a period with their counts and
confirmed minutes, limited to the managers' scope; printable; exported to Excel with cells that
cannot run as formulas; a fixed number of queries for 2 or 30 meetings."""

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings import selectors, services
from meetings.models import Attendance, Meeting
from meetings.selectors import minutes as minutes_selectors
from meetings.services import minutes as minutes_services
from tests import factories

pytestmark = pytest.mark.django_db

LEDGER = reverse("meetings:ledger")
XLSX = reverse("meetings:ledger_xlsx")
FORMULA = "=cmd|' /C calc'!A0"


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def hold(tree, make_meeting):
    """hold(starts_at, org=None, minutes=None, confirm=True, present=(), leave=(), **fields):
    a meeting announced, answered, held and (with minutes) confirmed by the secretary."""

    def make(starts_at, org=None, minutes="<p>纪要</p>", confirm=True, present=(), leave=(), **fields):  # fmt: skip
        org = org or tree.branch
        by = tree.admin
        meeting = make_meeting(org=org, by=by, starts_at=starts_at, publish=True, **fields)
        for user in leave:
            Attendance.objects.create(
                meeting=meeting, user=user, rsvp=Attendance.Rsvp.LEAVE, leave_reason="出差"
            )
        minutes_services.meeting_mark_held(meeting=meeting, by=by)
        for user in present:
            services.attendance_record(meeting=meeting, user=user, by=by, at=starts_at)
        if minutes is not None:
            minutes_services.minutes_save(meeting=meeting, by=by, minutes=minutes)
            if confirm:
                minutes_services.minutes_confirm(meeting=meeting, by=by)
        return Meeting.objects.get(pk=meeting.pk)

    return make


def this_year(month=3, day=10, hour=9) -> datetime:
    today = timezone.localdate()
    start = local(today.year, month, day, hour)
    if start > timezone.now():  # early in January: use last year's date instead
        start = start.replace(year=today.year - 1)
    return start


def query(org=None, start=None, end=None, sub=None) -> dict:
    params = {}
    if org is not None:
        params["org"] = org.pk
    if start:
        params["start"] = start.isoformat()
    if end:
        params["end"] = end.isoformat()
    if sub:
        params["sub"] = "1"
    return params


# --- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "org", "status"),
    [
        ("secretary", "branch", 200),
        ("secretary", "party_group", 200),
        ("secretary", "sibling", 404),
        ("secretary", "company", 404),
        ("secretary2", "branch", 404),
        ("secretary2", "sibling", 200),
        ("reviewer", "branch", 200),
        ("reviewer", "group", 200),
        ("reviewer", "outside", 404),
        ("admin", "outside", 200),
        ("member", "branch", 403),
        ("office", None, 403),
        ("outsider", "outside", 403),
    ],
)
def test_ledger_scope(client, tree, who, org, status):
    user = getattr(tree, who)
    client.force_login(getattr(user, "user", user))
    params = query(getattr(tree, org) if org else None)
    assert client.get(LEDGER, params).status_code == status
    assert client.get(XLSX, params).status_code == status


def test_the_ledger_needs_a_login(client):
    assert client.get(LEDGER).status_code == 302
    assert client.get(XLSX).status_code == 302


def test_another_secretary_sees_nothing_of_the_branch(client, tree, hold):
    hold(this_year(), title="一号支部党员大会", minutes="<p>一号支部的纪要</p>")
    client.force_login(tree.secretary2)
    page = client.get(LEDGER).content.decode()
    assert "一号支部党员大会" not in page and "一号支部的纪要" not in page
    workbook = load_workbook(io.BytesIO(b"".join(client.get(XLSX).streaming_content)))
    assert "一号支部党员大会" not in str([list(r) for r in workbook.active.values])
    # The picker lists only their own organisation.
    names = [o.name for o in client.get(LEDGER).context["organizations"]]
    assert names == [tree.sibling.name]


# --- content --------------------------------------------------------------------------------


def test_the_ledger_lists_held_meetings_of_the_period(client, tree, hold, make_meeting):
    year = timezone.localdate().year
    shown = hold(
        this_year(),
        title="三月党员大会",
        kind=Meeting.Kind.GENERAL_MEETING,
        host=tree.secretary,
        recorder=tree.member.user,
        present=[tree.member.user, tree.secretary],
        leave=[tree.office.user],
        minutes="<h2>决议</h2><p>一致通过</p>",
    )
    unconfirmed = hold(this_year(month=4), title="四月主题党日", minutes="<p>草稿内容</p>", confirm=False)  # fmt: skip
    hold(this_year(month=5), org=tree.party_group, title="小组会", kind=Meeting.Kind.GROUP_MEETING)
    hold(local(year - 1, 12, 31, 23, 30), title="去年的会")  # Shanghai: last year
    hold(this_year(month=3, day=11), org=tree.sibling, title="兄弟支部的会")
    make_meeting(title="计划中的会", starts_at=this_year(month=6))
    services.meeting_record_offline(
        meeting=make_meeting(title="离线的会", starts_at=this_year(month=2)),
        by=tree.secretary,
        present_user_ids=[tree.member.user.pk],
    )
    client.force_login(tree.secretary)
    response = client.get(LEDGER)
    assert response.status_code == 200
    page = response.content.decode()
    titles = [m.title for m in response.context["meetings"]]
    # The branch first (tree order, by time), then its party group.
    assert titles == ["离线的会", "三月党员大会", "四月主题党日", "小组会"]
    row = response.context["meetings"][1]
    assert (row.expected, row.present, row.on_leave, row.absent) == (3, 2, 1, 0)
    assert row.pk == shown.pk
    assert "<h2>决议</h2>" in page and "一致通过" in page
    assert "草稿内容" not in page and "Minutes not confirmed yet." in page
    assert unconfirmed.title in page
    offline = response.context["meetings"][0]
    assert offline.held_offline and "entered on" in page
    # Without the subtree; and a period of last year only.
    response = client.get(LEDGER, query(tree.branch, date(year, 1, 1), date(year, 12, 31)))
    assert "小组会" not in [m.title for m in response.context["meetings"]]
    response = client.get(LEDGER, query(tree.branch, date(year - 1, 12, 31), date(year - 1, 12, 31)))  # fmt: skip
    assert [m.title for m in response.context["meetings"]] == ["去年的会"]


def test_expected_counts_follow_the_attendee_rules(tree, hold):
    general = hold(this_year(), kind=Meeting.Kind.GENERAL_MEETING)
    committee = hold(this_year(), kind=Meeting.Kind.COMMITTEE_MEETING)
    group = hold(this_year(), org=tree.company, kind=Meeting.Kind.GENERAL_MEETING)
    factories.UserFactory(username="inactive")  # not a member: changes nothing
    rows = {
        m.pk: m
        for m in minutes_selectors.ledger_meetings(
            organization=tree.group, start=date(2000, 1, 1), end=date(2100, 1, 1)
        )
    }
    for meeting in (general, committee, group):
        assert rows[meeting.pk].expected == selectors.expected_attendees(meeting).count()
    assert rows[committee.pk].expected == 1  # the secretary
    assert rows[group.pk].expected == 6  # the company's members, the joint participant too


def test_bad_dates_fall_back_to_this_year(client, tree, hold):
    hold(this_year(), title="今年的会")
    client.force_login(tree.secretary)
    response = client.get(LEDGER, {"start": "not-a-date", "end": "2020-13-45"})
    assert response.status_code == 200
    assert response.context["start"] == date(timezone.localdate().year, 1, 1)
    # A reversed period is read the right way round.
    year = timezone.localdate().year
    response = client.get(LEDGER, query(tree.branch, date(year, 12, 31), date(year, 1, 1)))
    assert response.context["start"] < response.context["end"]


def test_the_ledger_prints(client, tree, hold, settings):
    hold(this_year())
    client.force_login(tree.secretary)
    page = client.get(LEDGER).content.decode()
    assert 'class="ledger"' in page and "ledger-filter" in page
    css = (Path(settings.BASE_DIR) / "static/css/netbranch.css").read_text(encoding="utf-8")
    section = css.split("/* meetings: minutes and ledger */", 1)[1].split("/* meetings:", 1)[0]
    assert "@media print" in section and ".ledger-filter" in section


# --- Excel ----------------------------------------------------------------------------------


def workbook_rows(response) -> list[list]:
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_the_export_neutralises_formulas(client, tree, hold):
    hold(
        this_year(),
        title=FORMULA,
        place="+1 会议室",
        minutes=f"<p>{FORMULA}</p><p>@SUM(A1)</p>",
        present=[tree.member.user],
    )
    hold(this_year(month=4), title="未确认", minutes=f"<p>{FORMULA}</p>", confirm=False)
    client.force_login(tree.secretary)
    response = client.get(XLSX)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    header, first, second = workbook_rows(response)
    assert header[2] == "title" and header[17] == "minutes"
    assert first[2] == "'" + FORMULA
    assert first[5] == "'+1 会议室"
    assert first[17] == "'" + FORMULA + "\n@SUM(A1)"  # plain text, one line per paragraph
    assert (first[9], first[10], first[11]) == (3, 1, 0)
    assert isinstance(first[3], datetime)
    assert second[2] == "未确认" and second[17] == "(not confirmed yet)"
    # Not one cell is a formula.
    workbook = load_workbook(io.BytesIO(b"".join(client.get(XLSX).streaming_content)))
    assert all(c.data_type != "f" for row in workbook.active.iter_rows() for c in row)


def test_minutes_text_is_plain():
    html = "<h2>一、决议</h2><p>通过&amp;执行</p><ul><li>甲</li><li>乙</li></ul><p>&nbsp;</p>"
    assert minutes_selectors.minutes_text(html) == "一、决议\n通过&执行\n甲\n乙"
    assert minutes_selectors.minutes_text("") == ""
    assert len(minutes_selectors.minutes_text("<p>" + "字" * 40_000 + "</p>")) == 32_000


# --- query counts ---------------------------------------------------------------------------


@pytest.fixture
def many(tree, hold):
    """hold n meetings with attendance and an attachment each."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.core.media_helpers import MINIMAL_PDF

    def make(n):
        base = this_year(month=1, day=2)
        for i in range(n):
            committee = i % 2
            meeting = hold(
                base + timedelta(hours=i),
                kind=Meeting.Kind.COMMITTEE_MEETING if committee else Meeting.Kind.GENERAL_MEETING,
                host=tree.secretary,
                recorder=tree.member.user,
                present=[tree.secretary] if committee else [tree.member.user, tree.office.user],
                leave=[] if committee else [tree.secretary],
                minutes=None,
            )
            minutes_services.minutes_save(meeting=meeting, by=tree.admin, minutes=f"<p>{i}</p>")
            minutes_services.minutes_attachment_add(
                meeting=meeting, by=tree.admin, file=SimpleUploadedFile(f"{i}.pdf", MINIMAL_PDF)
            )
            minutes_services.minutes_confirm(meeting=meeting, by=tree.admin)

    return make


def count_queries(client, url, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(queries), response


def test_ledger_queries_do_not_grow_with_meetings(client, tree, many):
    client.force_login(tree.secretary)
    many(2)
    small_page, response = count_queries(client, LEDGER)
    assert len(response.context["meetings"]) == 2
    small_xlsx, _ = count_queries(client, XLSX)
    many(28)
    big_page, response = count_queries(client, LEDGER)
    assert len(response.context["meetings"]) == 30
    big_xlsx, response = count_queries(client, XLSX)
    assert len(workbook_rows(client.get(XLSX))) == 31
    print(f"ledger page: {small_page} / {big_page} queries; xlsx: {small_xlsx} / {big_xlsx}")
    assert small_page == big_page
    assert small_xlsx == big_xlsx
    assert big_page <= 8


def test_a_confirmed_record_keeps_who_was_expected_when_members_move(tree, hold):
    confirmed = hold(this_year(), kind=Meeting.Kind.GENERAL_MEETING)
    still_open = hold(this_year(), kind=Meeting.Kind.GENERAL_MEETING, confirm=False)
    before = selectors.expected_attendees(confirmed).count()
    assert confirmed.expected_count == before and still_open.expected_count is None
    factories.MemberFactory(branch=tree.branch)  # joins the branch afterwards

    rows = {
        m.pk: m.expected
        for m in minutes_selectors.ledger_meetings(
            organization=tree.branch, start=date(2000, 1, 1), end=date(2100, 1, 1)
        )
    }
    assert rows[confirmed.pk] == before
    assert rows[still_open.pk] == before + 1
