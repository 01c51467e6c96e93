-- A database as revision 0001 left it after some months of use: one enquiry, a past event
-- with check-ins and session notes, an upcoming hybrid event that is full with a waiting
-- list, a cancelled online one; subscribers in every state, mail, bounces and the audit log.
-- Loaded by tests/test_system/test_migrations.py onto `flask db upgrade 0001`.

INSERT INTO organiser (id, email, name, password_hash, session_token, active, created_at, last_login_at) VALUES
  (1, 'olive@example.org', 'Olive Organiser', 'scrypt:32768:8:1$salt$0123456789abcdef', 'f3a9c1d2e4b5a6978877665544332211', true, '2026-01-05 09:00:00+00', '2026-03-02 08:15:00+00'),
  (2, 'sam@example.org', 'Sam Second', 'scrypt:32768:8:1$salt$fedcba9876543210', '0a1b2c3d4e5f60718293a4b5c6d7e8f9', false, '2026-01-06 10:00:00+00', NULL);

INSERT INTO enquiry (id, slug, title, summary, introduction, timezone, status, created_at, updated_at) VALUES
  (1, 'total-place-2', 'Total Place 2.0', 'What would it take to shift place-based approaches from the margins to the mainstream?',
   E'A year of explorations.\n\nFace to face and online.', 'Europe/London', 'current', '2026-01-05 09:30:00+00', '2026-02-01 12:00:00+00'),
  (2, 'archived-enquiry', 'An earlier enquiry', '', '', 'Europe/London', 'archived', '2025-01-05 09:30:00+00', '2025-12-01 12:00:00+00');

INSERT INTO enquiry_question (id, enquiry_id, position, title, body) VALUES
  (1, 1, 1, 'Bid and pilot', 'Moving beyond bidding for pilots.'),
  (2, 1, 2, 'National bodies', 'What national bodies would need to do differently.'),
  (3, 1, 3, 'Sharing learning', '');

INSERT INTO event (id, enquiry_id, slug, title, description, format, venue, address, join_url, hosts,
                   starts_at, ends_at, capacity, places_taken, rsvp_deadline, status, access,
                   ask_access_needs, ask_dietary_needs, ask_question, reminder_lead_hours, reminder_sent_at,
                   cancellation_message, calendar_uid, sequence, created_at, updated_at, published_at, cancelled_at) VALUES
  (1, 1, 'newcastle-kick-off', 'Kick-off in Newcastle', 'We **begin**.', 'in_person', 'The Civic Centre', 'Barras Bridge, Newcastle', '', 'Olive Organiser',
   '2026-02-10 10:00:00+00', '2026-02-10 13:00:00+00', 30, 2, NULL, 'published', 'invitation',
   true, true, true, 48, '2026-02-08 10:00:00+00',
   '', 'event-1-0b9c1e@placeevents.example', 2, '2026-01-06 09:00:00+00', '2026-01-20 16:45:00+00', '2026-01-06 09:05:00+00', NULL),
  (2, 1, 'leeds-exploration', 'An exploration in Leeds', 'A morning **together**, or online.', 'hybrid', 'Leeds Town Hall', 'The Headrow, Leeds', 'https://meet.example.org/leeds', 'Olive Organiser, Sam Second',
   now() + interval '20 days', now() + interval '20 days 3 hours', 3, 3, now() + interval '18 days', 'published', 'invitation',
   true, false, true, 48, NULL,
   '', 'event-2-77ad10@placeevents.example', 1, '2026-02-01 09:00:00+00', '2026-02-03 11:30:00+00', '2026-02-01 09:10:00+00', NULL),
  (3, 1, 'online-roundtable', 'An online round table', '', 'online', '', '', 'https://meet.example.org/round', '',
   now() + interval '40 days', now() + interval '40 days 90 minutes', NULL, 0, NULL, 'cancelled', 'open',
   false, false, false, 24, NULL,
   'We are moving this to the summer.', 'event-3-c0ffee@placeevents.example', 3, '2026-02-02 09:00:00+00', '2026-02-20 08:00:00+00', '2026-02-02 09:10:00+00', '2026-02-20 08:00:00+00');

