"""Benchmark: time `manage.py seed_demo --members N`; print seconds, rows and rows/s.

It writes the demo data into the database of DATABASE_URL (not a test database), so point it
at a development database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/netbranch_dev \\
        .venv/bin/python tests/bench/seed_bench.py --members 100000 --flush

--flush empties the database first (`manage.py flush`), so that the bulk part is measured;
without it a database that already holds the same N measures the idempotent re-run.
Not collected by pytest (tests/bench is excluded).
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--members", type=int, default=100_000, help="bulk members (default 100000)"
    )
    parser.add_argument("--flush", action="store_true", help="empty the database first")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    local = {"auth", *(label.split(".")[0] for label in settings.LOCAL_APPS)}
    models = [m for m in apps.get_models() if m._meta.app_label in local]

    def rows() -> int:
        return sum(model._base_manager.count() for model in models)

    if args.flush:
        call_command("flush", interactive=False, verbosity=0)
    before = rows()
    started = time.perf_counter()
    call_command("seed_demo", members=args.members, verbosity=1)
    seconds = time.perf_counter() - started
    created = rows() - before

    print()
    print(f"database:       {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"--members:      {args.members}")
    print(f"seconds:        {seconds:.1f}")
    print(f"rows inserted:  {created}")
    print(f"rows/s:         {created / seconds:,.0f}")


if __name__ == "__main__":
    main()
