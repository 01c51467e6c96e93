"""flask export subscribers: the mailing list as CSV, recorded in the audit log."""

from pathlib import Path

import click

from placeevents.exports.cli import export_cli
from placeevents.exports.csv import write_csv
from placeevents.extensions import db
from placeevents.newsletter import services
from placeevents.newsletter.models import SubscriberStatus


@export_cli.command("subscribers")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write.",
)
@click.option(
    "--status",
    type=click.Choice([s.value for s in SubscriberStatus]),
    help="Only subscribers with this status.",
)
def export_subscribers(output: Path, status: str | None) -> None:
    """Write the mailing list to a CSV file (UTF-8 with BOM, formulas neutralised)."""
    filters = services.SubscriberFilter(status=SubscriberStatus(status) if status else None)
    rows = services.export_subscribers(filters=filters)
    with output.open("w", encoding="utf-8", newline="") as stream:
        count = write_csv(stream, services.EXPORT_HEADER, rows)
    db.session.commit()
    click.echo(f"Wrote {count} subscribers to {output}.")
