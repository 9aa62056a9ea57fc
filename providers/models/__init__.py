from providers.models.crisis_line import CrisisLine
from providers.models.import_run import ImportRun
from providers.models.mapping_sample import MappingSample
from providers.models.not_duplicate import NotDuplicate
from providers.models.opening_hours import HOURS_FIELDS, WEEK_COLUMNS, OpeningInterval, weeks
from providers.models.organization import Organization
from providers.models.pending_import import PendingImport
from providers.models.provider import TAXONOMY_FIELDS, Provider
from providers.models.source import Source
from providers.models.source_record import ImportConflict, SourceRecord
from providers.models.suggestion import Suggestion
from providers.models.taxonomy import (
    CareSetting,
    EntryRoute,
    Language,
    Medication,
    Modality,
    PaymentOption,
    Population,
    Term,
)

__all__ = [
    "HOURS_FIELDS",
    "TAXONOMY_FIELDS",
    "WEEK_COLUMNS",
    "CareSetting",
    "CrisisLine",
    "EntryRoute",
    "ImportConflict",
    "ImportRun",
    "Language",
    "MappingSample",
    "Medication",
    "Modality",
    "NotDuplicate",
    "OpeningInterval",
    "Organization",
    "PaymentOption",
    "PendingImport",
    "Population",
    "Provider",
    "Source",
    "SourceRecord",
    "Suggestion",
    "Term",
    "weeks",
]
