-- podium's schema, version 3: a definition is kept once, not once per execution.
--
-- Every execution carried a copy of the definition it started with: for the payment saga
-- some 7 KB, most of its row, spilled to overflow pages behind the columns a step updates
-- (`version` follows `definition` in the row), so each step's version bump rewrote one of
-- them. Executions now point at a row of `definitions`, which is only ever added to (a
-- definition still holds for the executions started with it after its state machine is
-- updated or deleted). The old column stays, empty: dropping it would mean rebuilding the
-- table under its children's foreign keys.
CREATE TABLE definitions (
    id   INTEGER PRIMARY KEY,
    text TEXT    NOT NULL UNIQUE
);

INSERT OR IGNORE INTO definitions (text) SELECT definition FROM executions ORDER BY id;

ALTER TABLE executions ADD COLUMN definition_id INTEGER REFERENCES definitions (id);

UPDATE executions
SET definition_id = (SELECT d.id FROM definitions AS d WHERE d.text = executions.definition),
    definition = '';
