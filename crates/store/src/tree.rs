//! The journal's Merkle tree on disk.
//!
//! Leaf hashes are the journal's `hash` column. The `merkle` table keeps every
//! perfect subtree of `2^STORED_LEVEL` leaves and up, written as soon as it is
//! complete, so an append costs amortized O(1) rows and any root or proof is
//! O(log n) lookups plus rehashing at most `2^STORED_LEVEL` leaf hashes.

use girok_journal::Hash;
use girok_journal::merkle::{MemoryTree, Subtrees, node_hash};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// Subtrees of 64 leaves and up are stored; smaller ones are rehashed from leaves.
const STORED_LEVEL: u32 = 6;
const STORED_LEAVES: u64 = 1 << STORED_LEVEL;

/// The stored tree, read through a connection (or transaction).
pub(crate) struct StoredTree<'c> {
    pub conn: &'c Connection,
}

fn to_hash(bytes: Vec<u8>, what: impl FnOnce() -> String) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{} is not a 32-byte hash", what())))
}

impl StoredTree<'_> {
    /// Leaf hashes of journal entries `first..=last`.
    fn leaves(&self, first: u64, last: u64) -> Result<Vec<Hash>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, hash FROM journal WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let rows = statement.query_map(params![first, last], |r| {
            Ok((r.get::<_, u64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut leaves = Vec::new();
        for (expected, row) in (first..=last).zip(rows) {
            let (seq, hash) = row?;
            if seq != expected {
                return Err(StoreError::Corrupt(format!(
                    "journal entry {expected} is missing"
                )));
            }
            leaves.push(to_hash(hash, || {
                format!("the hash of journal entry {seq}")
            })?);
        }
        if leaves.len() as u64 != last + 1 - first {
            return Err(StoreError::Corrupt(format!(
                "journal entries {first}..={last} are incomplete"
            )));
        }
        Ok(leaves)
    }
}

impl Subtrees for StoredTree<'_> {
    type Error = StoreError;

    fn subtree(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        if level >= STORED_LEVEL {
            let hash: Option<Vec<u8>> = self
                .conn
                .prepare_cached("SELECT hash FROM merkle WHERE level = ?1 AND idx = ?2")?
                .query_row(params![level, index], |r| r.get(0))
                .optional()?;
            let hash = hash.ok_or_else(|| {
                StoreError::Corrupt(format!("Merkle node ({level}, {index}) is missing"))
            })?;
            return to_hash(hash, || format!("Merkle node ({level}, {index})"));
        }
        let first = (index << level) + 1;
        let mut tree = MemoryTree::default();
        for leaf in self.leaves(first, first + (1 << level) - 1)? {
            tree.push(leaf);
        }
        Ok(tree.root())
    }
}

/// Keeps the stored tree up to date as a batch appends leaves.
#[derive(Debug, Default)]
pub(crate) struct TreeWriter {
    /// Leaf hashes since the last stored 64-leaf subtree.
    pending: Vec<Hash>,
}

impl TreeWriter {
    /// Picks up the leaves after the last stored subtree of a journal of `size` entries.
    pub fn resume(conn: &Connection, size: u64) -> Result<TreeWriter, StoreError> {
        let done = size - size % STORED_LEAVES;
        let pending = if done == size {
            Vec::new()
        } else {
            StoredTree { conn }.leaves(done + 1, size)?
        };
        Ok(TreeWriter { pending })
    }

    /// Records leaf `seq` (1-based) and stores every subtree it completes.
    pub fn append(&mut self, conn: &Connection, seq: u64, leaf: Hash) -> Result<(), StoreError> {
        self.pending.push(leaf);
        if !seq.is_multiple_of(STORED_LEAVES) {
            return Ok(());
        }
        let mut tree = MemoryTree::default();
        for leaf in self.pending.drain(..) {
            tree.push(leaf);
        }
        let (mut level, mut index, mut hash) = (STORED_LEVEL, seq / STORED_LEAVES - 1, tree.root());
        let mut insert =
            conn.prepare_cached("INSERT INTO merkle (level, idx, hash) VALUES (?1, ?2, ?3)")?;
        loop {
            insert.execute(params![level, index, hash.as_slice()])?;
            if index.is_multiple_of(2) {
                return Ok(());
            }
            let left = StoredTree { conn }.subtree(level, index - 1)?;
            hash = node_hash(&left, &hash);
            level += 1;
            index /= 2;
        }
    }
}
