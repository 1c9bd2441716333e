"""Summary tables of the fixed reports, refreshed by classification runs
(:mod:`webapp.reports.refresh`), keyed by community so that an org scope (a set of
communities) filters them with one index range, never a scan of customers or lines.

Text keys that may be missing (a customer not yet classified, a decision without a rule)
hold ``""``: key columns stay NOT NULL on both databases.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.database import db


class ReportPopulation(db.Model):
    """Customers and lines per community × statistical attribute × service tier.

    A customer counts once, in its *home community*: the lowest code among its lines'
    communities (as the division review shows it); a line in its own community, with
    its customer's attribute and tier."""

    __tablename__ = "report_population"

    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    statistical_attribute: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_tier: Mapped[str] = mapped_column(String(64), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    subscribers: Mapped[int] = mapped_column(Integer)


class ReportArrival(db.Model):
    """This month's arrivals (customers created since the first of the summary's month)
    per community they are counted in: the unassigned community still holding one of
    their lines (``waiting``; the lowest code if several), else their home community."""

    __tablename__ = "report_arrival"

    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    waiting: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)


class ReportStock(db.Model):
    """Lines of a community by current status and month: installed, disconnected, billed
    (a revenue row that month) and revenue. Months before the report's 13 collapse into
    the month just before them (the opening stock)."""

    __tablename__ = "report_stock"

    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: First day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    installed: Mapped[int] = mapped_column(Integer)
    #: Derived: see :mod:`webapp.reports.stock`.
    disconnected: Mapped[int] = mapped_column(Integer)
    billed: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class ReportGroup(db.Model):
    """Members of a customer group per home community, their lines and revenue of the
    report month and the month before (lines counted in their own community)."""

    __tablename__ = "report_group"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    subscribers: Mapped[int] = mapped_column(Integer)
    revenue_this_cents: Mapped[int] = mapped_column(BigInteger)
    revenue_last_cents: Mapped[int] = mapped_column(BigInteger)


class ReportRuleDecision(db.Model):
    """How many current values each rule decides, per subject and community (customers
    in their home community). Pins are not counted: no rule decides them."""

    __tablename__ = "report_rule_decision"

    #: ``customer`` or ``subscriber``.
    subject: Mapped[str] = mapped_column(String(16), primary_key=True)
    ruleset_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    decided: Mapped[int] = mapped_column(Integer)


class ReportRuleChange(db.Model):
    """Adjustment-log rows written by each rule per day of the operator's calendar and
    community of the subject (its community when the day was summarised)."""

    __tablename__ = "report_rule_change"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    ruleset_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community: Mapped[str] = mapped_column(String(40), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer)


class ReportRefresh(db.Model):
    """When each summary was last refreshed, by which run, for which day."""

    __tablename__ = "report_refresh"

    #: ``population``, ``division``, ``stock``, ``groups``, ``rules``.
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(Integer)
    #: The newest adjustment-log row then: a later one is a change the summary lacks.
    log_id: Mapped[int | None] = mapped_column(BigInteger)