INSERT INTO import_batch (id, organiser_id, filename, status, content, created_at, applied_at, added, merged, skipped, errors) VALUES
  (1, 1, 'contacts.csv', 'applied', E'email,name\ncarol@example.org,Carol Chen\n', '2026-01-10 11:00:00+00', '2026-01-10 11:02:00+00', 1, 0, 0, 0);

INSERT INTO subscriber (id, email, name, organisation, role, wants_in_person, wants_online, wants_news, status, token_nonce,
                        consent_text_version, consent_source, consent_note, import_batch_id, requested_at, confirmed_at,
                        confirmed_ip, unsubscribed_at, last_signup_mail_at, created_at, updated_at) VALUES
  (1, 'alice@example.org', 'Alice Adams', 'Leeds City Council', 'Director of Place', true, true, true, 'confirmed', 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1',
   '2026-01', 'form', '', NULL, '2026-01-07 08:00:00+00', '2026-01-07 08:03:00+00', '203.0.113.5', NULL, '2026-01-07 08:00:00+00', '2026-01-07 08:00:00+00', '2026-01-07 08:03:00+00'),
  (2, 'bob@example.org', 'Bob Brown', 'NHS North', '', true, false, false, 'confirmed', 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2',
   '2026-01', 'organiser', 'Asked at the January breakfast', NULL, '2026-01-08 08:00:00+00', '2026-01-08 09:00:00+00', '', NULL, '2026-01-08 08:00:00+00', '2026-01-08 08:00:00+00', '2026-01-08 09:00:00+00'),
  (3, 'carol@example.org', 'Carol Chen', '', '', false, true, false, 'confirmed', 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3',
   '2026-01', 'import', 'contacts.csv', 1, '2026-01-10 11:02:00+00', '2026-01-10 11:02:00+00', '', NULL, NULL, '2026-01-10 11:02:00+00', '2026-01-10 11:02:00+00'),
  (4, 'dev@example.org', 'Dev Desai', 'A charity', 'Trustee', true, true, false, 'pending', 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4',
   '2026-01', 'form', '', NULL, '2026-02-28 17:00:00+00', NULL, '', NULL, '2026-02-28 17:00:00+00', '2026-02-28 17:00:00+00', '2026-02-28 17:00:00+00'),
  (5, 'erin@example.org', 'Erin Evans', '', '', true, true, true, 'unsubscribed', 'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5',
   '2026-01', 'form', '', NULL, '2026-01-09 08:00:00+00', '2026-01-09 08:10:00+00', '198.51.100.7', '2026-02-15 19:00:00+00', '2026-01-09 08:00:00+00', '2026-01-09 08:00:00+00', '2026-02-15 19:00:00+00');

