"""flask export calendar ENQUIRY_SLUG -o FILE: the whole enquiry as one .ics file."""

from pathlib import Path

import click

from placeevents.calendar.services import CalendarNotFound, enquiry_feed, enquiry_feed_state
from placeevents.exports.cli import export_cli


@export_cli.command("calendar")
@click.argument("enquiry_slug")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The .ics file to write ('-' for standard output).",
)
def export_calendar(enquiry_slug: str, output: str) -> None:
    """Write an enquiry's published and cancelled events as one iCalendar file."""
    try:
        file = enquiry_feed(state=enquiry_feed_state(slug=enquiry_slug))
    except CalendarNotFound as exc:
        raise click.ClickException(f"{exc} ({enquiry_slug!r})") from exc
    if output == "-":
        click.get_binary_stream("stdout").write(file.body)
        return
    Path(output).write_bytes(file.body)
    click.echo(f"Wrote {file.events} events to {output}.")
