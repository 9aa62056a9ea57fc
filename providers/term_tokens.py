"""A listing's country and terms as words, so the database's full-text index can answer several
filters at once.

The country becomes one token ("countryke"), and each term the listing holds one
more, its search parameter followed by the term's id ("modality3 setting1
payment7"): ids, because a curator may rename a term's slug, and never reused, so
a deleted term's token matches nothing. They are stored in
``Provider.term_tokens`` and indexed like the keywords (see
providers.search_index). With two or more of these filters the search asks the
index for listings holding a token of each, where one EXISTS subquery per filter
probed every row it walked.
"""

COUNTRY = "country"


def token(param, value):
    return f"{param}{value}".lower()


def tokens_text(country, terms):
    """The stored text: the country's token first, then one per term of ``terms`` ({search parameter: term
    ids}) in code-point order."""
    held = sorted(token(param, term_id) for param, ids in terms.items() for term_id in ids)
    return " ".join([token(COUNTRY, country)] * bool(country) + held)


def held_terms(text):
    """{search parameter: term ids} of the stored ``text``."""
    held = {}
    for word in text.split():
        if not word.startswith(COUNTRY):
            param = word.rstrip("0123456789")
            held.setdefault(param, []).append(int(word[len(param) :]))
    return held


def with_country(text, country):
    """``text`` with the token of ``country`` in place of the one it had (the listing's country changed)."""
    held = [word for word in text.split() if not word.startswith(COUNTRY)]
    return " ".join([token(COUNTRY, country)] * bool(country) + held)


# The receivers that keep ``term_tokens`` in step with the term tables, whichever way they change:
# a form's or a fixture's set(), a merge's add(), a revert (a term deleted: see
# providers.apps.refresh_listings). The importer writes the tokens itself, with its rows.
def terms_changed(sender, instance, action, reverse, model, pk_set, using, **kwargs):
    if action == "pre_clear" and reverse:
        # The term's listings are gone once cleared; remember them.
        instance.cleared_listings = list(instance.providers.using(using).values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        # The listing in hand too: saved again later (as a merge does), it would write back its old tokens.
        listing = type(instance).objects.using(using).filter(pk=instance.pk)
        instance.term_tokens = listing.refresh_term_tokens()[instance.pk]
    elif action == "post_clear":
        model.objects.using(using).filter(pk__in=instance.cleared_listings).refresh_term_tokens()
    else:
        model.objects.using(using).filter(pk__in=pk_set).refresh_term_tokens()

