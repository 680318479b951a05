//! The SQLite schema and its versioned migrations.
//!
//! A Girok database is marked by `PRAGMA application_id` and carries its schema
//! version in `PRAGMA user_version`. Migrations only ever append to
//! [`MIGRATIONS`]; a database newer than this build is refused, never touched.

/// "Girk" in ASCII: marks a SQLite file as a Girok database.
pub const APPLICATION_ID: i32 = 0x4769_726b;

/// Migration `i` brings a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE journal (
    seq     INTEGER PRIMARY KEY,
    time    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    subject TEXT,
    bytes   BLOB NOT NULL,
    hash    BLOB NOT NULL
);
CREATE INDEX journal_subject ON journal(subject) WHERE subject IS NOT NULL;

-- Perfect subtrees of the journal's RFC 6962 Merkle tree, 64 leaves and up
-- (smaller ones are rehashed from the journal's leaf hashes).
CREATE TABLE merkle (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed checkpoints of the tree as handed out: append-only, outside the journal
-- (they sign the journal, so they cannot be in it).
CREATE TABLE checkpoint (
    size  INTEGER PRIMARY KEY,
    root  BLOB NOT NULL,
    note  TEXT NOT NULL,
    time  TEXT NOT NULL
);

-- Every id ever used, of any kind: revision, who created and last changed it,
-- and the journal entry that holds its current content (the journal is the only
-- copy of record content; the tables below hold what queries need).
CREATE TABLE record (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    updated_seq INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    content_seq INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE source (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    obtained_start TEXT,
    obtained_end   TEXT,
    organisation   TEXT,
    consent        TEXT,
    witness        TEXT
) WITHOUT ROWID;
CREATE INDEX source_witness ON source(witness) WHERE witness IS NOT NULL;

CREATE TABLE person (
    id          TEXT PRIMARY KEY,
    sex         TEXT NOT NULL,
    birth_start TEXT,
    birth_end   TEXT,
    origin      TEXT,
    protected   INTEGER NOT NULL,
    unit        TEXT NOT NULL,
    unit_size   INTEGER
) WITHOUT ROWID;

CREATE TABLE person_name (
    person   TEXT NOT NULL,
    position INTEGER NOT NULL,
    text     TEXT NOT NULL,
    script   TEXT NOT NULL,
    system   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    PRIMARY KEY (person, position)
) WITHOUT ROWID;
CREATE INDEX person_name_text ON person_name(text);

CREATE TABLE event (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    date_start     TEXT,
    date_end       TEXT,
    date_precision TEXT NOT NULL,
    place          TEXT
) WITHOUT ROWID;

CREATE TABLE act (
    id             TEXT PRIMARY KEY,
    act_type       TEXT NOT NULL,
    victim         TEXT NOT NULL,
    event          TEXT,
    date_start     TEXT,
    date_end       TEXT,
    date_precision TEXT NOT NULL,
    place          TEXT,
    victim_age     INTEGER,
    status         TEXT,
    facility       TEXT
) WITHOUT ROWID;
CREATE INDEX act_victim ON act(victim);
CREATE INDEX act_event ON act(event) WHERE event IS NOT NULL;

CREATE TABLE involvement (
    id          TEXT PRIMARY KEY,
    act         TEXT NOT NULL,
    perpetrator TEXT,
    agency      TEXT,
    degree      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX involvement_act ON involvement(act);
CREATE INDEX involvement_perpetrator ON involvement(perpetrator) WHERE perpetrator IS NOT NULL;

CREATE TABLE information (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    act         TEXT,
    event       TEXT,
    relation    TEXT,
    reliability TEXT,
    knowledge   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX information_source ON information(source);
CREATE INDEX information_act ON information(act) WHERE act IS NOT NULL;
CREATE INDEX information_event ON information(event) WHERE event IS NOT NULL;

CREATE TABLE relation (
    id       TEXT PRIMARY KEY,
    person   TEXT NOT NULL,
    other    TEXT NOT NULL,
    relation TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX relation_person ON relation(person);
CREATE INDEX relation_other ON relation(other);

CREATE TABLE evidence (
    id        TEXT PRIMARY KEY,
    source    TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX evidence_source ON evidence(source);

-- The chain of custody of evidence files, one row per custody change.
CREATE TABLE custody (
    seq       INTEGER PRIMARY KEY,
    evidence  TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    action    TEXT NOT NULL,
    recipient TEXT,
    note      TEXT NOT NULL
);
CREATE INDEX custody_sha256 ON custody(sha256);

-- Vocabulary terms added to this database (the shipped ones live in the binary).
CREATE TABLE term (
    vocabulary TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       TEXT NOT NULL,
    added_seq  INTEGER NOT NULL,
    PRIMARY KEY (vocabulary, key)
) WITHOUT ROWID;

-- Files imported, by content hash, so the same file is never imported twice.
CREATE TABLE import (
    sha256    TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    records   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    time      TEXT NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- Reviewers' linkage decisions, one row per pair of person records (a < b),
-- with the journal entry that made them.
CREATE TABLE same_person (
    a   TEXT NOT NULL,
    b   TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX same_person_b ON same_person(b);
CREATE TABLE different_person (
    a   TEXT NOT NULL,
    b   TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX different_person_b ON different_person(b);
"#,
    r#"
-- Encryption; both tables stay empty in a plain database. Keys are not
-- state: they live beside the journal, never in it, so destroying one
-- erases what it sealed while the journal still verifies.
CREATE TABLE vault (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    header TEXT NOT NULL
);
CREATE TABLE data_key (
    subject TEXT PRIMARY KEY,
    wrapped BLOB NOT NULL
) WITHOUT ROWID;
-- Persons and sources whose data key was destroyed (`girok forget`).
CREATE TABLE forgotten (
    subject TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- Linkage proposals: derived data, not state (not journaled, not replayed by
-- `check`), remade whole by every `girok link`. They hold no identifying
-- value: record ids, scores and the level of agreement of each comparison;
-- names are read from the (sealed) person records when they are shown.
CREATE TABLE link_run (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    journal_size INTEGER NOT NULL,
    time         TEXT NOT NULL,
    training     TEXT
);
CREATE TABLE link_proposal (
    number      INTEGER PRIMARY KEY,
    probability REAL NOT NULL,
    links       TEXT NOT NULL,
    decided_seq INTEGER
);
CREATE TABLE link_proposal_person (
    number  INTEGER NOT NULL,
    person  TEXT NOT NULL,
    sources TEXT NOT NULL,
    PRIMARY KEY (number, person)
) WITHOUT ROWID;
CREATE INDEX link_proposal_person_person ON link_proposal_person(person);
"#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;
