"""SQLAlchemy models of the project's own tables.

Every table is prefixed ``trd_`` so it never clashes with Rasa's tracker store
(``events``), which may live in the same database. The schema is created and
changed only by the Alembic migrations in ``trd/store/migrations``; a test
checks these models and the migrations agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base

TABLE_PREFIX = "trd_"

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
Base: Any = declarative_base(metadata=metadata)

# Other modules that declare tables on ``Base`` (each with its own migration). The
# migrations and the model/migration comparison test load them all via all_metadata().
MODEL_MODULES = (
    "trd.store.sms_models",
    "trd.store.escalation_models",
    "trd.store.summary_models",
    "trd.store.privacy_models",
    "trd.store.checkin_models",
)


def all_metadata() -> sa.MetaData:
    """``metadata`` with every module's tables registered on it."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return metadata


# JSON on SQLite (stored as text), JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamp with time zone``; SQLite has no time zones, so the
    UTC wall time is stored and UTC is attached again on the way out. Naive
    datetimes are refused: they are always a bug here.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class CrisisEvent(Base):
    """A crisis raised in a conversation; resolved when the person says they are safe."""

    __tablename__ = "trd_crisis_events"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)
    category = sa.Column(sa.String(64), nullable=False)
    message_excerpt = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False)
    resolved_at = sa.Column(UTCDateTime, nullable=True)
    # The id of the message that raised it (a turn handled again records the crisis once).
    message_id = sa.Column(sa.String(255), nullable=True)

    __table_args__ = (sa.Index(None, "conversation_id", "message_id", unique=True),)


class SafetyPlanRow(Base):
    """A conversation's safety plan (one per conversation)."""

    __tablename__ = "trd_safety_plans"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, unique=True)
    sections = sa.Column(JSONType, nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False)


class IntakeRow(Base):
    """A conversation's intake record (intake.schema.json), one per conversation."""

    __tablename__ = "trd_intakes"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, unique=True)
    record = sa.Column(JSONType, nullable=False)
    created_at = sa.Column(UTCDateTime, nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False)
