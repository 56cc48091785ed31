"""On PostgreSQL, refuse UPDATE and DELETE on the audit trail at the database level, for
everyone including the application's own database user (PLAT-2)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION medvigil_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
  FOR EACH ROW EXECUTE FUNCTION medvigil_audit_append_only();
DROP TRIGGER IF EXISTS core_signature_append_only ON core_signature;
CREATE TRIGGER core_signature_append_only BEFORE UPDATE OR DELETE ON core_signature
  FOR EACH ROW EXECUTE FUNCTION medvigil_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP TRIGGER IF EXISTS core_signature_append_only ON core_signature;
DROP FUNCTION IF EXISTS medvigil_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
