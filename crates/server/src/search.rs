//! Finding persons by name in any script or romanization: "Kim Eun-joo",
//! "Eunju Kim", "KIM Ŭn-ju" and "김은주" find each other through the Korean
//! name keys of `girok-korean`; other text matches as a case-folded
//! substring. The index is rebuilt when the journal has grown.

use std::sync::{Arc, Mutex};

use girok_model::{Record, RecordId};
use girok_store::{SqliteStore, Store, StoreError};

struct Entry {
    id: RecordId,
    keys: Vec<u64>,
    folded: String,
}

/// Person names by journal head.
#[derive(Default)]
pub struct NameIndex {
    built: Mutex<Option<(u64, Arc<Vec<Entry>>)>>,
}

fn keys_of(text: &str) -> Vec<u64> {
    girok_korean::parse_name(text)
        .map(|parsed| parsed.keys().iter().map(|k| k.hash64()).collect())
        .unwrap_or_default()
}

impl NameIndex {
    fn entries(&self, store: &SqliteStore) -> Result<Arc<Vec<Entry>>, StoreError> {
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
        let entries = Arc::new(entries);
        *built = Some((head, entries.clone()));
        Ok(entries)
    }

    /// Persons whose names match `query`, in id order, at most `limit`.
    pub fn search(
        &self,
        store: &SqliteStore,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RecordId>, StoreError> {
        let entries = self.entries(store)?;
        let wanted = keys_of(query);
        let folded = query.trim().to_lowercase();
        Ok(entries
            .iter()
            .filter(|entry| {
                wanted.iter().any(|k| entry.keys.binary_search(k).is_ok())
                    || (!folded.is_empty() && entry.folded.contains(&folded))
            })
            .take(limit)
            .map(|entry| entry.id.clone())
            .collect())
    }
}