INSERT INTO invitation (id, event_id, email, name, organisation, role, subscriber_id, source, token_nonce, invited_by_id,
                        created_at, sent_at, last_reminded_at, event_reminder_sent_at) VALUES
  (1, 1, 'alice@example.org', 'Alice Adams', 'Leeds City Council', 'Director of Place', 1, 'subscriber', '11111111111111111111111111111111', 1, '2026-01-12 09:00:00+00', '2026-01-12 09:01:00+00', NULL, '2026-02-08 10:00:00+00'),
  (2, 1, 'bob@example.org', 'Bob Brown', 'NHS North', '', 2, 'subscriber', '22222222222222222222222222222222', 1, '2026-01-12 09:00:00+00', '2026-01-12 09:01:00+00', NULL, '2026-02-08 10:00:00+00'),
  (3, 1, 'frank@example.org', 'Frank Fox', '', '', NULL, 'pasted', '33333333333333333333333333333333', 1, '2026-01-12 09:00:00+00', '2026-01-12 09:01:00+00', '2026-01-20 09:00:00+00', NULL),
  (4, 2, 'alice@example.org', 'Alice Adams', 'Leeds City Council', 'Director of Place', 1, 'attendee', '44444444444444444444444444444444', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', NULL, NULL),
  (5, 2, 'bob@example.org', 'Bob Brown', 'NHS North', '', 2, 'subscriber', '55555555555555555555555555555555', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', NULL, NULL),
  (6, 2, 'gita@example.org', 'Gita Gill', 'University of Leeds', 'Researcher', NULL, 'request', '66666666666666666666666666666666', NULL, '2026-02-04 13:00:00+00', '2026-02-04 13:00:30+00', NULL, NULL),
  (7, 2, 'carol@example.org', 'Carol Chen', '', '', 3, 'subscriber', '77777777777777777777777777777777', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', NULL, NULL),
  (8, 2, 'hamid@example.org', 'Hamid Hussain', '', '', NULL, 'organiser', '88888888888888888888888888888888', 2, '2026-02-05 10:00:00+00', '2026-02-05 10:00:30+00', NULL, NULL),
  (9, 2, 'ivy@example.org', 'Ivy Iqbal', '', '', NULL, 'pasted', '99999999999999999999999999999999', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', NULL, NULL),
  (10, 2, 'jo@example.org', 'Jo Jones', '', '', NULL, 'pasted', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', '2026-02-10 09:00:00+00', NULL),
  (11, 2, 'kit@example.org', 'Kit King', '', '', NULL, 'pasted', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 1, '2026-02-03 09:00:00+00', '2026-02-03 09:01:00+00', NULL, NULL);

-- Past event: Alice and Bob came (checked in); Frank never answered.
-- Leeds (3 places): Alice, Bob and Gita in person fill it; Carol joins online; Hamid waits;
-- Ivy wants the notes but can't come; Jo may come; Kit has not answered.
INSERT INTO rsvp (id, invitation_id, answer, mode, wants_notes, waitlisted_at, offer_expires_at, access_needs, dietary_needs,
                  question, answered_at, set_by_organiser_id, overbooked, attended, checked_in_at, calendar_sequence, updated_at) VALUES
  (1, 1, 'yes', 'in_person', false, NULL, NULL, 'Step-free access, please', 'Vegetarian', 'How do we pool budgets?', '2026-01-13 08:00:00+00', NULL, false, true, '2026-02-10 09:55:00+00', 2, '2026-02-10 09:55:00+00'),
  (2, 2, 'yes', 'in_person', false, NULL, NULL, '', '', '', '2026-01-14 08:00:00+00', 1, false, true, '2026-02-10 10:05:00+00', 2, '2026-02-10 10:05:00+00'),
  (3, 4, 'yes', 'in_person', false, NULL, NULL, '', '', 'What about national funders?', '2026-02-03 10:00:00+00', NULL, false, false, NULL, 1, '2026-02-03 10:00:00+00'),
  (4, 5, 'yes', 'in_person', false, NULL, NULL, 'A hearing loop', '', '', '2026-02-03 11:00:00+00', NULL, false, false, NULL, 1, '2026-02-03 11:00:00+00'),
  (5, 6, 'yes', 'in_person', false, NULL, NULL, '', '', '', '2026-02-04 13:05:00+00', NULL, false, false, NULL, 1, '2026-02-04 13:05:00+00'),
  (6, 7, 'yes', 'online', false, NULL, NULL, '', '', '', '2026-02-03 12:00:00+00', NULL, false, false, NULL, 1, '2026-02-03 12:00:00+00'),
  (7, 8, 'waitlisted', 'in_person', false, '2026-02-05 10:30:00+00', NULL, '', '', '', '2026-02-05 10:30:00+00', NULL, false, false, NULL, 0, '2026-02-05 10:30:00+00'),
  (8, 9, 'no', NULL, true, NULL, NULL, '', '', '', '2026-02-03 15:00:00+00', NULL, false, false, NULL, 0, '2026-02-03 15:00:00+00'),
  (9, 10, 'maybe', NULL, false, NULL, NULL, '', '', '', '2026-02-06 15:00:00+00', NULL, false, false, NULL, 0, '2026-02-06 15:00:00+00');

INSERT INTO note (id, event_id, title, body, kind, author_name, visibility, attributed, resources, tags, revision, created_by_id, created_at, updated_at) VALUES
  (1, 1, 'What we heard in Newcastle', E'Three themes:\n\n- pooled budgets\n- trust', 'summary', 'Olive Organiser', 'attendees', false,
   'Slides | https://example.org/slides.pdf', 'budgets, trust', 2, 1, '2026-02-11 09:00:00+00', '2026-02-12 09:00:00+00'),
  (2, 1, 'Facilitator notes', 'Private.', 'facilitator', 'Sam Second', 'private', true, '', '', 1, 2, '2026-02-11 10:00:00+00', '2026-02-11 10:00:00+00');

INSERT INTO note_revision (id, note_id, number, title, body, kind, visibility, attributed, author_name, resources, tags, edited_by_id, edited_at, question_ids, restored_from) VALUES
  (1, 1, 1, 'What we heard', 'Draft.', 'summary', 'private', false, 'Olive Organiser', '', '', 1, '2026-02-11 09:00:00+00', '1', NULL),
  (2, 1, 2, 'What we heard in Newcastle', E'Three themes:\n\n- pooled budgets\n- trust', 'summary', 'attendees', false, 'Olive Organiser',
   'Slides | https://example.org/slides.pdf', 'budgets, trust', 1, '2026-02-12 09:00:00+00', '1,3', NULL),
  (3, 2, 1, 'Facilitator notes', 'Private.', 'facilitator', 'private', true, 'Sam Second', '', '', 2, '2026-02-11 10:00:00+00', '', NULL);

INSERT INTO note_question (note_id, question_id) VALUES (1, 1), (1, 3);

INSERT INTO note_share (id, note_id, revision, email, shared_at) VALUES
  (1, 1, 2, 'alice@example.org', '2026-02-12 10:00:00+00'),
  (2, 1, 2, 'bob@example.org', '2026-02-12 10:00:00+00');

INSERT INTO event_mailing (id, event_id, kind, batch_key, audience, subject, body, recipients, already_invited, skipped_bounced,
                           skipped_do_not_invite, skipped_erased, skipped_recent, created_by_id, created_at) VALUES
  (1, 2, 'invitation', 'invite-2-5f1e0c', 'subscribers, past attendees', 'Invitation: An exploration in Leeds', 'Join us in Leeds.', 6, 0, 1, 1, 0, 0, 1, '2026-02-03 09:00:00+00');

INSERT INTO outbox_message (id, message_id, kind, batch_key, sender, recipients, subject, raw, status, attempts, next_attempt_at,
                            last_error, claimed_by, claimed_until, created_at, sent_at) VALUES
  (1, '<invite-1@placeevents.example>', 'invitation', 'invite-2-5f1e0c', 'enquiry@placeevents.example', 'alice@example.org',
   'Invitation: An exploration in Leeds', NULL, 'sent', 1, '2026-02-03 09:00:00+00', '', 'web1:412:9f8e7d6c', NULL, '2026-02-03 09:00:00+00', '2026-02-03 09:00:02+00'),
  (2, '<invite-2@placeevents.example>', 'invitation', 'invite-2-5f1e0c', 'enquiry@placeevents.example', E'lost@example.net',
   'Invitation: An exploration in Leeds', convert_to(E'Subject: Invitation\r\n\r\nHello.\r\n', 'UTF8'), 'failed', 1,
   '2026-02-03 09:00:00+00', '550 5.1.1 No such user', NULL, NULL, '2026-02-03 09:00:00+00', NULL),
  (3, '<welcome-4@placeevents.example>', 'newsletter_confirm', NULL, 'enquiry@placeevents.example', 'dev@example.org',
   'Please confirm your subscription', convert_to(E'Subject: Please confirm\r\n\r\nConfirm.\r\n', 'UTF8'), 'pending', 2,
   '2026-02-28 17:30:00+00', '451 4.3.0 Try again later', NULL, NULL, '2026-02-28 17:00:00+00', NULL);

INSERT INTO bounce (id, email, reason, created_at) VALUES (1, 'lost@example.net', '550 5.1.1 No such user', '2026-02-03 09:00:03+00');
INSERT INTO do_not_invite (id, email, created_at) VALUES (1, 'kit.old@example.org', '2026-01-30 12:00:00+00');
INSERT INTO suppression (id, email_hash, reason, created_at) VALUES
  (1, '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', 'erased', '2026-02-01 12:00:00+00');
INSERT INTO job_run (id, name, due_key, started_at, finished_at, outcome) VALUES
  (1, 'mail.purge', '2026-03-01', '2026-03-01 00:00:01+00', '2026-03-01 00:00:02+00', 'purged 12 sent bodies');

-- What each entry is about, as the audit log wrote it then: slugs, ids, and one event since deleted.
INSERT INTO audit_entry (id, at, organiser_id, actor, action, target, detail) VALUES
  (1, '2026-01-10 11:02:00+00', 1, 'olive@example.org', 'newsletter.import', 'import batch 1', '1 added'),
  (2, '2026-02-10 09:55:00+00', 1, 'olive@example.org', 'check_in', 'event:newcastle-kick-off', 'Alice Adams'),
  (3, '2026-02-12 10:00:00+00', 1, 'olive@example.org', 'notes.share', 'note 1', '2 people'),
  (4, '2026-02-15 10:00:00+00', 2, 'sam@example.org', 'export.attendees', 'event:2', 'confirmed; 3 rows'),
  (5, '2026-02-16 10:00:00+00', 1, 'olive@example.org', 'newsletter.erase', 'subscriber 5', ''),
  (6, '2026-02-17 10:00:00+00', 1, 'olive@example.org', 'event.delete', 'event:a-draft-we-dropped', ''),
  (7, '2026-02-18 10:00:00+00', 1, 'olive@example.org', 'mail.retry', 'outbox_message 2', ''),
  (8, '2026-02-19 10:00:00+00', NULL, 'cli', 'export.subscribers', 'mailing list', 'confirmed');

-- Rows were given ids above: move each table's sequence on, as a live database's would be.
SELECT setval(pg_get_serial_sequence('organiser', 'id'), max(id)) FROM organiser;
SELECT setval(pg_get_serial_sequence('enquiry', 'id'), max(id)) FROM enquiry;
SELECT setval(pg_get_serial_sequence('enquiry_question', 'id'), max(id)) FROM enquiry_question;
SELECT setval(pg_get_serial_sequence('event', 'id'), max(id)) FROM event;
SELECT setval(pg_get_serial_sequence('import_batch', 'id'), max(id)) FROM import_batch;
SELECT setval(pg_get_serial_sequence('subscriber', 'id'), max(id)) FROM subscriber;
SELECT setval(pg_get_serial_sequence('invitation', 'id'), max(id)) FROM invitation;
SELECT setval(pg_get_serial_sequence('rsvp', 'id'), max(id)) FROM rsvp;
SELECT setval(pg_get_serial_sequence('note', 'id'), max(id)) FROM note;
SELECT setval(pg_get_serial_sequence('note_revision', 'id'), max(id)) FROM note_revision;
SELECT setval(pg_get_serial_sequence('note_share', 'id'), max(id)) FROM note_share;
SELECT setval(pg_get_serial_sequence('event_mailing', 'id'), max(id)) FROM event_mailing;
SELECT setval(pg_get_serial_sequence('outbox_message', 'id'), max(id)) FROM outbox_message;
SELECT setval(pg_get_serial_sequence('bounce', 'id'), max(id)) FROM bounce;
SELECT setval(pg_get_serial_sequence('do_not_invite', 'id'), max(id)) FROM do_not_invite;
SELECT setval(pg_get_serial_sequence('suppression', 'id'), max(id)) FROM suppression;
SELECT setval(pg_get_serial_sequence('job_run', 'id'), max(id)) FROM job_run;
SELECT setval(pg_get_serial_sequence('audit_entry', 'id'), max(id)) FROM audit_entry;
