"""python manage.py sync_sources [--source SLUG] [--full] [--every SECONDS]"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from providers.exchange.feeds import pull_feed, queue_due_feeds
from providers.models import Source


class Command(BaseCommand):
    help = (
        "Queue a pull of every source feed that is due, for the task worker. Run it from cron, "
        "or keep it running with --every as the scheduler beside the worker (docs/DEPLOYMENT.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", default="", help="Queue this source's feed now, due or not.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Page through HSDS APIs in full, not only what changed since the last pull: listings the "
            "partner no longer publishes are then flagged as missing.",
        )
        parser.add_argument(
            "--every", type=int, default=0, metavar="SECONDS", help="Keep running, queueing due feeds this often."
        )

    def handle(self, *args, source, full, every, **options):
        if source:
            feed = Source.objects.filter(slug=source).exclude(feed_url="").first()
            if feed is None:
                raise CommandError(f"No source {source!r} with a feed.")
            pull_feed.enqueue(feed.pk, full)
            self.stdout.write(f"Queued {feed.slug}: {feed.feed_url}")
            return
        if every < 0:
            raise CommandError("--every must be a number of seconds.")
        while True:
            try:
                for feed in queue_due_feeds(full=full):
                    self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} queued {feed.slug}: {feed.feed_url}")
            except DatabaseError as error:
                if not every:
                    raise
                # A database busy or away for a moment: the scheduler tries again at its next turn.
                self.stderr.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} could not queue the due feeds: {error}")
            if not every:
                return
            time.sleep(every)
