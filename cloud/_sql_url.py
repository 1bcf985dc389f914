"""Store URLs shared by every SQL store: our ``schema=`` parameter, and URLs safe to log."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def split_schema(url: str) -> tuple[str, str | None]:
    """Take our own ``schema=`` query parameter off a PostgreSQL URL: (the rest, the schema)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema"), None)
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def redacted(url: str) -> str:
    """*url* with its password replaced by ``***``, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
