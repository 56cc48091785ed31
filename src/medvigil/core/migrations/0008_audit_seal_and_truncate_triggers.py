"""On PostgreSQL: seals are append-only like the entries (UPDATE and DELETE refused), and
TRUNCATE of the audit trail's tables — entries, chain heads, signatures, seals and sealed
heads — is refused for every database user (PLAT-2). A row trigger does not fire on
TRUNCATE; a statement-level BEFORE TRUNCATE trigger does."""

from django.db import migrations

TABLES = (
    "core_auditentry",
    "core_auditchain",
    "core_signature",
    "core_auditseal",
    "core_auditsealedhead",
)

FORWARD = (
    """
DROP TRIGGER IF EXISTS core_auditseal_append_only ON core_auditseal;
CREATE TRIGGER core_auditseal_append_only BEFORE UPDATE OR DELETE ON core_auditseal
  FOR EACH ROW EXECUTE FUNCTION medvigil_audit_append_only();
"""
    + "".join(
        f"""
DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};
CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
  FOR EACH STATEMENT EXECUTE FUNCTION medvigil_audit_append_only();
"""
        for t in TABLES
    )
)

BACKWARD = "DROP TRIGGER IF EXISTS core_auditseal_append_only ON core_auditseal;\n" + "".join(
    f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};\n" for t in TABLES
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0007_audit_seals")]
    operations = [migrations.RunPython(forward, backward)]
