"""Demo data for `manage.py seed_demo`.

One module per app, listed in `DEMO_MODULES` of `portal/management/commands/seed_demo.py` in
dependency order. Each module exposes two functions:

- `seed(ctx)`: the small demo (DESIGN's demo accounts and about 150 members). Writes go
  through the app's services. It must be idempotent: look rows up by a natural key (a name
  under a parent, a username) and create only what is missing, so that running the command
  twice changes nothing and a module added later fills in its share on an existing database.
- `bulk(ctx, *, members)`: the volume for `seed_demo --members N`, on top of the small demo,
  with `bulk_create` in batches of `BATCH` rows and no per-row query. Idempotent for the same
  N: detect its own rows, skip when they are there, and raise `CommandError` when the rows of
  another N are (the database must be flushed to change the size).

Modules share a `DemoContext`: the superuser who does the writes, the demo password's hash
(made once with the configured hasher), what earlier modules created by key (`ctx.orgs`,
`ctx.sites`, `ctx.members`), the bulk tree and members (`ctx.bulk`, see
`portal.demo.branches.bulk_branches` and `portal.demo.members.bulk_members`), and one
deterministic random generator per purpose (`ctx.rng(name)`), so that adding a module never
changes what the others generate.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from tqdm import tqdm

DEMO_PASSWORD = "netbranch-demo"  # noqa: S105 - the documented demo password
BATCH = 5000


@dataclass(frozen=True)
class Login:
    username: str
    role: str


@dataclass
class DemoContext:
    password_hash: str
    now: datetime = field(default_factory=timezone.now)
    write: Callable[[str], None] = print
    verbosity: int = 1
    admin: Any = None
    orgs: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, Any] = field(default_factory=dict)
    members: dict[str, Any] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    bulk: dict[str, Any] = field(default_factory=dict)
    created: Counter = field(default_factory=Counter)

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def rng(self, name: str) -> random.Random:
        """A generator seeded by `name` alone: the same data on every run and machine."""
        return random.Random(f"netbranch-demo:{name}")  # noqa: S311 - demo data, not security

    def log(self, message: str) -> None:
        if self.verbosity >= 2:
            self.write(message)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] += n

    def progress(self, *, total: int, desc: str) -> tqdm:
        """A progress bar on stderr (hidden with -v 0 and when stderr is not a terminal)."""
        return tqdm(total=total, desc=desc, unit=" rows", disable=None if self.verbosity else True)

    def days_ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def date_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)


def at_morning(day: date) -> datetime:
    """09:00 local time on `day`, timezone-aware."""
    return timezone.make_aware(datetime.combine(day, time(9, 0)))


def batched(items: Iterable, size: int = BATCH):
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ensure_admin(ctx: DemoContext):
    """The superuser `admin`, who does every write of the demo (created once)."""
    User = get_user_model()
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User(
            username="admin",
            email="admin@example.com",
            is_superuser=True,
            is_staff=True,
            password=ctx.password_hash,
        )
        admin.save()
        ctx.count("users")
    ctx.admin = admin
    return admin
