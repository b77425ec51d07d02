-- podium's schema, version 2: versions, aliases, activities, tags of any resource, redrives.

-- Tags leave state_machines for a table of their own, keyed by any resource's ARN (state
-- machines, activities). Row order (rowid) is the order a key was first added.
CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
);

INSERT OR REPLACE INTO tags (resource_arn, key, value)
SELECT m.arn, json_extract(pair.value, '$[0]'), json_extract(pair.value, '$[1]')
FROM state_machines AS m, json_each(m.tags) AS pair
ORDER BY m.arn, pair.key;

ALTER TABLE state_machines DROP COLUMN tags;
ALTER TABLE state_machines ADD COLUMN updated_ms BIGINT;
ALTER TABLE state_machines ADD COLUMN logging_configuration TEXT;   -- JSON, as the client gave it
ALTER TABLE state_machines ADD COLUMN tracing_configuration TEXT;   -- JSON, as the client gave it
-- The newest version number ever given: numbers are not reused after a version is deleted.
ALTER TABLE state_machines ADD COLUMN versions_published INTEGER NOT NULL DEFAULT 0;

-- Immutable snapshots of a state machine; arn = <state machine arn>:<version>.
CREATE TABLE state_machine_versions (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    definition        TEXT    NOT NULL,
    role_arn          TEXT    NOT NULL,
    type              TEXT    NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    description       TEXT,
    revision_id       TEXT    NOT NULL,
    created_ms        BIGINT  NOT NULL,
    UNIQUE (state_machine_arn, version)
);

-- arn = <state machine arn>:<name>; routing is JSON: [[version arn, weight], ...].
CREATE TABLE state_machine_aliases (
    arn               TEXT    NOT NULL PRIMARY KEY,
    state_machine_arn TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT,
    routing           TEXT    NOT NULL,
    created_ms        BIGINT  NOT NULL,
    updated_ms        BIGINT  NOT NULL
);
CREATE INDEX state_machine_aliases_by_machine ON state_machine_aliases (state_machine_arn, name);

CREATE TABLE activities (
    arn        TEXT   NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_ms BIGINT NOT NULL
);

-- Executions remember what they were started through, their type, and their last redrive.
ALTER TABLE executions ADD COLUMN state_machine_version_arn TEXT;
ALTER TABLE executions ADD COLUMN state_machine_alias_arn TEXT;
ALTER TABLE executions ADD COLUMN type TEXT NOT NULL DEFAULT 'STANDARD' CHECK (type IN ('STANDARD', 'EXPRESS'));
ALTER TABLE executions ADD COLUMN redrive_ms BIGINT;
-- ListExecutions by version or alias ARN; partial, since most executions have neither.
CREATE INDEX executions_by_version ON executions (state_machine_version_arn, id)
    WHERE state_machine_version_arn IS NOT NULL;
CREATE INDEX executions_by_alias ON executions (state_machine_alias_arn, id)
    WHERE state_machine_alias_arn IS NOT NULL;

-- Whether each journal entry's step was committed. Uncommitted entries are a start or a
-- redrive that no commit has followed yet: before this version, the start of an execution
-- still at version 0. The partial index keeps marking them committed cheap on every step.
ALTER TABLE journal ADD COLUMN committed INTEGER NOT NULL DEFAULT 1 CHECK (committed IN (0, 1));
UPDATE journal SET committed = 0
WHERE execution_id IN (SELECT id FROM executions WHERE version = 0);
CREATE INDEX journal_uncommitted ON journal (execution_id) WHERE committed = 0;
