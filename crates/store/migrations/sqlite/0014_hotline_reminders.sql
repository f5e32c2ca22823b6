-- Deadline reminders of 12345 tickets (到期提醒, SQLite). Keep tables and columns identical to
-- ../postgres/0014_hotline_reminders.sql (a test checks it).
--
-- The deadline a ticket's handling department was last reminded of (the ticket document's
-- `deadline_reminder_for`), so that the reminder job's query skips the tickets already reminded
-- for their current deadline; NULL until the first reminder. The existing (state, due_on) index
-- serves the query.
ALTER TABLE hotline_tickets ADD COLUMN reminded_due_on TEXT;
