"""A listing's country and terms as words, so the database's full-text index can answer several
filters at once.

The country becomes one token ("countryke"), and each term the listing holds one
more, its search parameter followed by the term's id ("modality3 setting1
payment7"): ids, because a curator may rename a term's slug, and never reused, so
a deleted term's token matches nothing. They are stored in
``Provider.term_tokens`` and indexed like the keywords (see
providers.models.search_index). With two or more of these filters the search asks the
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
