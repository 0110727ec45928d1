from django.core.management.base import BaseCommand

from tidings.search.index import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index from all threads and replies (after an upgrade or restore)."

    def handle(self, *args, **options) -> None:
        count = rebuild()
        self.stdout.write(f"Search index rebuilt: {count} documents.")
