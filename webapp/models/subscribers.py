"""Subscriber lines and their monthly revenue and traffic.

Money is stored as integer cents (``*_cents``): exact on SQLite and PostgreSQL alike,
so rule thresholds never meet float rounding.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain import SubscriberStatus
from webapp.database import db
from webapp.models.types import enum_column_type


class Subscriber(db.Model):
    """A user line, as sent by billing, the arrears feed and the line-plant feed."""

    __tablename__ = "subscriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Service (access) number, the line's identity in every feed.
    service_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    install_address: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[SubscriberStatus] = mapped_column(
        enum_column_type(SubscriberStatus, "subscriber_status")
    )
    #: Billing contract; subscribers sharing it form one customer.
    contract_number: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    billing_area_id: Mapped[int] = mapped_column(ForeignKey("billing_area.id"), index=True)
    #: Junction box code from the weekly line-plant feed (None until it arrives).
    junction_box_code: Mapped[str | None] = mapped_column(String(32), index=True)
    install_date: Mapped[date] = mapped_column(Date)
    product: Mapped[str | None] = mapped_column(String(100))
    prepaid: Mapped[bool] = mapped_column(Boolean)
    balance_cents: Mapped[int | None] = mapped_column(BigInteger)
    agreement_end_date: Mapped[date | None] = mapped_column(Date)
    arrears_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    arrears_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: What the line's last evaluation left for the next incremental one
    #: (:mod:`webapp.classification.partial`): the community its rules gave (None: none,
    #: or an error; a pin does not change it), the first date on which time alone may
    #: change one of its outcomes, and the revenue sums its customer's facts read (12
    #: months, the 3 before the latest, the latest: None without data) over the year
    #: ending with ``revenue_month``.
    rule_community: Mapped[str | None] = mapped_column(String(40))
    due_on: Mapped[date | None] = mapped_column(Date)
    revenue_month: Mapped[date | None] = mapped_column(Date)
    revenue_12m_cents: Mapped[int | None] = mapped_column(BigInteger)
    revenue_prev3_cents: Mapped[int | None] = mapped_column(BigInteger)
    revenue_this_cents: Mapped[int | None] = mapped_column(BigInteger)


class SubscriberMonth(db.Model):
    """One subscriber's revenue (cents) and traffic for one month, by category."""

    __tablename__ = "subscriber_month"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True
    )
    #: First day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    local_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    long_distance_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    international_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    data_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    value_added_revenue_cents: Mapped[int] = mapped_column(BigInteger)
    local_minutes: Mapped[int] = mapped_column(Integer)
    long_distance_minutes: Mapped[int] = mapped_column(Integer)
    international_minutes: Mapped[int] = mapped_column(Integer)
    data_mb: Mapped[int] = mapped_column(BigInteger)
    value_added_uses: Mapped[int] = mapped_column(Integer)
