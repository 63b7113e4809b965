"""A secret ballot reveals nothing: not through the database schema, the pages, the admin
or the exports. Who voted is stored apart from what was voted, with nothing linking them."""

import io

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from decisions import services
from decisions.models import Ballot, Motion, VoterRecord
from tests.decisions.conftest import close_at_end

pytestmark = pytest.mark.django_db

TIME_TYPES = ("date", "time", "timestamp", "datetime")


def columns(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        return {
            c.name: c.type_code
            for c in connection.introspection.get_table_description(cursor, model._meta.db_table)
        }


def column_types(model) -> dict[str, str]:
    """Column name -> the database's own type name (information_schema on Postgres)."""
    if connection.vendor != "postgresql":
        return {f.column: f.db_type(connection) for f in model._meta.concrete_fields}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, column_default FROM information_schema.columns "
            "WHERE table_name = %s",
            [model._meta.db_table],
        )
        rows = cursor.fetchall()
    assert all(default is None for _name, _type, default in rows), rows  # no sequence, no now()
    return {name: data_type for name, data_type, _default in rows}


def test_the_ballot_table_has_no_voter_no_time_and_no_serial_id():
    assert set(columns(Ballot)) == {"id", "motion_id", "choice"}
    types = column_types(Ballot)
    assert "uuid" in types["id"].lower() or "char(32)" in types["id"].lower()
    assert not [name for name, t in types.items() if any(w in t.lower() for w in TIME_TYPES)]
    assert not [name for name in types if "user" in name or "voter" in name or "_at" in name]
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, Ballot._meta.db_table)
    assert {target for _col, (target_col, target) in relations.items()} <= {Motion._meta.db_table}  # fmt: skip
    assert not Ballot._meta.ordering


def test_the_voter_records_say_who_voted_not_how_and_not_when():
    assert set(columns(VoterRecord)) == {"id", "motion_id", "user_id"}
    types = column_types(VoterRecord)
    assert not [name for name, t in types.items() if any(w in t.lower() for w in TIME_TYPES)]
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, VoterRecord._meta.db_table)
    assert Ballot._meta.db_table not in {target for _col, (_tc, target) in relations.items()}
    # Neither model points at the other in Django either.
    for model, other in ((Ballot, VoterRecord), (VoterRecord, Ballot)):
        assert not [f for f in model._meta.get_fields() if f.related_model is other]


def test_the_admin_has_no_screen_for_ballots_or_voter_records():
    assert Ballot not in admin.site._registry
    assert VoterRecord not in admin.site._registry


@pytest.fixture
def secret_vote(tree, make_motion):
    """A secret ballot: `member` for, `office` against, the secretary abstains."""
    motion = make_motion(open=True, secret=True, title="无记名投票议案")
    for user, choice in ((tree.member.user, "for"), (tree.office.user, "against"), (tree.secretary, "abstain")):  # fmt: skip
        services.vote_cast(motion=motion, user=user, choice=choice)
    return motion


def _choice_words(html: str) -> set[str]:
    return {w for w in ("you voted:", "votes (public vote)") if w in html.lower()}


def test_pages_show_nobody_how_anyone_voted(client, tree, secret_vote):
    url = secret_vote.get_absolute_url()
    for user in (tree.member.user, tree.secretary, tree.admin):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert not _choice_words(html), user
        assert "Count so far" not in html and "The count is hidden until the vote closes." in html  # fmt: skip
    client.force_login(tree.member.user)
    html = client.get(url).content.decode()
    assert "You have voted." in html and "nobody, you included, can see how you voted" in html
    close_at_end(secret_vote)
    for user in (tree.member.user, tree.secretary, tree.admin):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert not _choice_words(html), user
        assert "1 of 3" not in html and "3 of 3 entitled voted" in html


def test_the_admin_shows_no_votes_of_a_secret_ballot(client, tree, secret_vote):
    change = reverse("admin:decisions_motion_change", args=[secret_vote.pk])
    client.force_login(tree.admin)
    html = client.get(change).content.decode()
    assert "hidden until the close" in html
    assert tree.member.real_name not in html and tree.office.real_name not in html
    close_at_end(secret_vote)
    html = client.get(change).content.decode()
    assert "for 1, against 1, abstain 1 of 3 entitled" in html
    assert "votes (public vote)" not in html.lower()
    assert tree.member.real_name not in html and tree.office.real_name not in html


def _sheet(response) -> list[tuple]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def test_the_export_of_a_secret_ballot_lists_who_voted_never_how(client, tree, secret_vote):
    export = reverse("decisions:export", args=[secret_vote.pk])
    client.force_login(tree.secretary)
    assert client.get(export).status_code == 404  # not before the close
    close_at_end(secret_vote)
    rows = _sheet(client.get(export))
    names = {tree.member.real_name, tree.office.real_name}
    voter_rows = [r for r in rows if r[0] in names]
    assert len(voter_rows) == 2 and all(r[1] in (None, "") for r in voter_rows)
    assert ("for", 1) in rows and ("against", 1) in rows and ("abstain", 1) in rows
    for user in (tree.member.user, tree.reviewer, tree.secretary2):
        client.force_login(user)
        assert client.get(export).status_code in (403, 404), user


def test_the_export_of_a_public_vote_names_each_vote(client, tree, make_motion):
    motion = make_motion(open=True)
    services.vote_cast(motion=motion, user=tree.member.user, choice="for")
    services.vote_cast(motion=motion, user=tree.office.user, choice="against")
    close_at_end(motion)
    client.force_login(tree.secretary)
    rows = _sheet(client.get(reverse("decisions:export", args=[motion.pk])))
    assert (tree.member.real_name, "for") in rows and (tree.office.real_name, "against") in rows
