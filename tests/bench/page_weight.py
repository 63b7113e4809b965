"""Page weight on weak mobile data: each member page's HTML, CSS and JS, gzipped, at most 40 KB.

    .venv/bin/python tests/bench/page_weight.py [--budget KB]

Runs against the current database (the demo data: `seed_demo` is called when there is no
`member` user yet, after applying any pending migrations). It measures the twelve member pages
of issue 11 as `member` (home, lessons, a lesson, documents, meetings, a meeting, notices, a
notice, board, welfare, study, me; plus a document), on real ids of the demo data, then a few
pages other accounts open often; a member page it cannot resolve is an error (exit 2).

For every (account, page) pair it fetches the page with Django's test client, finds the
stylesheets (`<link rel=stylesheet>`) and scripts (`<script src>`) served from STATIC_URL,
reads them through the staticfiles finders, gzips each at level 6 and adds them up. Images
and fonts are not counted. Prints a table; exits 1 when a page is over the budget, so CI
(.ci/run, after `seed_demo`) fails on it.

`measure(client, url)` is importable: tests/portal/test_page_weight.py uses it on test data.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

BUDGET_BYTES = 40 * 1024  # DESIGN "Performance budgets": HTML + CSS + JS gzipped per page
GZIP_LEVEL = 6
ROOT = Path(__file__).resolve().parents[2]


class AssetParser(HTMLParser):
    """Collects the URLs of stylesheets and scripts a page loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in attributes.get("rel", "").lower().split():
            if attributes.get("href"):
                self.stylesheets.append(attributes["href"])
        elif tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])

    handle_startendtag = handle_starttag


def gzipped_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def static_name(url: str) -> str | None:
    """The static file's name for a URL under STATIC_URL, else None (an external URL)."""
    from django.conf import settings

    parts = urlsplit(url)
    if parts.netloc:
        return None
    static_url = urlsplit(settings.STATIC_URL).path
    if not static_url.startswith("/"):
        static_url = "/" + static_url
    if not parts.path.startswith(static_url):
        return None
    return unquote(parts.path[len(static_url) :])


def read_static(name: str) -> bytes:
    """The file's bytes, through the finders (the source files) or, for a hashed name from
    the manifest storage (DJANGO_DEBUG=0), through the storage of collected files."""
    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage

    found = finders.find(name)
    if found:
        return Path(found).read_bytes()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return handle.read()
    raise FileNotFoundError(f"static file {name!r} not found by the finders nor in STATIC_ROOT")


def measure(client, url: str) -> dict:
    """Gzipped bytes of the page at `url` and of the CSS and JS it loads from STATIC_URL.

    Returns {"url", "html", "css", "js", "total", "assets": [(name, gzipped bytes), ...]}.
    The page must answer 200 (a redirect, e.g. to the login page, is an error)."""
    response = client.get(url, secure=True)
    if response.status_code != 200:
        where = response.get("Location", "")
        raise RuntimeError(f"GET {url} answered {response.status_code} {where}".strip())
    html = response.content
    parser = AssetParser()
    parser.feed(html.decode(response.charset or "utf-8", errors="replace"))
    parser.close()

    result: dict = {"url": url, "html": gzipped_size(html), "css": 0, "js": 0, "assets": []}
    seen: set[str] = set()
    for kind, urls in (("css", parser.stylesheets), ("js", parser.scripts)):
        for asset_url in urls:
            name = static_name(asset_url)
            if name is None or name in seen:
                continue
            seen.add(name)
            size = gzipped_size(read_static(name))
            result[kind] += size
            result["assets"].append((name, size))
    result["total"] = result["html"] + result["css"] + result["js"]
    return result


# The twelve member pages of issue 11 (DESIGN "Performance budgets"); each must be measured.
MEMBER_PAGES = (
    "home",
    "lessons",
    "lesson",
    "documents",
    "meetings",
    "meeting",
    "notices",
    "notice",
    "board",
    "welfare",
    "study",
    "me",
)


