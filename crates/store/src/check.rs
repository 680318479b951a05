//! `check`: replay the journal into a scratch store and compare it with the
//! state tables, verifying the hash chain on the way.

use girok_journal::{ChainBreak, ChainVerifier, Entry, Hash};
use girok_state::MAX_REPORTED;
use girok_state::tables::{Row, STATE_TABLES, Table, compare_table};
use rusqlite::Connection;

use crate::Database;
use crate::StoreError;
use crate::sql::{Owned, Sql, owned};
use crate::sqlite::Durability;
pub use girok_state::Difference;
use girok_state::{EntryMeta, MemoryState};

/// Journal entries handed to the replay thread at a time.
const CHUNK: usize = 1024;

/// Everything `check` found. Clean means: intact chain, every entry replays,
/// and the replayed state equals the stored state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    pub entries: u64,
    pub head: Hash,
    pub chain_breaks: Vec<ChainBreak>,
    /// Entries that the write path would refuse on replay, with the reason.
    pub refused: Vec<(u64, String)>,
    pub differences: Vec<Difference>,
    /// Time spent replaying, and then comparing the tables.
    pub replay_seconds: f64,
    pub compare_seconds: f64,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.chain_breaks.is_empty() && self.refused.is_empty() && self.differences.is_empty()
    }
}

