"""flask export …: the command group every export command joins."""

from pathlib import Path

import click
from flask.cli import AppGroup

from placeevents.exports import services
from placeevents.exports.rows import COLUMNS, DEFAULT_COLUMNS, DEFAULT_WHO, WHO
from placeevents.extensions import db

export_cli = AppGroup("export", help="Export lists and calendars to files.")


def _format(chosen: str | None, output: Path) -> str:
    if chosen:
        return chosen
    return "xlsx" if output.suffix.lower() == ".xlsx" else "csv"


def _write(download: services.Download, output: Path) -> None:
    # Committed first, as on the web: the export is recorded even if writing fails midway.
    db.session.commit()
    with output.open("wb") as file:
        for chunk in download.chunks:
            file.write(chunk)


@export_cli.command("attendees")
@click.argument("event_slug")
@click.option(
    "--status",
    "who",
    multiple=True,
    type=click.Choice(list(WHO)),
    help=f"Who to include (repeatable; default: {', '.join(DEFAULT_WHO)}).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    type=click.Choice(list(COLUMNS)),
    help=f"Columns, in order (repeatable; default: {', '.join(DEFAULT_COLUMNS)}).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(services.FORMATS),
    help="csv or xlsx (default: from the output file's extension, else csv).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def attendees(
    event_slug: str, who: tuple[str, ...], columns: tuple[str, ...], fmt: str | None, output: Path
) -> None:
    """Write an event's attendee list to a CSV or XLSX file."""
    try:
        event = services.get_event(slug=event_slug)
        download = services.export_attendees(
            event=event,
            who=who or DEFAULT_WHO,
            columns=columns or DEFAULT_COLUMNS,
            fmt=_format(fmt, output),
        )
    except services.ExportError as error:
        raise click.ClickException(error.message) from error
    _write(download, output)
    click.echo(f"Wrote {download.rows} people to {output}.")


@export_cli.command("matrix")
@click.argument("enquiry_slug")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(services.FORMATS),
    help="csv or xlsx (default: from the output file's extension, else csv).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def matrix(enquiry_slug: str, fmt: str | None, output: Path) -> None:
    """Write an enquiry's attendance matrix (people × events) to a CSV or XLSX file."""
    try:
        enquiry = services.get_enquiry(slug=enquiry_slug)
        download = services.export_matrix(enquiry=enquiry, fmt=_format(fmt, output))
    except services.ExportError as error:
        raise click.ClickException(error.message) from error
    _write(download, output)
    click.echo(f"Wrote {download.rows} people to {output}.")
