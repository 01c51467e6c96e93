"""Roles: admins manage the team and the settings, checked in one place for every admin page."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placeevents.audit.models import AuditEntry
from placeevents.auth.models import Organiser, Role
from placeevents.extensions import db
from tests.test_team.conftest import sign_in


def _admin_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("manage.admin."):
            continue
        path = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


def test_every_admin_url_refuses_an_organiser_who_is_not_an_admin(
    app: Flask, colleague_client: FlaskClient, admin: Any
) -> None:
    urls = _admin_urls(app)
    assert ("GET", "/manage/team/") in urls and ("GET", "/manage/settings/") in urls
    assert ("POST", "/manage/team/invite") in urls
    before = db.session.scalar(select(Organiser).where(Organiser.email == admin.email))
    for method, path in urls:
        response = colleague_client.open(path, method=method, data={"role": "organiser"})
        assert response.status_code == 403, (method, path)
    db.session.expire_all()
    assert before.role == Role.ADMIN and before.active


def test_an_admin_reaches_every_admin_page(app: Flask, admin_client: FlaskClient) -> None:
    for method, path in _admin_urls(app):
        if method == "GET":
            assert admin_client.get(path).status_code == 200, path


def test_the_nav_shows_team_and_settings_to_admins_only(
    admin_client: FlaskClient, colleague_client: FlaskClient
) -> None:
    assert "/manage/team/" in admin_client.get("/manage/").get_data(as_text=True)
    html = colleague_client.get("/manage/").get_data(as_text=True)
    assert "/manage/team/" not in html and "/manage/settings/" not in html
    assert "/manage/account/" in html


def test_an_organiser_still_runs_enquiries(colleague_client: FlaskClient) -> None:
    assert colleague_client.get("/manage/enquiries/").status_code == 200
    assert colleague_client.get("/manage/account/").status_code == 200


def test_an_admin_changes_roles_and_it_is_audited(
    admin_client: FlaskClient, colleague: Any
) -> None:
    response = admin_client.post(f"/manage/team/{colleague.id}/role", data={"role": "admin"})
    assert response.status_code == 302
    db.session.expire_all()
    assert colleague.role == Role.ADMIN
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "team.role")).one()
    assert entry.actor == "ada@example.org" and "otto@example.org" in entry.detail


def test_the_last_admin_cannot_be_demoted_or_deactivated(
    admin_client: FlaskClient, admin: Any, colleague: Any
) -> None:
    demote = admin_client.post(f"/manage/team/{admin.id}/role", data={"role": "organiser"})
    assert demote.status_code == 302
    page = admin_client.get("/manage/team/").get_data(as_text=True)
    assert "The last admin cannot stop being one" in page
    # The page offers no button that would be refused: the only admin stays one.
    assert "(the only one, so stays one)" in page
    assert f"/manage/team/{admin.id}/role" not in page
    admin_client.post(f"/manage/team/{admin.id}/deactivate")
    db.session.expire_all()
    assert admin.role == Role.ADMIN and admin.active
    # With a second admin, the first may step down.
    admin_client.post(f"/manage/team/{colleague.id}/role", data={"role": "admin"})
    page = admin_client.get("/manage/team/").get_data(as_text=True)
    assert f"/manage/team/{admin.id}/role" in page
    admin_client.post(f"/manage/team/{admin.id}/role", data={"role": "organiser"})
    db.session.expire_all()
    assert admin.role == Role.ORGANISER and colleague.role == Role.ADMIN
    # ...and is no admin any more.
    assert admin_client.get("/manage/team/").status_code == 403


def test_an_invited_admin_who_never_joined_does_not_count_as_an_admin(
    admin_client: FlaskClient, admin: Any, smtp: Any
) -> None:
    admin_client.post("/manage/team/invite", data={"email": "new@example.org", "role": "admin"})
    admin_client.post(f"/manage/team/{admin.id}/deactivate")
    db.session.expire_all()
    assert admin.active


def test_deactivation_ends_live_sessions_at_once_and_reactivation_lets_them_back(
    app: Flask, admin_client: FlaskClient, colleague: Any, colleague_client: FlaskClient
) -> None:
    assert colleague_client.get("/manage/").status_code == 200
    assert admin_client.post(f"/manage/team/{colleague.id}/deactivate").status_code == 302
    ended = colleague_client.get("/manage/")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")
    assert sign_in(app.test_client(), colleague.email).status_code == 422
    admin_client.post(f"/manage/team/{colleague.id}/reactivate")
    assert sign_in(app.test_client(), colleague.email).status_code == 302
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "team.deactivate" in actions and "team.reactivate" in actions


def test_the_first_organiser_the_command_creates_is_an_admin(runner: Any) -> None:
    first = runner.invoke(
        args=["organiser", "create", "a@example.org", "--name", "A", "--password", "x" * 12]
    )
    second = runner.invoke(
        args=["organiser", "create", "b@example.org", "--name", "B", "--password", "x" * 12]
    )
    assert first.exit_code == 0 and second.exit_code == 0
    assert "Created admin a@example.org" in first.output
    assert "Created organiser b@example.org" in second.output
    roles = dict(db.session.execute(select(Organiser.email, Organiser.role)).all())
    assert roles == {"a@example.org": Role.ADMIN, "b@example.org": Role.ORGANISER}
