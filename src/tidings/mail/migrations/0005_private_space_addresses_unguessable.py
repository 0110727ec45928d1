"""Private spaces' addresses were their names (leadership.acme@...), which anyone could
guess: each gets a random part. The old address stops working."""

import re
import secrets

from django.db import migrations

SECRET_SUFFIX = re.compile(r"\.[0-9a-f]{12}$")


def add_random_part(apps, schema_editor):
    SpaceMailbox = apps.get_model("mail", "SpaceMailbox")
    for mailbox in SpaceMailbox.objects.filter(space__visibility="private"):
        if not SECRET_SUFFIX.search(mailbox.local_part):
            mailbox.local_part = f"{mailbox.local_part[:51]}.{secrets.token_hex(6)}"
            mailbox.save(update_fields=["local_part"])


class Migration(migrations.Migration):
    dependencies = [("mail", "0004_sender_proof")]

    operations = [migrations.RunPython(add_random_part, migrations.RunPython.noop)]
