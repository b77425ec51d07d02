-- podium's schema, version 1.
--
-- Kept to SQL that PostgreSQL also reads, where that is cheap: BIGINT, TEXT, partial indexes,
-- no WITHOUT ROWID. Payloads are JSON text; they can reach 256 KiB, which is also why the
-- child tables keep SQLite's rowid layout (WITHOUT ROWID suits only small rows).

CREATE TABLE state_machines (
    arn         TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    type        TEXT    NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    role_arn    TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    description TEXT,
    revision_id TEXT    NOT NULL,
    tags        TEXT    NOT NULL   -- JSON: [[key, value], ...]
);

-- No foreign key to state_machines: an execution keeps the definition it started with and
-- outlives the deletion of its state machine, as in AWS.
CREATE TABLE executions (
    id                INTEGER PRIMARY KEY,   -- surrogate: child rows repeat 8 bytes, not an ARN
    arn               TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    state_machine_arn TEXT    NOT NULL,
    definition        TEXT    NOT NULL,
    status            TEXT    NOT NULL
        CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')),
    input             TEXT    NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    start_ms          BIGINT  NOT NULL,
    stop_ms           BIGINT,
    version           BIGINT  NOT NULL,
    redrive_count     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (state_machine_arn, name)
);

-- ListExecutions pages newest first, by machine and/or status; (status, id) also serves the
-- runtime's restart scan of the RUNNING ones.
CREATE INDEX executions_by_machine ON executions (state_machine_arn, id);
CREATE INDEX executions_by_status ON executions (status, id);

-- The signals each step applied, in order (by id): replaying them rebuilds the execution.
CREATE TABLE journal (
    id           INTEGER PRIMARY KEY,
    execution_id BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    signal       TEXT    NOT NULL
);
CREATE INDEX journal_by_execution ON journal (execution_id, id);

-- GetExecutionHistory; the primary key serves paging both ways and refuses duplicate ids.
CREATE TABLE history (
    execution_id      BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    event_id          BIGINT  NOT NULL,
    previous_event_id BIGINT  NOT NULL,
    timestamp         DOUBLE PRECISION NOT NULL,   -- seconds since the epoch, as AWS gives it
    type              TEXT    NOT NULL,
    details           TEXT,                        -- JSON
    PRIMARY KEY (execution_id, event_id)
);

-- Commands produced and still owed. Rows live from the step that makes a command to the
-- step that retires it; id order is the order to re-send them in after a restart.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    execution_id BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    command_id   TEXT    NOT NULL,
    command      TEXT    NOT NULL,
    UNIQUE (execution_id, command_id)
);

-- Signals delivered by any process, waiting for the execution's next step.
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY,
    execution_id BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    signal       TEXT    NOT NULL
);
CREATE INDEX inbox_by_execution ON inbox (execution_id, id);
