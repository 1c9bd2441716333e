"""Customers, their classification values and customer groups."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from engine.domain import ClassifiedAttribute, DecisionSource, VipCard
from webapp.database import db
from webapp.models.types import enum_column_type


class Customer(db.Model):
    """The subscribers sharing one contract number."""

    __tablename__ = "customer"
    __table_args__ = (
        # Search by name prefix (LIKE 'x%'): PostgreSQL uses a pattern index whatever the
        # database's collation.
        Index("ix_customer_name_pattern", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Customer code shown to staff and used in spreadsheets: ``C`` + contract number.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    contract_number: Mapped[str] = mapped_column(String(32), unique=True)
    #: Name of the first subscriber seen on the contract.
    name: Mapped[str] = mapped_column(String(200))
    #: Code in the provincial key-account system while on the key-account list.
    key_account_code: Mapped[str | None] = mapped_column(String(32))
    account_manager: Mapped[str | None] = mapped_column(String(100))
    vip_card: Mapped[VipCard] = mapped_column(
        enum_column_type(VipCard, "vip_card"), default=VipCard.NONE, server_default="none"
    )
    #: When the customer first appeared (the monthly division lists this month's arrivals).
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    #: When a run last evaluated the customer, with all its lines or only its changed
    #: ones (:mod:`webapp.classification.partial`); None: never.
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: First date on which time alone may change an outcome of the customer or one of its
    #: lines (a tenure or agreement threshold, the month turning); None: never. The daily
    #: *due* run evaluates the customers due by its date.
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: What the last evaluation left for the next incremental one
    #: (:mod:`webapp.classification.partial`): a digest of the customer rulesets'
    #: outcomes (None: never evaluated since these were kept), and the 12-month revenue
    #: total of its lines in the year ending with ``revenue_month``.
    outputs_digest: Mapped[str | None] = mapped_column(String(64))
    revenue_12m_cents: Mapped[int | None] = mapped_column(BigInteger)
    revenue_month: Mapped[date | None] = mapped_column(Date)


class DecisionMixin:
    """A classification value and where it came from: a rule, or a staff member's pin."""

    attribute: Mapped[ClassifiedAttribute] = mapped_column(
        enum_column_type(ClassifiedAttribute, "classified_attribute"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(64))
    source: Mapped[DecisionSource] = mapped_column(
        enum_column_type(DecisionSource, "decision_source")
    )
    #: The rule that decided (``default`` for a ruleset's default), and its ruleset version.
    rule_id: Mapped[str | None] = mapped_column(String(64))
    ruleset_name: Mapped[str | None] = mapped_column(String(64))
    ruleset_version: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Pin: who, why and until when (None = until released by hand).
    pin_reason: Mapped[str | None] = mapped_column(Text)
    pin_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: While pinned: what the rules would decide, so analysts see the disagreement.
    rule_value: Mapped[str | None] = mapped_column(String(64))

    @declared_attr
    def pinned_by_id(cls) -> Mapped[int | None]:  # noqa: N805 - SQLAlchemy declared_attr
        return mapped_column(ForeignKey("staff_user.id"))


class CustomerDecision(DecisionMixin, db.Model):
    """Current value of one classified attribute of a customer."""

    __tablename__ = "customer_decision"
    __table_args__ = (Index("ix_customer_decision_attribute_value", "attribute", "value"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )


class SubscriberDecision(DecisionMixin, db.Model):
    """Current value of one classified attribute of a subscriber (e.g. its community)."""

    __tablename__ = "subscriber_decision"
    __table_args__ = (Index("ix_subscriber_decision_attribute_value", "attribute", "value"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True
    )


class GroupType(db.Model):
    """Kind of customer group: building, residential estate, industrial park, ..."""

    __tablename__ = "group_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


customer_group_member = Table(
    "customer_group_member",
    db.metadata,
    Column("group_id", ForeignKey("customer_group.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class CustomerGroup(db.Model):
    """A named set of customers (a building, an estate), imported from a spreadsheet."""

    __tablename__ = "customer_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    group_type_id: Mapped[int] = mapped_column(ForeignKey("group_type.id"), index=True)
    #: The org unit whose staff keep the group (None: kept province-wide); channel
    #: managers see and change the groups of their own subtree.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
