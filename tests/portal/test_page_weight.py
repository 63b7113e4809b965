"""The phone budget (DESIGN: HTML + CSS + JS gzipped, at most 40 KB per member page), checked
on the test tree so that a regression fails the suite; tests/bench/page_weight.py measures
every page on the demo data."""

import pytest

from tests.bench.page_weight import BUDGET_BYTES, measure


@pytest.fixture
def member_client(client, tree):
    client.force_login(tree.member.user)
    return client


@pytest.mark.parametrize("page", ["home", "branch"])
def test_member_page_within_budget(member_client, tree, page):
    url = "/" if page == "home" else tree.branch.get_absolute_url()
    result = measure(member_client, url)
    # The stylesheet and htmx were found and counted, so the total means something.
    assert result["css"] > 0 and result["js"] > 0, result["assets"]
    assert result["total"] <= BUDGET_BYTES, (
        f"{url}: {result['total']} gzipped bytes > {BUDGET_BYTES} "
        f"(html {result['html']}, css {result['css']}, js {result['js']}, {result['assets']})"
    )


def test_measure_rejects_a_redirect(client, tree):
    with pytest.raises(RuntimeError, match="302"):
        measure(client, "/")
