"""Column types shared by the models."""

from enum import StrEnum

from sqlalchemy import Enum


def enum_column_type(enum_cls: type[StrEnum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the ``.value``s.

    Native PostgreSQL enums would make adding a value a migration of its own on each
    database; a CHECK constraint behaves the same on SQLite and PostgreSQL.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
