"""On PostgreSQL, TRUNCATE of the audit trail is refused too (a statement-level trigger;
row triggers do not fire on TRUNCATE), also when it comes as the CASCADE of truncating
another table. Emptying a test database between tests sets the session variable
``worldbook.allow_audit_truncate`` to ``on`` first (see the test suite's conftest)."""

from django.db import migrations

NO_TRUNCATE_SQL = """
CREATE OR REPLACE FUNCTION accounts_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('worldbook.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS accounts_auditevent_no_truncate ON accounts_auditevent;
CREATE TRIGGER accounts_auditevent_no_truncate
    BEFORE TRUNCATE ON accounts_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_auditevent_no_truncate();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS accounts_auditevent_no_truncate ON accounts_auditevent;
DROP FUNCTION IF EXISTS accounts_auditevent_no_truncate();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_audit_moderation"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(NO_TRUNCATE_SQL), _on_postgresql(DROP_SQL)),
    ]
