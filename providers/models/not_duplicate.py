from django.conf import settings
from django.db import models
from django.db.models import F, Q


class NotDuplicateQuerySet(models.QuerySet):
    def record(self, providers, user):
        """Record that no two of ``providers`` are duplicates; pairs already recorded stay as they were."""
        ids = sorted({provider.pk for provider in providers})
        pairs = [
            self.model(first_id=first, second_id=second, decided_by=user)
            for index, first in enumerate(ids)
            for second in ids[index + 1 :]
        ]
        return self.bulk_create(pairs, ignore_conflicts=True)


class NotDuplicate(models.Model):
    """A curator's decision that two listings which look alike are different providers.

    Duplicate detection leaves the pair out from then on, so a dismissed group
    does not come back; a new listing that matches either one still shows up.
    """

    # first has the smaller id, so each pair is stored once.
    first = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = NotDuplicateQuerySet.as_manager()

    class Meta:
        verbose_name = "pair of listings that are not duplicates"
        verbose_name_plural = "pairs of listings that are not duplicates"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="notduplicate_unique_pair"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="notduplicate_ordered_pair"),
        ]

    def __str__(self):
        return f"Listings {self.first_id} and {self.second_id} are not duplicates"
