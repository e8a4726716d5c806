"""A self-hosted PDF question-answering app."""


def app_version() -> str:
    """The installed package's version ("unknown" when run from a tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pdfqa")
    except PackageNotFoundError:
        return "unknown"
