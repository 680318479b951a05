//! Finding persons by name in any script or romanization: "Kim Eun-joo",
//! "Eunju Kim", "KIM Ŭn-ju" and "김은주" find each other through the Korean
//! name keys of `girok-korean` (looked up in a map, not scanned); text that
//! does not read as a Korean name matches as a case-folded substring. The
//! index is rebuilt when the journal has grown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use girok_model::{Record, RecordId};
use girok_store::{SqliteStore, Store, StoreError};

struct Entry {
    id: RecordId,
    keys: Vec<u64>,
    folded: String,
}

/// The persons and, for each name key, the persons who have it.
struct Built {
    entries: Vec<Entry>,
    by_key: HashMap<u64, Vec<usize>>,
}

/// Person names by journal head.
#[derive(Default)]
pub struct NameIndex {
    built: Mutex<Option<(u64, Arc<Built>)>>,
}

fn keys_of(text: &str) -> Vec<u64> {
    girok_korean::parse_name(text)
        .map(|parsed| parsed.keys().iter().map(|k| k.hash64()).collect())
        .unwrap_or_default()
}

impl NameIndex {
    /// Forgets the index, so the next search rebuilds it (after unlocking or locking).
    pub fn invalidate(&self) {
        *self
            .built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    fn entries(&self, store: &SqliteStore) -> Result<Arc<Built>, StoreError> {
        let (head, _) = store.head()?;
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, entries)) = built.as_ref()
            && *at == head
        {
            return Ok(entries.clone());
        }
        let mut entries = Vec::new();
        store.for_each_record(&mut |record| {
            if let Record::Person(person) = record {
                let mut keys: Vec<u64> =
                    person.names.iter().flat_map(|n| keys_of(&n.text)).collect();
                keys.sort_unstable();
                keys.dedup();
                let folded = person
                    .names
                    .iter()
                    .map(|n| n.text.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" | ");
                entries.push(Entry {
                    id: person.id,
                    keys,
                    folded,
                });
            }
            Ok(())
        })?;
        let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            for key in &entry.keys {
                by_key.entry(*key).or_default().push(i);
            }
        }
        let index = Arc::new(Built { entries, by_key });
        *built = Some((head, index.clone()));
        Ok(index)
    }

    /// Persons whose names match `query`, in id order, at most `limit`.
    /// The matches are recorded in the audit log as consulted: a match
    /// (or a count of matches) tells something of their names.
    pub fn search(
        &self,
        store: &SqliteStore,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RecordId>, StoreError> {
        let index = self.entries(store)?;
        let wanted = keys_of(query);
        let found: Vec<RecordId> = if !wanted.is_empty() {
            // A name: the persons whose names read the same, through the key map.
            let mut found: Vec<usize> = wanted
                .iter()
                .filter_map(|k| index.by_key.get(k))
                .flatten()
                .copied()
                .collect();
            found.sort_unstable();
            found.dedup();
            found
                .into_iter()
                .take(limit)
                .map(|i| index.entries[i].id.clone())
                .collect()
        } else {
            // Not a name (an id fragment, other scripts): a substring of the names.
            let folded = query.trim().to_lowercase();
            index
                .entries
                .iter()
                .filter(|entry| !folded.is_empty() && entry.folded.contains(&folded))
                .take(limit)
                .map(|entry| entry.id.clone())
                .collect()
        };
        store.consulted(&found)?;
        Ok(found)
    }
}
