"""Every term of every taxonomy, as each process keeps it, and the names of a listing's terms.

A listing's term ids are in its term tokens (providers.models.term_tokens), so the search
and provider pages, the APIs and the exports name a listing's terms from this
small table (a few hundred terms) without a query. It is read once per process
and again whenever a term changes (providers.caching.VOCABULARY).
"""

import functools
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import CharField, TextField, Value
from django.db.models.functions import Cast
from django.utils.translation import get_language

from providers import caching
from providers.models import TAXONOMY_FIELDS, Provider, term_tokens

# Every taxonomy field of a listing.
TAXONOMIES = tuple(TAXONOMY_FIELDS.values())
# What a result card, and a saved list, shows of a listing's terms.
CARD_TAXONOMIES = ("modalities", "care_settings", "entry_routes")


@dataclass(frozen=True)
class TermLabel:
    slug: str
    name: str


def _load():
    """{taxonomy field: {term id: (slug, name, order, {language: name})}}, in one query."""
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


_TERMS = caching.ProcessCopy(caching.VOCABULARY, _load)


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


def attach_terms(providers, fields=TAXONOMIES):
    """Set ``provider.terms[field]`` to its TermLabels for every provider, without a query.

    The term ids come from each listing's term tokens, their names from the vocabulary
    every process keeps (providers.search.vocabulary), which keeps search and provider pages,
    the APIs and exports at a constant, small query count.
    """
    providers = list(providers)
    for provider in providers:
        held = term_tokens.held_terms(provider.term_tokens)
        provider.terms = labels({TAXONOMY_FIELDS[param]: ids for param, ids in held.items()}, fields)
    return providers


def term_labels(ids, fields=TAXONOMIES):
    """{provider id: {field: [TermLabel, ...]}} for the providers ``ids`` as the term tables hold them now,
    in one query (history's snapshots; pages use attach_terms).
    """
    held = {pk: {field: [] for field in fields} for pk in ids}
    if not ids or not fields:
        return held
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(_terms_sql(fields).format(ids=placeholders), list(ids) * len(fields))
        for provider_id, field, term_id in cursor.fetchall():
            held[provider_id][field].append(term_id)
    return {pk: labels(terms, fields) for pk, terms in held.items()}


@functools.cache
def _terms_sql(fields):
    """The UNION behind term_labels, written once: composing it through the ORM cost more than running it."""
    quote = connection.ops.quote_name
    selects = []
    for field in fields:
        relation = Provider._meta.get_field(field)
        through = relation.remote_field.through
        term_column = through._meta.get_field(relation.m2m_reverse_field_name()).column
        selects.append(
            f"SELECT {quote('provider_id')}, '{field}', {quote(term_column)} FROM {quote(through._meta.db_table)} "
            f"WHERE {quote('provider_id')} IN ({{ids}})"
        )
    return " UNION ALL ".join(selects)