def member_pages(user) -> list[tuple[str, str]]:
    """(page, url) for the twelve member pages as `user`, the detail pages on real ids of the
    data: the heaviest micro-lesson, notice and meeting the user may open, and a document.
    Raises LookupError when the data has no lesson, document, notice or meeting for them."""
    from discussions.selectors import with_discussion_counts
    from lessons.models import Lesson
    from lessons.selectors import documents_visible_to, lessons_visible_to
    from meetings.models import Meeting
    from meetings.selectors.pages import meeting_visible_to
    from notifications.selectors import notices_visible_to

    lessons = with_discussion_counts(lessons_visible_to(user=user), user=user)
    # The micro-lesson with the most text and comments (any lesson when there is none).
    lesson = (
        lessons.filter(kind=Lesson.Kind.MICRO).order_by("-reading_minutes", "-comment_count", "pk")
    ).first() or lessons.order_by("-reading_minutes", "-comment_count", "pk").first()
    document = documents_visible_to(user=user).order_by("-issued_on", "pk").first()
    # The notice with the most comments: the heaviest notice page.
    notice = (
        with_discussion_counts(notices_visible_to(user=user), user=user)
        .order_by("-comment_count", "-published_at")
        .first()
    )
    # The heaviest meeting page a member opens: a held Party lesson with its minutes and
    # reflections asked for, else the latest meeting they may open.
    candidates = list(
        Meeting.objects.filter(reflections_requested_at__isnull=False).order_by("pk")[:20]
    ) + list(Meeting.objects.order_by("-starts_at")[:200])
    meeting = next((m for m in candidates if meeting_visible_to(user, m)), None)
    missing = [
        name
        for name, obj in (
            ("lesson", lesson),
            ("document", document),
            ("notice", notice),
            ("meeting", meeting),
        )
        if obj is None
    ]
    if missing:
        raise LookupError(f"no {', '.join(missing)} that {user.username!r} may open in the data")
    return [
        ("home", "/"),
        ("lessons", "/lessons/"),
        ("lesson", lesson.get_absolute_url()),
        ("documents", "/documents/"),
        ("document", document.get_absolute_url()),
        ("meetings", "/meetings/"),
        ("meeting", meeting.get_absolute_url()),
        ("notices", "/notices/"),
        ("notice", notice.get_absolute_url()),
        ("board", "/board/"),
        ("welfare", "/welfare/"),
        ("study", "/study/"),
        ("me", "/me/"),
    ]


def pages() -> list[tuple[str, str, str]]:
    """(page, account, url) measured on the demo data; account "" is anonymous. The twelve
    member pages (and a document) as `member` first, then other pages people open often."""
    from branches.models import RoleAssignment
    from members.models import Member

    member = Member.objects.select_related("branch", "user").get(user__username="member")
    out = [(name, "member", url) for name, url in member_pages(member.user)]
    if member.branch is not None:
        out.append(("branch", "member", member.branch.get_absolute_url()))
    out.append(("inbox", "member", "/notifications/"))
    out.append(("decisions", "member", "/decisions/"))
    out.append(("home", "office", "/"))
    out.append(("home", "secretary", "/"))
    out.append(("board", "secretary", "/board/"))
    assignment = (
        RoleAssignment.objects.filter(
            user__username="secretary", role=RoleAssignment.Role.SECRETARY
        )
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    if assignment is not None:
        out.append(("branch", "secretary", assignment.organization.get_absolute_url()))
    out.append(("ledger", "secretary", "/meetings/ledger/"))
    out.append(("home", "reviewer", "/"))
    out.append(("reports", "secretary", "/reports/"))
    out.append(("sites", "secretary", "/members/sites/"))
    out.append(("review", "reviewer", "/review/"))
    out.append(("ratings", "reviewer", "/reports/ratings/"))
    out.append(("login", "", "/accounts/login/"))
    return out


def prepare_database() -> None:
    """Pending migrations applied, then the demo data seeded if it is not there yet."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("Applying pending migrations ...", file=sys.stderr)
        call_command("migrate", interactive=False, verbosity=0)
    if not get_user_model().objects.filter(username="member").exists():
        print("No demo data (user 'member'): running seed_demo ...", file=sys.stderr)
        call_command("seed_demo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET_BYTES / 1024,
        help="budget per page in KB of 1024 bytes, HTML + CSS + JS gzipped (default: %(default)g)",
    )
    args = parser.parse_args(argv)
    budget = int(args.budget * 1024)

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # 'testserver' allowed, mail kept in memory
    try:
        prepare_database()
    except CommandError as exc:
        print(f"Cannot prepare the demo data: {exc}", file=sys.stderr)
        return 2

    try:
        measured_pages = pages()
    except LookupError as exc:
        print(f"Cannot measure every member page: {exc}", file=sys.stderr)
        return 2

    users = get_user_model().objects
    header = (
        f"{'page':<10} {'url':<22} {'account':<10} {'html':>7} {'css':>7} {'js':>7} "
        f"{'total gz':>9} {'KB':>6}"
    )
    print(header)
    print("-" * len(header))
    over = []
    for name, account, url in measured_pages:
        client = Client()
        if account:
            client.force_login(users.get(username=account))
        result = measure(client, url)
        flag = "" if result["total"] <= budget else "  OVER BUDGET"
        if flag:
            over.append((account or "anonymous", url, result["total"]))
        print(
            f"{name:<10} {url:<22} {account or 'anonymous':<10} {result['html']:>7} "
            f"{result['css']:>7} {result['js']:>7} {result['total']:>9} "
            f"{result['total'] / 1024:>6.1f}{flag}"
        )
    print("-" * len(header))
    print(f"budget: {budget} bytes ({budget / 1024:g} KB) per page, gzip level {GZIP_LEVEL}")
    if over:
        for account, url, total in over:
            print(f"OVER BUDGET: {url} as {account}: {total} > {budget} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
