"""Journeys through the app in Chromium, each page held to the checks in checks.py.

1 test_subscriber: sign up to unsubscribe and back; 2 (one-form registration for a place) is
written with that form, in its own module here, calling `checks.assert_page_ok` on each page;
3 and 5 test_organiser; 4 test_invitee; 6 test_mails; and test_organiser_pages, every organiser
page at 375 px.
"""
