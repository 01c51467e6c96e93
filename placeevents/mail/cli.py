"""flask outbox send|list|retry: deliver and inspect the outbox from the command line."""

import click
from flask.cli import AppGroup

from placeevents.extensions import db
from placeevents.mail.delivery import deliver_due
from placeevents.mail.models import OutboxStatus
from placeevents.mail.services import MailError, outbox_overview, retry_message

outbox_cli = AppGroup("outbox", help="Deliver and inspect queued mail.")


@outbox_cli.command("send")
def send_command() -> None:
    """Deliver every due message once and exit, printing what happened."""
    report = deliver_due()
    click.echo(str(report))
    if report.stopped:
        raise SystemExit(1)


@outbox_cli.command("list")
def list_command() -> None:
    """List pending and failed messages, with the reason of each failure or delay."""
    overview = outbox_overview(limit=1000)
    click.echo(
        f"{overview.counts[OutboxStatus.PENDING]} pending, "
        f"{overview.counts[OutboxStatus.FAILED]} failed, {overview.counts[OutboxStatus.SENT]} sent"
    )
    for message in [*overview.pending, *overview.failed]:
        recipients = ", ".join(message.recipient_list)
        click.echo(
            f"{message.id:>6}  {message.status.value:<7}  attempts {message.attempts}  "
            f"next {message.next_attempt_at:%Y-%m-%d %H:%M:%S}Z  {message.kind or '-'}  "
            f"to {recipients}  {message.subject!r}"
        )
        if message.last_error:
            click.echo(f"        reason: {message.last_error}")


@outbox_cli.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id: int) -> None:
    """Make a failed message due again."""
    try:
        message = retry_message(message_id=message_id)
    except MailError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"message {message.id} is due again")
