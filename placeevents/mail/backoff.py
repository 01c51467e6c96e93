"""How long a failed attempt waits before the next: shared by mail and mail requests."""

import random
from datetime import timedelta

from flask import current_app


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after the given failed attempt: doubling, capped, with jitter."""
    config = current_app.config
    ceiling = min(config["MAIL_RETRY_MAX_DELAY"], config["MAIL_RETRY_DELAY"] * 2 ** (attempt - 1))
    # Jitter spreads the retries of a batch that failed together.
    return timedelta(seconds=max(1.0, random.uniform(ceiling / 2, ceiling)))
