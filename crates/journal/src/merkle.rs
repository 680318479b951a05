//! The RFC 6962 / RFC 9162 Merkle tree over journal entries.
//!
//! Hashes: leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right);
//! the tree of `n` leaves splits at the largest power of two below `n`.
//! Proof generation works over any [`Subtrees`] source of *perfect* subtree
//! hashes (2^level leaves starting at a multiple of 2^level), so a store can
//! keep just those on disk and answer any proof without rebuilding the tree.
//! The verifiers are the algorithms of RFC 9162, sections 2.1.3.2 and 2.1.4.2,
//! and use nothing but the proof.

use sha2::{Digest, Sha256};

use crate::Hash;

/// SHA-256 of the empty string: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two strictly smaller than `n` (for `n` ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// A source of perfect subtree hashes: `subtree(level, index)` is the hash of
/// leaves `index·2^level .. (index+1)·2^level`. Level 0 is the leaf hashes.
pub trait Subtrees {
    type Error;
    fn subtree(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// MTH(D[start..end]) for a range the RFC recursion produces: `start` is a
/// multiple of the largest power of two not above `end - start`.
pub fn range_hash<S: Subtrees>(tree: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return tree.subtree(n.trailing_zeros(), start / n);
    }
    let k = split(n);
    Ok(node_hash(
        &range_hash(tree, start, start + k)?,
        &range_hash(tree, start + k, end)?,
    ))
}

/// The root of the first `size` leaves.
pub fn root<S: Subtrees>(tree: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        Ok(empty_root())
    } else {
        range_hash(tree, 0, size)
    }
}

/// PATH(m, D[0..size]) of RFC 6962 2.1.1: the audit path of leaf `index`.
pub fn inclusion_proof<S: Subtrees>(
    tree: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    path(tree, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path<S: Subtrees>(
    tree: &S,
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(tree, m, start, start + k, proof)?;
        proof.push(range_hash(tree, start + k, end)?);
    } else {
        path(tree, m - k, start + k, end, proof)?;
        proof.push(range_hash(tree, start, start + k)?);
    }
    Ok(())
}

/// PROOF(m, D[0..size]) of RFC 6962 2.1.2: proves the tree of `old_size`
/// leaves is a prefix of the tree of `new_size` leaves.
pub fn consistency_proof<S: Subtrees>(
    tree: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(tree, old_size, 0, new_size, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<S: Subtrees>(
    tree: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            proof.push(range_hash(tree, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(tree, m, start, start + k, complete, proof)?;
        proof.push(range_hash(tree, start + k, end)?);
    } else {
        subproof(tree, m - k, start + k, end, false, proof)?;
        proof.push(range_hash(tree, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 2.1.3.2: does `proof` show leaf `index` with `leaf` hash in the tree of `size` with `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 2.1.4.2: does `proof` show the tree (`old_size`, `old_root`) is a
/// prefix of the tree (`new_size`, `new_root`)?
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 || old_size > new_size || proof.is_empty() {
        // A consistency proof from the empty tree is empty and proves nothing to check.
        return old_size == 0 && proof.is_empty() && old_size < new_size;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old_size.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *old_root && sr == *new_root
}

/// A whole tree in memory, kept as its perfect subtrees: what `verify` builds
/// from the leaves, and the reference the stored tree is tested against.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` = subtree(l, i).
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// Appends a leaf hash; O(log n) node hashes at worst, O(1) amortized.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let row = &self.levels[level];
            if !row.len().is_multiple_of(2) {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn root(&self) -> Hash {
        // Every range the recursion asks for is within the tree.
        root(self, self.size()).unwrap_or_else(|never| match never {})
    }
}

impl Subtrees for MemoryTree {
    type Error = std::convert::Infallible;
    fn subtree(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.levels[level as usize][index as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;

    fn tree(leaves: &[Vec<u8>]) -> MemoryTree {
        let mut tree = MemoryTree::default();
        for leaf in leaves {
            tree.push(leaf_hash(leaf));
        }
        tree
    }

    fn numbered(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    /// The reference data of ../shared/data/rfc6962-roots.tsv, read from the file itself.
    #[test]
    fn roots_match_the_rfc6962_test_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/rfc6962-roots.tsv"
        );
        let text = std::fs::read_to_string(path)
            .expect("shared/data/rfc6962-roots.tsv beside the repository");
        let leaves_line = text
            .lines()
            .find(|l| l.starts_with("# Leaves"))
            .expect("leaves line");
        let leaves: Vec<Vec<u8>> = leaves_line
            .split(':')
            .nth(1)
            .expect("leaves")
            .split_whitespace()
            .map(|h| {
                if h == "(empty)" {
                    Vec::new()
                } else {
                    hex::decode(h).expect("hex")
                }
            })
            .collect();
        assert_eq!(leaves.len(), 8);
        let mut checked = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("tree_size"))
        {
            let (size, root_hex) = line.split_once('\t').expect("tab");
            let size: usize = size.parse().expect("size");
            assert_eq!(
                hex::encode(tree(&leaves[..size]).root()),
                root_hex,
                "tree of {size}"
            );
            checked += 1;
        }
        assert_eq!(checked, 9);
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        let leaves = numbered(70);
        for size in 1..=70u64 {
            let tree = tree(&leaves[..size as usize]);
            let root = tree.root();
            for index in 0..size {
                let proof = inclusion_proof(&tree, index, size).expect("proof");
                let leaf = leaf_hash(&leaves[index as usize]);
                assert!(
                    verify_inclusion(&leaf, index, size, &proof, &root),
                    "{index} in {size}"
                );
                assert!(!verify_inclusion(
                    &leaf_hash(b"forged"),
                    index,
                    size,
                    &proof,
                    &root
                ));
                if size > 1 {
                    assert!(!verify_inclusion(
                        &leaf,
                        (index + 1) % size,
                        size,
                        &proof,
                        &root
                    ));
                    let mut bad = proof.clone();
                    bad[0][0] ^= 1;
                    assert!(!verify_inclusion(&leaf, index, size, &bad, &root));
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forked_history_does_not() {
        let leaves = numbered(40);
        let full = tree(&leaves);
        let mut forked_leaves = leaves.clone();
        forked_leaves[5] = b"rewritten".to_vec();
        let forked = tree(&forked_leaves);
        for new in 1..=40u64 {
            let new_root = root(&full, new).expect("root");
            for old in 1..=new {
                let old_root = root(&full, old).expect("root");
                let proof = consistency_proof(&full, old, new).expect("proof");
                assert!(
                    verify_consistency(old, new, &old_root, &new_root, &proof),
                    "{old} -> {new}"
                );
                if old > 5 && old < new {
                    let forked_root = root(&forked, old).expect("root");
                    assert!(
                        !verify_consistency(old, new, &forked_root, &new_root, &proof),
                        "fork {old} -> {new}"
                    );
                }
            }
        }
    }

    #[test]
    fn proofs_have_logarithmic_length() {
        let tree = tree(&numbered(1000));
        assert_eq!(inclusion_proof(&tree, 500, 1000).expect("proof").len(), 10);
        assert!(consistency_proof(&tree, 300, 1000).expect("proof").len() <= 11);
    }
}
