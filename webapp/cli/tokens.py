"""``custclass tokens ...``: API tokens from the command line."""

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.api import tokens
from webapp.database import db
from webapp.models import StaffUser


@click.group("tokens")
def tokens_group() -> None:
    """Issue, list and revoke the API tokens other systems call the JSON API with."""


@tokens_group.command("create")
@click.argument("name")
@click.option("--user", "username", required=True,
              help="The staff account the token acts as: its role and org scope apply.")
@with_appcontext
def create_command(name: str, username: str) -> None:
    """Issue a token named NAME; prints the secret, which is not shown again."""
    owner = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if owner is None:
        raise click.ClickException(f"no staff account {username!r}")
    try:
        issued = tokens.issue(db.session, owner, name, datetime.now(UTC))
    except tokens.TokenError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"token #{issued.token.id} {issued.token.name!r} acting as {owner.username} "
               f"({owner.role.value}); keep the secret, it is not shown again:", err=True)
    click.echo(issued.secret)


@tokens_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every token: id, start of the secret, name, account, created, last used, state."""
    for token, owner in tokens.tokens(db.session):
        state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "live"
        click.echo("\t".join([f"#{token.id}", f"{token.prefix}…", token.name, owner.username,
                              _when(token.created_at), _when(token.last_used_at) or "never",
                              state]))


@tokens_group.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke token TOKEN_ID (see ``tokens list``): calls with it answer 401 from now on."""
    try:
        token = tokens.revoke(db.session, token_id, datetime.now(UTC))
    except tokens.TokenError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"revoked token #{token.id} {token.name!r}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""
