"""The archive's error type, in a module of its own so that readers of packages (the package format,
the search index) need not load the catalog and its database engine to name it."""


class ArchiveError(Exception):
    """An archive operation refused or failed, with a reason a person can act on."""
