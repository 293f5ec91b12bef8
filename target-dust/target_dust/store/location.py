"""Where `store_url` points, in every form Meltano users write it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from target_dust.store.faults import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")
"""URL schemes of a PostgreSQL store, with or without a `+driver` (`postgresql+psycopg`)."""
STORE_URL_FORMS = (
    "a SQLite file path, sqlite:///path, or a PostgreSQL URL (postgresql://, postgres://, "
    "postgresql+psycopg://, postgresql+psycopg2://)"
)


@dataclass(frozen=True)
class StoreLocation:
    """A SQLite file (or `:memory:`) or a PostgreSQL server."""

    engine: str
    """`sqlite` or `postgresql`."""
    address: str
    """The SQLite path, or a URL that psycopg (libpq) connects to."""
    description: str
    """How an operator names it: the path, or the URL without its password."""


def store_location(url: str) -> StoreLocation:
    """Read `store_url`; refuse any other kind of URL by its scheme.

    The `+driver` of a SQLAlchemy URL (`postgresql+psycopg2://`, as target-postgres
    takes) is only a hint for SQLAlchemy: the target connects with psycopg whatever it
    says, so only the database kind counts.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return StoreLocation("sqlite", url, url)
    kind = scheme.lower().partition("+")[0]
    if kind in POSTGRES_SCHEMES:
        return StoreLocation("postgresql", f"postgresql://{rest}", redacted_url(url))
    if kind == "sqlite":
        try:
            path = make_url(url).database or ":memory:"
        except ArgumentError as exc:
            raise StoreError(f"store_url is not a valid sqlite URL ({exc}).") from None
        return StoreLocation("sqlite", path, path)
    raise StoreError(
        f"store_url uses {scheme}://, where target-dust cannot keep its records: set it "
        f"to {STORE_URL_FORMS}."
    )


def redacted_url(url: str) -> str:
    """A PostgreSQL URL fit for logs: the password, if any, replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))