pub(crate) fn check(
    conn: &Connection,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CheckReport, StoreError> {
    let scratch_dir = tempfile::tempdir().map_err(|source| StoreError::Io {
        context: "cannot create a scratch directory for the replay".into(),
        source,
    })?;
    let scratch_path = scratch_dir.path().join("replay.sqlite");
    let mut scratch = Database::create_with(&scratch_path, Durability::Scratch)?;
    conn.execute(
        "ATTACH DATABASE ?1 AS replay",
        [scratch_path.to_string_lossy()],
    )?;
    let result = replay_and_compare(conn, &mut scratch, progress);
    conn.execute("DETACH DATABASE replay", [])?;
    result
}

fn replay_and_compare(
    conn: &Connection,
    scratch: &mut Database,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CheckReport, StoreError> {
    // One read transaction: the journal and the state tables are read from the same snapshot.
    let snapshot = conn.unchecked_transaction()?;
    let total: u64 = snapshot.query_row("SELECT COALESCE(MAX(seq), 0) FROM journal", [], |r| {
        r.get(0)
    })?;
    let started = std::time::Instant::now();
    let mut report = CheckReport::default();
    let mut verifier = ChainVerifier::default();
    // This thread reads, verifies and decodes the journal; a second one replays
    // it into the scratch store, so hashing and decoding overlap the writing.
    let refused = std::thread::scope(|scope| -> Result<Vec<(u64, String)>, StoreError> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<(u64, Option<Entry>)>>(64);
        let replayer = scope.spawn(move || -> Result<Vec<(u64, String)>, StoreError> {
            let mut refused = Vec::new();
            scratch.sql().execute("BEGIN", &[])?;
            for (seq, entry) in receiver.into_iter().flatten() {
                let outcome = match entry {
                    Some(entry) => scratch.replay(&entry).map_err(|e| e.to_string()),
                    None => Err("the entry cannot be decoded".to_string()),
                };
                if let Err(reason) = outcome {
                    refused.push((seq, reason));
                }
            }
            scratch.sql().execute("COMMIT", &[])?;
            Ok(refused)
        });
        let mut statement = snapshot
            .prepare("SELECT seq, bytes, hash, subject, time, actor FROM journal ORDER BY seq")?;
        let mut rows = statement.query([])?;
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(row) = rows.next()? {
            let seq: u64 = row.get(0)?;
            let not_blob =
                |e| StoreError::Corrupt(format!("journal entry {seq} is not stored as bytes: {e}"));
            let bytes = row.get_ref(1)?.as_blob().map_err(not_blob)?;
            let hash = row.get_ref(2)?.as_blob().map_err(not_blob)?;
            let entry = verifier.check(seq, bytes, hash).or_else(|chain_break| {
                report.chain_breaks.push(chain_break);
                Entry::decode(seq, bytes)
            });
            if let Ok(entry) = &entry {
                let copies = [
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ];
                compare_copies(&mut report, seq, entry, copies);
            }
            chunk.push((seq, entry.ok()));
            if chunk.len() == CHUNK {
                // A send fails only if the replayer stopped; its error is reported below.
                if sender
                    .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                    .is_err()
                {
                    break;
                }
                progress(seq, total);
            }
        }
        let _ = sender.send(chunk);
        drop(sender);
        replayer
            .join()
            .map_err(|_| StoreError::Corrupt("the replay thread failed".into()))?
    })?;
    report.refused = refused;
    report.replay_seconds = started.elapsed().as_secs_f64();
    report.entries = verifier.entries_checked();
    report.head = verifier.head();
    progress(total, total);
    let comparing = std::time::Instant::now();
    for table in STATE_TABLES {
        let differences = with_rows(&snapshot, "main", table, |stored| {
            with_rows(&snapshot, "replay", table, |replayed| {
                compare_table(table, stored, replayed)
            })
        })?;
        report.differences.extend(differences);
    }
    report.compare_seconds = comparing.elapsed().as_secs_f64();
    snapshot.commit()?;
    Ok(report)
}

/// Runs `work` over the rows of `schema`'s `table` in key order, read one at a time.
pub(crate) fn with_rows<T>(
    conn: &Connection,
    schema: &str,
    table: &Table,
    work: impl FnOnce(
        &mut dyn Iterator<Item = Result<Row<'static>, StoreError>>,
    ) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Schema, table and column names are the store's own, never input.
    let mut statement = conn.prepare(&format!(
        "SELECT {} FROM {schema}.{} ORDER BY {}",
        table.columns.join(", "),
        table.name,
        table.key_columns().join(", ")
    ))?;
    let width = table.columns.len();
    let mut rows = statement.query([])?;
    let mut read = std::iter::from_fn(|| match rows.next() {
        Ok(Some(row)) => Some(
            (0..width)
                .map(|i| row.get_ref(i).map(|value| owned(value).into_cell()))
                .collect::<Result<Row, _>>()
                .map_err(StoreError::from),
        ),
        Ok(None) => None,
        Err(e) => Some(Err(StoreError::from(e))),
    });
    work(&mut read)
}

/// The columns stored beside an entry's bytes are copies that lookups use
/// (`history` finds entries by subject): they must say what the bytes say.
fn compare_copies(
    report: &mut CheckReport,
    seq: u64,
    entry: &Entry,
    [subject, time, actor]: [Option<String>; 3],
) {
    let copies = [
        (
            "subject",
            subject,
            entry.change.subject().map(|s| s.to_string()),
        ),
        ("time", time, Some(entry.time.clone())),
        ("actor", actor, Some(entry.actor.clone())),
    ];
    for (column, stored, held) in copies {
        if stored != held && report.differences.len() < MAX_REPORTED {
            report.differences.push(Difference {
                table: "journal".into(),
                key: seq.to_string(),
                detail: format!(
                    "column {column} is {} but the entry says {}",
                    stored.as_deref().unwrap_or("NULL"),
                    held.as_deref().unwrap_or("NULL")
                ),
            });
        }
    }
}

/// `check` for a backend with no scratch database at hand: the journal is
/// replayed into the in-memory reference state, which is then compared with
/// the stored tables, all read from one snapshot `sql`.
pub(crate) fn check_in_memory(
    sql: &dyn Sql,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CheckReport, StoreError> {
    let total = sql.number("SELECT COALESCE(MAX(seq), 0) FROM journal", &[])?;
    let started = std::time::Instant::now();
    let mut report = CheckReport::default();
    let mut verifier = ChainVerifier::default();
    let mut state = MemoryState::new();
    let mut first = 1;
    // The journal is read in pages, so its bytes are never all in memory at once.
    loop {
        let page = sql.rows(
            "SELECT seq, bytes, hash, subject, time, actor FROM journal \
             WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
            &[first.into(), (CHUNK as u64).into()],
        )?;
        if page.is_empty() {
            break;
        }
        for mut row in page {
            let seq: u64 = row.count(0)?;
            // The next page starts after this entry, whatever becomes of it.
            first = seq + 1;
            let (bytes, hash) = (row.blob(1)?, row.blob(2)?);
            let entry = verifier.check(seq, &bytes, &hash).or_else(|chain_break| {
                report.chain_breaks.push(chain_break);
                Entry::decode(seq, &bytes)
            });
            let Ok(entry) = entry else {
                report
                    .refused
                    .push((seq, "the entry cannot be decoded".to_string()));
                continue;
            };
            let copies = [row.opt_text(3)?, row.opt_text(4)?, row.opt_text(5)?];
            compare_copies(&mut report, seq, &entry, copies);
            let meta = EntryMeta {
                seq,
                time: &entry.time,
                actor: &entry.actor,
            };
            if let Err(refusal) = state.apply_change(meta, &entry.change) {
                report
                    .refused
                    .push((seq, StoreError::from(refusal).to_string()));
            }
        }
        progress(first - 1, total);
    }
    report.replay_seconds = started.elapsed().as_secs_f64();
    report.entries = verifier.entries_checked();
    report.head = verifier.head();
    progress(total, total);
    let comparing = std::time::Instant::now();
    report.differences.extend(differences_from(sql, &state)?);
    report.compare_seconds = comparing.elapsed().as_secs_f64();
    Ok(report)
}

/// Where the stored state tables differ from the reference state, row by
/// row in key order, as `check` reports it.
pub(crate) fn differences_from(
    sql: &dyn Sql,
    expected: &MemoryState,
) -> Result<Vec<Difference>, StoreError> {
    let mut found = Vec::new();
    for table in STATE_TABLES {
        // Table and column names are the store's own, never input.
        let query = format!(
            "SELECT {} FROM {} ORDER BY {}",
            table.columns.join(", "),
            table.name,
            table.key_columns().join(", ")
        );
        let mut stored: Vec<Result<Row<'static>, StoreError>> = Vec::new();
        sql.each(&query, &[], &mut |row| {
            stored.push(Ok(row.0.into_iter().map(Owned::into_cell).collect()));
            Ok(())
        })?;
        found.extend(compare_table(
            table,
            stored,
            expected.table_rows(table).map(Ok),
        )?);
    }
    Ok(found)
}
