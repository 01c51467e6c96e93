"""flask export …: the command group every export command joins."""

from flask.cli import AppGroup

export_cli = AppGroup("export", help="Export lists and calendars to files.")
