"""Every term of every taxonomy, as each process keeps it, and the names of a listing's terms.

A listing's term ids are in its term tokens (providers.term_tokens), so the search
and provider pages, the APIs and the exports name a listing's terms from this
small table (a few hundred terms) without a query. It is read once per process
and again whenever a term changes (see directory.versioned).
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, TextField, Value
from django.db.models.functions import Cast
from django.utils.translation import get_language

from directory.versioned import VersionedMemo

CACHE_KEY = "providers:vocabulary-version"
CACHE_SECONDS = 3600


@dataclass(frozen=True)
class TermLabel:
    slug: str
    name: str


def _load():
    """{taxonomy field: {term id: (slug, name, order, {language: name})}}, in one query."""
    from providers.models import TAXONOMY_FIELDS, Provider

    selects = []
    for field in TAXONOMY_FIELDS.values():
        model = Provider._meta.get_field(field).related_model
        selects.append(
            model.objects.annotate(field=Value(field, output_field=CharField()))
            .values_list("field", "pk", "slug", "name", "order", Cast("name_translations", TextField()))
            .order_by()
        )
    terms = {field: {} for field in TAXONOMY_FIELDS.values()}
    for field, pk, slug, name, order, translations in selects[0].union(*selects[1:], all=True):
        terms[field][pk] = (slug, name, order, json.loads(translations or "{}"))
    return terms


_TERMS = VersionedMemo(CACHE_KEY, CACHE_SECONDS, _load)
# Make every process read the terms again (a signal receiver, see providers.freshness).
forget_vocabulary = _TERMS.forget


def all_terms():
    """{taxonomy field: {term id: (slug, name, order, {language: name})}}, as this process keeps them."""
    return _TERMS.get()


def labels(held, fields):
    """{field: [TermLabel, ...]} for ``held`` ({field: term ids}), each field in ``fields``, in the
    taxonomy's order, named in the active language where the term has a translation."""
    language = get_language() or settings.LANGUAGE_CODE
    vocabulary = all_terms()
    named = {}
    for field in fields:
        terms = vocabulary[field]
        known = [terms[pk] for pk in held.get(field, ()) if pk in terms]
        named[field] = [
            TermLabel(slug, translations.get(language) or name)
            for slug, name, _order, translations in sorted(known, key=lambda term: (term[2], term[1]))
        ]
    return named
