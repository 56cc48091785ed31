"""The access stamp's one row (accounts.access)."""

import secrets

from django.db import migrations


def create_row(apps, schema_editor):
    AccessStamp = apps.get_model("accounts", "AccessStamp")
    AccessStamp.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"value": secrets.randbits(62)}
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_access_stamp")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
