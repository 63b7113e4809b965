"""`manage.py seed_demo [--members N] [--force]`: the demo data of DESIGN.md.

Each app with something to show has a module in `portal/demo/` with `seed(ctx)` (the small
demo) and `bulk(ctx, *, members)` (the volume for --members); add it to DEMO_MODULES below,
after the modules it builds on. See `portal/demo/__init__.py` for the contract.
"""

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings

from portal.demo import DEMO_PASSWORD, DemoContext, Login, ensure_admin

# In dependency order: a module may use what the ones before it put in the context.
DEMO_MODULES = [
    "portal.demo.branches",
    "portal.demo.members",
    "portal.demo.notifications",
    "portal.demo.discussions",
    "portal.demo.lessons",
    "portal.demo.meetings",
    "portal.demo.welfare",
    "portal.demo.decisions",
    "portal.demo.reports",
    "portal.demo.review",
    "portal.demo.ratings",
]


class Command(BaseCommand):
    help = (
        "Create the demo group, branches, sites, members and the demo accounts (password "
        f"'{DEMO_PASSWORD}'). Idempotent: running it again creates nothing new. With --members N, "
        "also build a large tree with N more members using bulk inserts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=0,
            metavar="N",
            help="also build a proportionally larger tree with N bulk members (e.g. 100000)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG=False (the demo accounts share a well-known password)",
        )

    def handle(self, *args, members: int = 0, force: bool = False, verbosity: int = 1, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to seed demo data with DEBUG=False: it creates accounts, a superuser "
                f"among them, with the well-known password '{DEMO_PASSWORD}'. "
                "Pass --force if this really is a demo server."
            )
        if members < 0:
            raise CommandError("--members must be zero or more.")

        started = time.perf_counter()
        ctx = DemoContext(
            password_hash=make_password(DEMO_PASSWORD), write=self.stdout.write, verbosity=verbosity
        )
        modules = [import_module(name) for name in DEMO_MODULES]
        # The demo's history (notices published over past weeks) is not mailed to anyone;
        # what is published after seeding is.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            transaction.atomic(),
        ):
            ensure_admin(ctx)
            for module in modules:
                module_started = time.perf_counter()
                module.seed(ctx)
                ctx.log(f"{module.__name__}: {time.perf_counter() - module_started:.1f} s")
        small_seconds = time.perf_counter() - started

        bulk_seconds = None
        if members:
            bulk_started = time.perf_counter()
            created_before = sum(ctx.created.values())
            with transaction.atomic():
                for module in modules:
                    module.bulk(ctx, members=members)
            if connection.vendor == "postgresql" and sum(ctx.created.values()) > created_before:
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # fresh planner statistics for the new volume
            bulk_seconds = time.perf_counter() - bulk_started

        if verbosity >= 1:
            self._report(ctx, small_seconds, bulk_seconds)

    def _report(self, ctx: DemoContext, small_seconds: float, bulk_seconds: float | None) -> None:
        write = self.stdout.write
        if ctx.created:
            rows = ", ".join(f"{n} {what}" for what, n in ctx.created.items())
            write(f"Created {rows}.")
        else:
            write("Nothing to create: the demo data is already there.")
        timing = f"Small demo: {small_seconds:.1f} s"
        if bulk_seconds is not None:
            timing += f"; bulk: {bulk_seconds:.1f} s"
        write(timing + ".")

        logins = [*ctx.logins, Login("admin", "superuser")]
        width = max(len(login.username) for login in logins)
        write("")
        write(self.style.MIGRATE_HEADING(f"Demo logins (password: {DEMO_PASSWORD})"))
        for login in logins:
            write(f"  {login.username.ljust(width)}  {login.role}")
        write(
            f"  Every generated member (demo001..., and m000001... with --members) also has the "
            f"password '{DEMO_PASSWORD}'."
        )
