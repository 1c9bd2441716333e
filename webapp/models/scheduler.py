"""The scheduler's job store: APScheduler's own table, declared here so that migrations
create it (APScheduler would otherwise create it on first start, outside Alembic)."""

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from webapp.database import db

#: Table name passed to APScheduler's ``SQLAlchemyJobStore``; columns as it defines them.
SCHEDULER_JOB_TABLE = "scheduler_job"

scheduler_job = Table(
    SCHEDULER_JOB_TABLE,
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
