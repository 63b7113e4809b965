"""Chinese substring search on Postgres: trigram GIN indexes on the expressions Django's
`icontains` produces (UPPER(col::text) LIKE UPPER(%s)). Other databases need none."""

import logging

from django.db import migrations, transaction
from django.db.utils import DatabaseError

logger = logging.getLogger(__name__)

INDEXES = {
    "lesson_title_trgm": ("lessons_lesson", "title"),
    "lesson_summary_trgm": ("lessons_lesson", "summary"),
    "document_title_trgm": ("lessons_document", "title"),
    "document_summary_trgm": ("lessons_document", "summary"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        logger.warning("pg_trgm is not available: search works, without a trigram index")
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("lessons", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
