//! Linkage without plaintext. A sealed person record carries keyed hashes
//! (blind indexes) of its names' Korean name keys, the keys under which
//! "Kim Eun-joo", "Eunju Kim" and "김은주" are one name. Two sealed records
//! sharing an index may name the same person; finding them needs neither
//! the names nor any key, so it works on a locked database and on a journal
//! shared with a partner for verification. Reviewing them needs the key.

use std::collections::{BTreeMap, HashMap};

use girok_model::RecordId;

/// An index shared by more records than this is a common name: it would
/// pair nearly everyone who has it, so it proposes nothing.
pub const MAX_SHARING: usize = 50;

/// Two sealed records whose names share blind indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindPair {
    pub a: RecordId,
    pub b: RecordId,
    /// How many indexes they share (more readings in common, stronger).
    pub shared: usize,
}

/// The candidate pairs among sealed records, strongest first.
pub fn candidates(records: &[(RecordId, Vec<String>)]) -> Vec<BlindPair> {
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, indexes)) in records.iter().enumerate() {
        for index in indexes {
            holders.entry(index.as_str()).or_default().push(i);
        }
    }
    let mut shared: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for members in holders.values() {
        if members.len() > MAX_SHARING {
            continue;
        }
        for (n, &a) in members.iter().enumerate() {
            for &b in &members[n + 1..] {
                if a != b {
                    *shared.entry((a.min(b), a.max(b))).or_default() += 1;
                }
            }
        }
    }
    let mut pairs: Vec<BlindPair> = shared
        .into_iter()
        .map(|((a, b), shared)| BlindPair {
            a: records[a].0.clone(),
            b: records[b].0.clone(),
            shared,
        })
        .collect();
    pairs.sort_by(|x, y| {
        y.shared
            .cmp(&x.shared)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, indexes: &[&str]) -> (RecordId, Vec<String>) {
        (
            RecordId::new(id),
            indexes.iter().map(|i| i.to_string()).collect(),
        )
    }

    #[test]
    fn records_sharing_indexes_pair_and_common_ones_do_not() {
        let mut records = vec![
            record("p1", &["a", "b"]),
            record("p2", &["b", "a"]),
            record("p3", &["b"]),
            record("p4", &["z"]),
        ];
        let pairs = candidates(&records);
        assert_eq!(
            pairs[0],
            BlindPair {
                a: RecordId::new("p1"),
                b: RecordId::new("p2"),
                shared: 2
            }
        );
        assert_eq!(pairs.len(), 3, "{pairs:?}");
        assert!(
            pairs
                .iter()
                .all(|p| p.a.as_str() != "p4" && p.b.as_str() != "p4")
        );
        // A hundred records sharing one index say nothing about each other.
        records.extend((0..100).map(|i| record(&format!("q{i}"), &["common"])));
        assert!(
            candidates(&records)
                .iter()
                .all(|p| !p.a.as_str().starts_with('q'))
        );
    }
}
