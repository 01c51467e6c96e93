"""Benchmark: score one message of every kind the app sends with SpamAssassin's local rules.

Builds the messages as tests/test_mail/every_kind.py does (the demo enquiry and the hostile
tests' world in a temporary SQLite database), with a real https base URL and sender domain, so
that what the test environment alone would trip (links to localhost, a made-up sender) does
not hide real defects. Each message, as queued for the wire, is piped through
`spamassassin -L -t` (local tests only: no network, no DNS, no Bayes training) and the kind,
score and rules that fired are printed, each rule marked as an artefact of this run or not.

    .venv/bin/python benchmarks/mail_scores.py [--max-score 1.0] [--kind NAME ...]

Target: every kind parses cleanly and scores from 0 to 1. Exits 1 when one scores above
--max-score. Needs `spamassassin` (Debian: apt-get install spamassassin; the shipped rules,
no sa-update).
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from placeevents import create_app  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from tests.test_mail.every_kind import every_kind_of_mail  # noqa: E402
from tests.test_mail.spamassassin import ENVIRONMENT_RULES, available, score_all  # noqa: E402

BASE_URL = "https://events.placeevents.org.uk"
SENDER = "Total Place 2.0 <enquiry@placeevents.org.uk>"


def build_messages(base_url: str = BASE_URL, sender: str = SENDER) -> dict[str, bytes]:
    """One message of every kind, as its bytes go on the wire, in a throwaway database."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "PLACEEVENTS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/mail_scores.db",
            "PLACEEVENTS_BASE_URL": base_url,
            "MAIL_DEFAULT_SENDER": sender,
            "WTF_CSRF_ENABLED": False,
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            messages = {kind: row.raw for kind, row in every_kind_of_mail().items()}
            db.session.rollback()
            db.engine.dispose()
    return messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-score", type=float, default=1.0)
    parser.add_argument("--kind", action="append", help="score only these kinds")
    parser.add_argument("--base-url", default=BASE_URL, help=f"links' base (default {BASE_URL})")
    parser.add_argument("--sender", default=SENDER, help=f"From (default {SENDER})")
    parser.add_argument("--show", help="print this kind's message as sent, then stop")
    args = parser.parse_args()
    if not available():
        print("spamassassin not found: apt-get install spamassassin", file=sys.stderr)
        return 2
    messages = build_messages(args.base_url, args.sender)
    if args.show:
        sys.stdout.write(messages[args.show].decode("utf-8", "replace"))
        return 0
    wanted = {k: v for k, v in messages.items() if not args.kind or k in args.kind}
    scores = score_all(wanted)
    print(f"{'kind':32} {'score':>6}  rules (* = artefact of this environment)")
    for result in scores:
        fired = ", ".join(
            f"{name}{'*' if name in ENVIRONMENT_RULES else ''} {points:+.1f}"
            for name, points, _ in result.rules
        )
        print(f"{result.kind:32} {result.score:6.1f}  {fired}")
    over = [s.kind for s in scores if s.score > args.max_score]
    print(f"{len(scores)} kinds; highest {max(s.score for s in scores):.1f}; "
          f"above {args.max_score}: {', '.join(over) or 'none'}")  # fmt: skip
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
