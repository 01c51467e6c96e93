"""flask organiser create / list."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from placeevents.auth.models import Organiser, Role
from placeevents.auth.services import OrganiserError, create_organiser
from placeevents.extensions import db

organiser_cli = AppGroup("organiser", help="Manage organiser accounts.")


@organiser_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The organiser's name.")
@click.password_option("--password", help="Prompted for (twice) when not given.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=None,
    help="admin or organiser (default: admin for the first organiser, organiser after).",
)
def create_command(email: str, name: str, password: str, role: str | None) -> None:
    """Create an organiser who can log in at /login; the first one is an admin."""
    try:
        organiser = create_organiser(
            email=email, name=name, password=password, role=Role(role) if role else None
        )
    except OrganiserError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {organiser.role} {organiser.email}.")


@organiser_cli.command("list")
def list_command() -> None:
    """List organiser accounts."""
    organisers = db.session.scalars(select(Organiser).order_by(Organiser.email)).all()
    if not organisers:
        click.echo("No organisers yet: flask --app placeevents organiser create EMAIL --name NAME")
    for organiser in organisers:
        state = "" if organiser.active else " (disabled)"
        click.echo(f"{organiser.email}\t{organiser.name}\t{organiser.role}{state}")
