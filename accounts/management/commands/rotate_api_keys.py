from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import crypto
from accounts.models import ApiKey


class Command(BaseCommand):
    help = "Re-encrypt every stored API key with the first key of STUDIO_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for api_key in ApiKey.objects.select_for_update().only("pk", "ciphertext"):
                api_key.ciphertext = crypto.rotate(api_key.ciphertext)
                api_key.save(update_fields=["ciphertext"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} API key(s) with the newest encryption key.")
