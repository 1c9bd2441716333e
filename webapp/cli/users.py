"""``custclass users ...``: staff accounts from the command line (the first admin)."""

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.domain import StaffRole
from webapp.config import LOCALES
from webapp.database import db
from webapp.models import StaffUser
from webapp.orgtree import staff


@click.group("users")
def users_group() -> None:
    """Create and list the staff who sign in to the web UI."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in StaffRole]), required=True)
@click.option("--name", "display_name", help="Name shown in the UI and the audit log.")
@click.option("--org", "org_code", help="Org unit code of the person's scope "
              "(default: the whole province).")
@click.option("--locale", type=click.Choice(LOCALES), default="zh", show_default=True)
@click.password_option(help="Prompted for when not given (at least 10 characters).")
@with_appcontext
def create_command(username: str, role: str, display_name: str | None, org_code: str | None,
                   locale: str, password: str) -> None:
    """Create a staff account."""
    create_user(username, StaffRole(role), display_name or username, org_code, locale,
                password)
    click.echo(f"created {username} ({role})")


def create_user(username: str, role: StaffRole, display_name: str, org_code: str | None,
                locale: str, password: str, *, audited: bool = True) -> StaffUser:
    """Create a staff account with the admin page's rules (``webapp.orgtree.staff``);
    ClickException with the reason when refused."""
    try:
        user = staff.create_staff(db.session, username=username, display_name=display_name,
                                  role=role, org_code=org_code, locale=locale,
                                  password=password, by_id=None, now=datetime.now(UTC),
                                  audited=audited)
    except staff.StaffRefusal as refusal:
        raise click.ClickException(str(refusal)) from None
    db.session.commit()
    return user


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every account with its role, scope and whether it is active."""
    for user in db.session.scalars(select(StaffUser).order_by(StaffUser.username)):
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username}\t{user.role.value}\t{user.display_name}\t{state}")


#: Accounts ``custclass demo`` creates on a development installation, one per role.
DEMO_ACCOUNTS = {
    "demo-admin": (StaffRole.ADMIN, "管理员 Admin"),
    "demo-analyst": (StaffRole.ANALYST, "业务分析员 Analyst"),
    "demo-manager": (StaffRole.CHANNEL_MANAGER, "渠道经理 Manager"),
    "demo-auditor": (StaffRole.AUDITOR, "审计员 Auditor"),
    "demo-viewer": (StaffRole.VIEWER, "只读 Viewer"),
}


def demo_password(username: str) -> str:
    return f"{username}-2026"


def ensure_demo_accounts() -> list[str]:
    """Create the demo accounts that do not exist yet; returns lines saying how to sign in.
    Never on a production installation (their passwords are published)."""
    if current_app.config["CUSTCLASS_ENV"] == "production":
        return []
    for username, (role, name) in DEMO_ACCOUNTS.items():
        if not db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            # Not audited: a development fixture, not a change anyone made.
            create_user(username, role, name, None, "zh", demo_password(username),
                        audited=False)
    return [f"  {username:13} password {demo_password(username):19} ({role.value})"
            for username, (role, _name) in DEMO_ACCOUNTS.items()]
