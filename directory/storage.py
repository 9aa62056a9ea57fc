from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed, hashed-name storage, without rewriting JavaScript source-map comments.

    XStatic-Leaflet-MarkerCluster's minified file names a source map the package
    does not ship, and rewriting that comment stops collectstatic. Source maps
    only serve browser developer tools, so their comments are left as they are.
    """

    patterns = tuple(
        (pattern, replacements)
        for pattern, replacements in CompressedManifestStaticFilesStorage.patterns
        if pattern != "*.js"
    )
