-- Service halls: appointment capacities and bookings, queue tickets, visits and the cases they
-- count as trips for (PostgreSQL). Keep tables and columns identical to ../sqlite/0005_halls.sql
-- (a test checks it). Days are ISO 'YYYY-MM-DD' text and slot times 'HH:MM' (China time).

-- A capacity set by staff for one slot; slots without a row have the default capacity.
CREATE TABLE hall_slot_capacities (
    hall TEXT NOT NULL,
    skill_group TEXT NOT NULL,
    day TEXT NOT NULL,
    starts TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (hall, skill_group, day, starts)
);

-- status: booked | checked_in | cancelled | no_show. Lowering a capacity never deletes a row.
CREATE TABLE appointments (
    id UUID PRIMARY KEY,
    hall TEXT NOT NULL,
    skill_group TEXT NOT NULL,
    day TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    extended BOOLEAN NOT NULL,
    applicant TEXT NOT NULL,
    booked_by TEXT NOT NULL,
    item TEXT,
    status TEXT NOT NULL,
    ticket_id UUID,
    booked_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX appointments_by_slot ON appointments (hall, skill_group, day, starts, status);
CREATE INDEX appointments_by_applicant ON appointments (applicant, day);

-- Ticket numbers per hall, day and class letter.
CREATE TABLE ticket_counters (
    hall TEXT NOT NULL,
    day TEXT NOT NULL,
    prefix TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (hall, day, prefix)
);

-- status: waiting | called | done | skipped. Times are Unix microseconds.
CREATE TABLE tickets (
    id UUID PRIMARY KEY,
    hall TEXT NOT NULL,
    day TEXT NOT NULL,
    number TEXT NOT NULL,
    class TEXT NOT NULL,
    skill_group TEXT NOT NULL,
    applicant TEXT,
    appointment_id UUID,
    status TEXT NOT NULL,
    window_key TEXT,
    transferred_to TEXT,
    taken_at BIGINT NOT NULL,
    called_at BIGINT,
    last_called_at BIGINT,
    finished_at BIGINT,
    recalls INTEGER NOT NULL,
    UNIQUE (hall, day, number)
);
CREATE INDEX tickets_by_day ON tickets (hall, day, status);

-- One physical visit (check-in) of an applicant at a hall.
CREATE TABLE visits (
    id UUID PRIMARY KEY,
    hall TEXT NOT NULL,
    day TEXT NOT NULL,
    applicant TEXT NOT NULL,
    ticket_id UUID NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX visits_by_applicant ON visits (applicant, day);

-- The trips of a case: the visits of its applicant while it was open, and the visit during which
-- a window accepted it.
CREATE TABLE case_visits (
    case_id UUID NOT NULL REFERENCES cases (id),
    visit_id UUID NOT NULL REFERENCES visits (id),
    PRIMARY KEY (case_id, visit_id)
);
CREATE INDEX case_visits_by_visit ON case_visits (visit_id);
