"""Paper packs: every meeting gets a short code (existing rows backfilled, then unique), and a
reflection may come from a paper sheet (a photo of it, who entered it)."""

import secrets

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.uploads

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # as meetings.models.SHORT_CODE_ALPHABET
LENGTH = 6
BATCH = 2000


def backfill_short_codes(apps, schema_editor):
    Meeting = apps.get_model("meetings", "Meeting")
    taken = set(Meeting.objects.exclude(short_code=None).values_list("short_code", flat=True))
    missing = Meeting.objects.filter(short_code=None).only("pk").order_by("pk")
    batch = []
    for meeting in missing.iterator(chunk_size=BATCH):
        code = None
        while code is None or code in taken:
            code = "".join(secrets.choice(ALPHABET) for _i in range(LENGTH))
        taken.add(code)
        meeting.short_code = code
        batch.append(meeting)
        if len(batch) >= BATCH:
            Meeting.objects.bulk_update(batch, ["short_code"])
            batch = []
    if batch:
        Meeting.objects.bulk_update(batch, ["short_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0003_expected_count_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="reflection",
            name="reflection_not_empty",
        ),
        migrations.AddField(
            model_name="meeting",
            name="short_code",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="Printed on the paper sign-in sheet; the sheet is entered by this code.",
                max_length=6,
                null=True,
                verbose_name="short code",
            ),
        ),
        migrations.RunPython(backfill_short_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="meeting",
            name="short_code",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="Printed on the paper sign-in sheet; the sheet is entered by this code.",
                max_length=6,
                null=True,
                unique=True,
                verbose_name="short code",
            ),
        ),
        migrations.AddField(
            model_name="reflection",
            name="entered_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="entered from the paper sheet by",
            ),
        ),
        migrations.AddField(
            model_name="reflection",
            name="photo",
            field=core.uploads.CheckedImageField(
                blank=True,
                help_text="From a paper sign-in sheet: the reflection as written by hand.",
                upload_to="meetings/reflections/%Y/%m/",
                verbose_name="photo of the handwritten reflection",
            ),
        ),
        migrations.AlterField(
            model_name="reflection",
            name="body",
            field=models.TextField(blank=True, verbose_name="reflection"),
        ),
        migrations.AddConstraint(
            model_name="reflection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("body", ""), _negated=True),
                    models.Q(("photo", ""), _negated=True),
                    _connector="OR",
                ),
                name="reflection_not_empty",
            ),
        ),
    ]
