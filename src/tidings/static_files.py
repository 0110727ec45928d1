"""Static files as production serves them (collected by `tidings serve`): hashed names that
browsers cache for good, compressed copies, and the imports between JavaScript modules
rewritten to those hashed names too, so a page never runs a new module with an old copy of
one it imports (or the other way round) from the browser's cache."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFiles(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
