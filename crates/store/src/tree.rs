//! The journal's Merkle tree on disk.
//!
//! Leaf hashes are the journal's `hash` column. The `merkle` table keeps every
//! perfect subtree of `2^STORED_LEVEL` leaves and up, written as soon as it is
//! complete, so an append costs amortized O(1) rows and any root or proof is
//! O(log n) lookups plus rehashing at most `2^STORED_LEVEL` leaf hashes.

use crate::StoreError;
use crate::sql::Sql;
use girok_journal::Hash;
use girok_journal::checkpoint::VerifierKey;
use girok_journal::merkle::{self, MemoryTree, Subtrees, node_hash};

/// Subtrees of 64 leaves and up are stored; smaller ones are rehashed from leaves.
const STORED_LEVEL: u32 = 6;
const STORED_LEAVES: u64 = 1 << STORED_LEVEL;

/// The stored tree, read through a connection (or transaction).
pub(crate) struct StoredTree<'c> {
    pub sql: &'c dyn Sql,
}

fn to_hash(bytes: Vec<u8>, what: impl FnOnce() -> String) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{} is not a 32-byte hash", what())))
}

impl StoredTree<'_> {
    /// Leaf hashes of journal entries `first..=last`.
    fn leaves(&self, first: u64, last: u64) -> Result<Vec<Hash>, StoreError> {
        let rows = self.sql.rows(
            "SELECT seq, hash FROM journal WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            &[first.into(), last.into()],
        )?;
        let mut leaves = Vec::new();
        for (expected, mut row) in (first..=last).zip(rows) {
            let (seq, hash): (u64, _) = (row.count(0)?, row.blob(1)?);
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
            let hash = self
                .sql
                .row(
                    "SELECT hash FROM merkle WHERE level = ?1 AND idx = ?2",
                    &[level.into(), index.into()],
                )?
                .map(|mut row| row.blob(0))
                .transpose()?;
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
    pub fn resume(sql: &dyn Sql, size: u64) -> Result<TreeWriter, StoreError> {
        let done = size - size % STORED_LEAVES;
        let pending = if done == size {
            Vec::new()
        } else {
            StoredTree { sql }.leaves(done + 1, size)?
        };
        Ok(TreeWriter { pending })
    }

    /// Records leaf `seq` (1-based) and stores every subtree it completes.
    pub fn append(&mut self, sql: &dyn Sql, seq: u64, leaf: Hash) -> Result<(), StoreError> {
        self.pending.push(leaf);
        if !seq.is_multiple_of(STORED_LEAVES) {
            return Ok(());
        }
        let mut tree = MemoryTree::default();
        for leaf in self.pending.drain(..) {
            tree.push(leaf);
        }
        let (mut level, mut index, mut hash) = (STORED_LEVEL, seq / STORED_LEAVES - 1, tree.root());
        loop {
            sql.execute(
                "INSERT INTO merkle (level, idx, hash) VALUES (?1, ?2, ?3)",
                &[level.into(), index.into(), hash.as_slice().into()],
            )?;
            if index.is_multiple_of(2) {
                return Ok(());
            }
            let left = StoredTree { sql }.subtree(level, index - 1)?;
            hash = node_hash(&left, &hash);
            level += 1;
            index /= 2;
        }
    }
}

/// What `verify` found in the tree and the checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeReport {
    pub size: u64,
    pub root: Hash,
    pub checkpoints: u64,
    pub problems: Vec<String>,
}

/// Rebuilds the tree from the journal's leaf hashes, compares every stored
/// node, and checks every stored checkpoint: its signature, that its root is
/// the rebuilt tree's root at its size, and consistency with the one before.
pub(crate) fn verify(sql: &dyn Sql, verifier: &VerifierKey) -> Result<TreeReport, StoreError> {
    let mut rebuilt = MemoryTree::default();
    let mut problems = Vec::new();
    sql.each(
        "SELECT seq, hash FROM journal ORDER BY seq",
        &[],
        &mut |mut row| {
            let seq: u64 = row.count(0)?;
            let hash = to_hash(row.blob(1)?, || format!("the hash of journal entry {seq}"))?;
            if seq != rebuilt.size() + 1 {
                problems.push(format!(
                    "journal entry {} is missing (found {seq})",
                    rebuilt.size() + 1
                ));
            }
            rebuilt.push(hash);
            Ok(())
        },
    )?;
    let size = rebuilt.size();
    let mut stored = 0u64;
    let nodes = "SELECT level, idx, hash FROM merkle ORDER BY level, idx";
    sql.each(nodes, &[], &mut |mut row| {
        let (level, index): (u32, u64) = (row.count(0)?, row.count(1)?);
        let hash = to_hash(row.blob(2)?, || format!("Merkle node ({level}, {index})"))?;
        stored += 1;
        let expected = ((index + 1) << level <= size).then(|| {
            rebuilt
                .subtree(level, index)
                .unwrap_or_else(|never| match never {})
        });
        if expected != Some(hash) {
            problems.push(format!(
                "Merkle node ({level}, {index}) does not match the journal's leaves"
            ));
        }
        Ok(())
    })?;
    let expected_nodes: u64 = (STORED_LEVEL..64).map(|level| size >> level).sum();
    if stored != expected_nodes {
        problems.push(format!(
            "{stored} Merkle nodes are stored where the journal needs {expected_nodes}"
        ));
    }
    let mut checkpoints = 0u64;
    let mut previous: Option<(u64, Hash)> = None;
    for mut row in sql.rows("SELECT size, note FROM checkpoint ORDER BY size", &[])? {
        let (stored_size, note): (u64, _) = (row.count(0)?, row.text(1)?);
        checkpoints += 1;
        let checkpoint = match verifier.verify(&note) {
            Ok(checkpoint) => checkpoint,
            Err(e) => {
                problems.push(format!("checkpoint at size {stored_size}: {e}"));
                continue;
            }
        };
        if checkpoint.size != stored_size || checkpoint.size > size {
            problems.push(format!(
                "checkpoint at size {stored_size} claims size {} of a journal of {size}",
                checkpoint.size
            ));
            continue;
        }
        let root = merkle::root(&rebuilt, checkpoint.size).unwrap_or_else(|never| match never {});
        if checkpoint.root != root {
            problems.push(format!(
                "checkpoint at size {stored_size}: its root is not the journal's root at that size"
            ));
            continue;
        }
        if let Some((old_size, old_root)) = previous {
            // The rebuilt tree is in memory and its nodes were compared above; no disk reads.
            let proof = merkle::consistency_proof(&rebuilt, old_size, checkpoint.size)
                .unwrap_or_else(|never| match never {});
            if !merkle::verify_consistency(
                old_size,
                checkpoint.size,
                &old_root,
                &checkpoint.root,
                &proof,
            ) {
                problems.push(format!(
                    "checkpoints at sizes {old_size} and {stored_size} are not consistent"
                ));
            }
        }
        previous = Some((checkpoint.size, checkpoint.root));
    }
    Ok(TreeReport {
        size,
        root: rebuilt.root(),
        checkpoints,
        problems,
    })
}
