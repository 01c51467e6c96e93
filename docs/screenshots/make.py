"""Take the README's screenshots: the demo enquiry served on a free port, photographed by
Debian's Chromium through Playwright.

    .venv/bin/python docs/screenshots/make.py

Writes home-375.png and rsvp-375.png (a phone) and responses-1280.png (a desktop organiser page)
beside this file. The demo is dated from today, so the pictures change a little with each run.
"""

import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from placeevents import create_app  # noqa: E402
from placeevents.auth.services import create_organiser  # noqa: E402
from placeevents.clock import utcnow  # noqa: E402
from placeevents.demo import load_demo  # noqa: E402
from placeevents.events.models import Event, EventStatus  # noqa: E402
from placeevents.extensions import db  # noqa: E402
from placeevents.invitations.links import rsvp_token  # noqa: E402
from placeevents.invitations.models import Invitation  # noqa: E402

HERE = Path(__file__).resolve().parent
PASSWORD = "screenshot organiser password"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "PLACEEVENTS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/screens.db",
            "MAIL_SUPPRESS_SEND": True,
            "RATELIMIT_ENABLED": False,
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            create_organiser(email="olive@example.org", name="Olive", password=PASSWORD)
            load_demo()
            db.session.commit()
            now = utcnow()
            event = db.session.scalars(
                select(Event)
                .where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now)
                .order_by(Event.starts_at)
            ).first()
            invitation = db.session.scalars(
                select(Invitation).where(Invitation.event_id == event.id).order_by(Invitation.id)
            ).first()
            rsvp, responses = f"/rsvp/{rsvp_token(invitation)}", (
                f"/manage/invitations/events/{event.id}/responses"
            )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            shoot(url, rsvp, responses)
        finally:
            server.shutdown()


def shoot(url: str, rsvp: str, responses: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        phone = browser.new_page(viewport=PHONE, locale="en-GB", device_scale_factor=1)
        phone.goto(url + "/")
        phone.screenshot(path=str(HERE / "home-375.png"))
        phone.goto(url + rsvp)
        phone.screenshot(path=str(HERE / "rsvp-375.png"))
        desktop = browser.new_page(viewport=DESKTOP, locale="en-GB")
        desktop.goto(url + "/login")
        desktop.get_by_label("Email").fill("olive@example.org")
        desktop.get_by_label("Password").fill(PASSWORD)
        desktop.get_by_role("button", name="Log in").click()
        desktop.wait_for_url(lambda address: "/login" not in address)
        desktop.goto(url + responses)
        desktop.screenshot(path=str(HERE / "responses-1280.png"))
        browser.close()
    for name in ("home-375.png", "rsvp-375.png", "responses-1280.png"):
        print(f"{name}: {(HERE / name).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
