"""Names that must be unique: "base", then "base-2", "base-3", ... in order."""


def first_free(base: str, taken: set) -> str:
    """The first of base, base-2, base-3, ... not in ``taken``; it is added to ``taken``."""
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    taken.add(candidate)
    return candidate
