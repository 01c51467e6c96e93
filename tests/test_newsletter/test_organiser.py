"""The organiser's pages: the list, adding a person, import, export and the CLI."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placeevents.audit.models import AuditEntry
from placeevents.clock import utcnow
from placeevents.erasure import erase_person
from placeevents.extensions import db
from placeevents.mail.bounces import record_bounce
from placeevents.newsletter.models import (
    ConsentSource,
    ImportBatch,
    ImportStatus,
    Subscriber,
    SubscriberStatus,
)
from tests.conftest import count_queries

ORGANISER_PAGES = [
    ("get", "/manage/newsletter/"),
    ("get", "/manage/newsletter/new"),
    ("get", "/manage/newsletter/import"),
    ("get", "/manage/newsletter/erase"),
    ("get", "/manage/newsletter/1"),
    ("get", "/manage/newsletter/import/1"),
    ("post", "/manage/newsletter/import/1"),
    ("post", "/manage/newsletter/export.csv"),
    ("post", "/manage/newsletter/erase"),
]


@pytest.mark.parametrize(("method", "path"), ORGANISER_PAGES)
def test_organiser_pages_need_a_login(
    client: FlaskClient, make_subscriber: Callable[..., Any], method: str, path: str
) -> None:
    make_subscriber(email="ada@example.org")
    response = getattr(client, method)(path, data={"email": "ada@example.org"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1


def _people(make_subscriber: Callable[..., Any], n: int, **kw: Any) -> None:
    for i in range(n):
        make_subscriber(email=f"bulk{i}-{kw.get('status', 'c')}@example.org", **kw)


def test_the_list_with_search_filters_and_counts(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    make_subscriber(email="ada@example.org", name="Ada Lovelace", organisation="Leeds Council")
    make_subscriber(
        email="grace@example.org",
        name="Grace Hopper",
        status=SubscriberStatus.PENDING,
        wants_in_person=False,
        wants_news=True,
        consent_source=ConsentSource.ORGANISER,
    )
    make_subscriber(email="alan@example.org", status=SubscriberStatus.UNSUBSCRIBED)

    html = logged_in.get("/manage/newsletter/").get_data(as_text=True)
    assert "3 people" in html
    for label, n in (("Subscribed", 1), ("Awaiting confirmation", 1), ("Unsubscribed", 1)):
        assert f"<dt>{label}</dt><dd>{n}</dd>" in html

    def shown(query: str) -> set[str]:
        page = logged_in.get(f"/manage/newsletter/?{query}").get_data(as_text=True)
        return {e for e in ("ada@", "grace@", "alan@") if e in page}

    assert shown("q=leeds") == {"ada@"}
    assert shown("q=HOPPER") == {"grace@"}
    assert shown("q=%25") == set()
    assert shown("status=pending") == {"grace@"}
    assert shown("interest=news") == {"grace@"}
    assert shown("source=organiser") == {"grace@"}
    assert shown("status=confirmed&interest=in_person") == {"ada@"}
    bad = logged_in.get("/manage/newsletter/?status=everything")
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)


def test_the_list_page_is_headed_with_its_section(logged_in: FlaskClient) -> None:
    html = logged_in.get("/manage/newsletter/").get_data(as_text=True)
    assert '<p class="eyebrow">Mailing list</p>' in html
    assert "<h1>Subscribers</h1>" in html and "<title>Mailing list" in html


def test_the_list_runs_the_same_queries_for_few_and_many(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    _people(make_subscriber, 3)
    with count_queries() as few:
        assert logged_in.get("/manage/newsletter/").status_code == 200
    _people(make_subscriber, 40, status=SubscriberStatus.PENDING)
    with count_queries() as many:
        assert logged_in.get("/manage/newsletter/").status_code == 200
    assert len(few) == len(many)


def test_adding_a_person_who_asked_in_person(logged_in: FlaskClient, smtp: Any) -> None:
    form = {
        "name": "Kwame Asante",
        "email": "Kwame@Example.org",
        "wants_online": "y",
        "note": "Asked at the Leeds exploration",
    }
    response = logged_in.post("/manage/newsletter/new", data=form)
    assert response.status_code == 303
    person = db.session.scalar(select(Subscriber).where(Subscriber.email == "kwame@example.org"))
    assert person.status == SubscriberStatus.PENDING
    assert person.consent_source == ConsentSource.ORGANISER
    assert person.consent_note == "Asked at the Leeds exploration"
    assert "/newsletter/confirm/" in smtp.last_to("kwame@example.org").links()[0]
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Asked in person" in page and "Asked at the Leeds exploration" in page

    again = logged_in.post("/manage/newsletter/new", data=form)
    assert again.status_code == 422
    assert "already on the list" in again.get_data(as_text=True)
    assert len(smtp.to("kwame@example.org")) == 1


def _upload(client: FlaskClient, text: str, name: str = "list.csv") -> Any:
    return client.post(
        "/manage/newsletter/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data",
    )


IMPORT_CSV = """\ufeffName,Email,Organisation,Consent source,Consent date
New Person,new@example.org,Leeds Council,Emailed us to be added,2024-02-28
Dup Person,DUP@example.org,,Emailed us,2024-03-01
Dup Again,dup@example.org,Health Trust,Asked at an event,2024-03-02
Existing,ada@example.org,Fills A Blank,Emailed us,2024-03-01
Bounced,bounced@example.org,,Emailed us,2024-03-01
Left,left@example.org,,Emailed us,2024-03-01
Erased,erased@example.org,,Emailed us,2024-03-01
,,,,
No Email,,Org,Emailed us,2024-03-01
Bad,not-an-address,Org,Emailed us,2024-03-01
Injected,"x\r\nBcc: a@b",Org,Emailed us,2024-03-01
Long,long@example.org,Org,Emailed us,28/02/2024
Undated,undated@example.org,Org,Emailed us,
Future,future@example.org,Org,Emailed us,2999-01-01
Formula,formula@example.org,'=HYPERLINK(1),Emailed us,2024-03-01
"""


def test_import_with_preview_errors_duplicates_and_skips(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any], smtp: Any
) -> None:
    make_subscriber(email="ada@example.org", name="Ada", organisation="")
    make_subscriber(email="left@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    record_bounce(email="bounced@example.org", reason="550 no such user")
    make_subscriber(email="erased@example.org")
    erase_person(email="erased@example.org")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Subscriber))

    uploaded = _upload(logged_in, IMPORT_CSV.replace("Long,", "A" * 300 + ","))
    assert uploaded.status_code == 303
    preview = logged_in.get(uploaded.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == before
    assert "<dt>New</dt><dd>3</dd>" in html  # new@, dup@ (line 3) and formula@
    assert "<dt>Merged</dt><dd>2</dd>" in html  # dup@ again (line 4) and ada@
    assert "<dt>Skipped</dt><dd>3</dd>" in html
    assert "<dt>Rows with errors</dt><dd>6</dd>" in html
    for reason in (
        "same address as line 3",
        "mail to this address bounces",
        "this person unsubscribed",
        "erased at the person&#39;s request",
        "email: missing.",
        "Enter an email address like name@example.org.",
        "without line breaks",
        "name: longer than 200 characters.",
        "consent date: missing.",
        "consent date: in the future.",
    ):
        assert reason in html, reason

    batch_id = int(uploaded.headers["Location"].rsplit("/", 1)[1])
    done = logged_in.post(f"/manage/newsletter/import/{batch_id}")
    assert done.status_code == 303
    db.session.expire_all()
    people = {s.email: s for s in db.session.scalars(select(Subscriber))}
    assert {"new@example.org", "dup@example.org", "formula@example.org"} <= set(people)
    assert not {"bounced@example.org", "erased@example.org", "undated@example.org"} & set(people)
    assert people["left@example.org"].status == SubscriberStatus.UNSUBSCRIBED
    new = people["new@example.org"]
    assert new.status == SubscriberStatus.CONFIRMED and new.consent_source == ConsentSource.IMPORT
    assert new.consent_note == "Emailed us to be added" and new.import_batch_id == batch_id
    assert new.confirmed_at.date().isoformat() == "2024-02-28"
    assert new.wants_in_person and new.wants_online and not new.wants_news
    assert people["dup@example.org"].organisation == "Health Trust"
    assert people["ada@example.org"].name == "Ada"
    assert people["ada@example.org"].organisation == "Fills A Blank"
    assert people["formula@example.org"].organisation == "=HYPERLINK(1)"
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == ImportStatus.APPLIED and batch.content == ""
    assert (batch.added, batch.merged, batch.skipped, batch.errors) == (3, 2, 3, 6)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "newsletter.import"))
    assert "3 added, 2 merged, 3 skipped, 6 rows with errors" in audit.detail
    assert audit.actor == "organiser@example.org"
    assert smtp.messages == []
    # The same batch cannot be imported twice.
    assert logged_in.post(f"/manage/newsletter/import/{batch_id}").status_code == 303
    imports_recorded = select(func.count()).where(AuditEntry.action == "newsletter.import")
    assert db.session.scalar(imports_recorded) == 1


MERGE_CSV = """Name,Email,Organisation,Role,Interests,Consent source,Consent date
Amara D,amara@example.org,Leeds City Council,Head of Communities,online;news,Sheet,2024-03-01
Amara Again,amara@example.org,Other Council,,,Sheet,2024-03-02
Bea,bea@example.org,Bea Org,Chair,,Sheet,2024-03-01
Pat,pat@example.org,Pat Org,,news,Sheet,2024-03-01
"""


def test_an_import_merge_fills_blanks_adds_interests_and_keeps_consent(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    confirmed_at = utcnow() - timedelta(days=40)
    make_subscriber(
        email="amara@example.org",
        name="Amara Okafor",
        organisation="",
        role="",
        wants_in_person=True,
        wants_online=False,
        consent_source=ConsentSource.FORM,
        consent_text_version="2024-03",
        requested_at=confirmed_at,
        confirmed_at=confirmed_at,
        confirmed_ip="192.0.2.1",
    )
    make_subscriber(
        email="bea@example.org",
        name="Bea",
        organisation="Bea Org",
        role="Chair",
        consent_source=ConsentSource.ORGANISER,
        consent_note="Asked at Leeds",
        requested_at=confirmed_at,
        confirmed_at=confirmed_at,
    )
    make_subscriber(
        email="pat@example.org",
        name="Pat",
        status=SubscriberStatus.PENDING,
        wants_in_person=False,
        wants_online=True,
        requested_at=confirmed_at,
    )

    uploaded = _upload(logged_in, MERGE_CSV)
    html = logged_in.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "<dt>Merged</dt><dd>4</dd>" in html
    assert (
        "Organisation set to “Leeds City Council”; role set to “Head of Communities”; "
        "adds online events; adds news and updates." in html
    )
    assert "Nothing to change." in html  # line 3: the blanks were filled by line 2; Bea has all
    assert "Their consent record is kept as it is." in html
    assert (
        "Organisation set to “Pat Org”; adds news and updates. "
        "Not yet confirmed: confirmed on the consent in this file." in html
    )
    assert "their consent record is kept as it is" in html
    # The preview changes nothing.
    db.session.expire_all()
    amara = db.session.scalar(select(Subscriber).where(Subscriber.email == "amara@example.org"))
    assert amara.organisation == "" and not amara.wants_online

    batch_id = int(uploaded.headers["Location"].rsplit("/", 1)[1])
    assert logged_in.post(f"/manage/newsletter/import/{batch_id}").status_code == 303
    db.session.expire_all()
    people = {s.email: s for s in db.session.scalars(select(Subscriber))}
    amara = people["amara@example.org"]
    assert amara.name == "Amara Okafor"
    assert (amara.organisation, amara.role) == ("Leeds City Council", "Head of Communities")
    assert amara.wants_in_person and amara.wants_online and amara.wants_news
    assert amara.consent_source == ConsentSource.FORM and amara.consent_note == ""
    assert amara.consent_text_version == "2024-03" and amara.import_batch_id is None
    assert amara.confirmed_at == confirmed_at and amara.confirmed_ip == "192.0.2.1"
    bea = people["bea@example.org"]
    # No interests column value: Bea keeps exactly the interests she chose.
    assert bea.wants_in_person and bea.wants_online and not bea.wants_news
    assert bea.consent_source == ConsentSource.ORGANISER and bea.consent_note == "Asked at Leeds"
    pat = people["pat@example.org"]
    assert pat.status == SubscriberStatus.CONFIRMED and pat.consent_source == ConsentSource.IMPORT
    assert pat.wants_online and pat.wants_news and not pat.wants_in_person
    assert pat.organisation == "Pat Org"
    shown = logged_in.get(f"/manage/newsletter/{amara.id}").get_data(as_text=True)
    assert "Head of Communities" in shown and "Online events" in shown


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty."),
        ("name,organisation\nAda,Org\n", "including one called &#34;email&#34;"),
        ("email\n", "no people in it"),
        ("email\nada@example.org\x00\n", "not a CSV file we can read"),
    ],
)
def test_unreadable_files_are_refused_beside_the_field(
    logged_in: FlaskClient, content: str, message: str
) -> None:
    response = _upload(logged_in, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_export_neutralises_formulas_and_is_audited(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    make_subscriber(email="ada@example.org", name="=cmd|' /C calc'!A0", organisation="+SUM(1)")
    make_subscriber(email="bob@example.org", name="-2", organisation="@here", role="\tTab")
    make_subscriber(email="pending@example.org", status=SubscriberStatus.PENDING)
    response = logged_in.post("/manage/newsletter/export.csv", data={"status": "confirmed"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _read_csv(response.get_data())
    assert rows[0][:3] == ["email", "name", "organisation"]
    by_email = {r[0]: r for r in rows[1:]}
    assert set(by_email) == {"ada@example.org", "bob@example.org"}
    assert by_email["ada@example.org"][1] == "'=cmd|' /C calc'!A0"
    assert by_email["ada@example.org"][2] == "'+SUM(1)"
    assert by_email["bob@example.org"][1:4] == ["'-2", "'@here", "'\tTab"]
    assert response.get_data().count(b"\r\n") == 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "newsletter.export"))
    assert entry.detail == "2 rows (status=confirmed)"
    assert entry.actor == "organiser@example.org"


@pytest.mark.parametrize(
    ("enquiry_zone", "summer", "winter", "summer_iso", "winter_offset"),
    [
        (
            None,
            "Mon 1 July 2024, 10:30 BST",
            "Mon 2 December 2024, 09:30 GMT",
            "2024-07-01T10:30:00+01:00",
            "+00:00",
        ),
        (
            "America/New_York",
            "Mon 1 July 2024, 05:30 EDT",
            "Mon 2 December 2024, 04:30 EST",
            "2024-07-01T05:30:00-04:00",
            "-05:00",
        ),
    ],
)
def test_subscriber_times_are_shown_in_the_enquiry_zone(
    logged_in: FlaskClient,
    make_subscriber: Callable[..., Any],
    make_enquiry: Callable[..., Any],
    enquiry_zone: str | None,
    summer: str,
    winter: str,
    summer_iso: str,
    winter_offset: str,
) -> None:
    if enquiry_zone:
        make_enquiry(status="current", timezone=enquiry_zone)
    asked = datetime(2024, 7, 1, 9, 30, tzinfo=UTC)
    ada = make_subscriber(
        email="ada@example.org",
        requested_at=asked,
        confirmed_at=asked + timedelta(days=1),
        unsubscribed_at=datetime(2024, 12, 2, 9, 30, tzinfo=UTC),
    )
    html = logged_in.get(f"/manage/newsletter/{ada.id}").get_data(as_text=True)
    assert summer in html and winter in html and "UTC" not in html

    rows = _read_csv(logged_in.post("/manage/newsletter/export.csv").get_data())
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["requested_at"] == summer_iso
    assert row["confirmed_at"] == summer_iso.replace("07-01", "07-02")
    assert row["unsubscribed_at"].startswith("2024-12-02T")
    assert row["unsubscribed_at"].endswith(winter_offset)


def test_export_runs_the_same_queries_for_few_and_many(
    logged_in: FlaskClient, make_subscriber: Callable[..., Any]
) -> None:
    _people(make_subscriber, 2)
    with count_queries() as few:
        logged_in.post("/manage/newsletter/export.csv").get_data()
    _people(make_subscriber, 30, status=SubscriberStatus.PENDING)
    with count_queries() as many:
        logged_in.post("/manage/newsletter/export.csv").get_data()
    assert len(few) == len(many)


def test_flask_export_subscribers(
    app: Flask, runner: Any, make_subscriber: Callable[..., Any], tmp_path: Any
) -> None:
    make_subscriber(email="ada@example.org", name="=1+1")
    make_subscriber(email="left@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    target = tmp_path / "subscribers.csv"
    result = runner.invoke(args=["export", "subscribers", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 subscribers" in result.output
    rows = _read_csv(target.read_bytes())
    assert {r[0] for r in rows[1:]} == {"ada@example.org", "left@example.org"}
    assert [r[1] for r in rows[1:] if r[0] == "ada@example.org"] == ["'=1+1"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "newsletter.export"))
    assert entry.actor == "system" and entry.detail == "2 rows (everyone)"

    confirmed = runner.invoke(
        args=["export", "subscribers", "-o", str(target), "--status", "confirmed"]
    )
    assert confirmed.exit_code == 0 and "Wrote 1 subscribers" in confirmed.output


def test_stale_import_previews_are_discarded(logged_in: FlaskClient) -> None:
    import time_machine

    from placeevents.jobs import load_jobs, run_due_jobs

    load_jobs()
    _upload(logged_in, "email,consent source,consent date\nada@example.org,Email,2024-01-01\n")
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 1
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        outcomes = run_due_jobs()
    assert outcomes["discard-import-previews"] == "1 import previews discarded"
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
