//! Finding persons by name in any script or romanization: "Kim Eun-joo",
//! "Eunju Kim", "KIM Ŭn-ju" and "김은주" find each other through the Korean
//! name keys of `girok-korean` (looked up in a map, not scanned); text that
//! does not read as a Korean name matches as a case-folded substring. The
//! index is built once from every record, then follows the journal: the
//! persons changed by the entries written since are read again, so a write
//! costs a search what it changed, not a scan of every record.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use girok_model::{Person, Record, RecordId};
use girok_store::{Database, Store, StoreError};

#[derive(Clone)]
struct Entry {
    id: RecordId,
    keys: Vec<u64>,
    folded: String,
}

impl Entry {
    fn of(person: Person) -> Entry {
        let mut keys: Vec<u64> = person.names.iter().flat_map(|n| keys_of(&n.text)).collect();
        keys.sort_unstable();
        keys.dedup();
        let folded = person
            .names
            .iter()
            .map(|n| n.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" | ");
        Entry {
            id: person.id,
            keys,
            folded,
        }
    }
}

/// The persons and, for each name key, the persons who have it. A person
/// deleted keeps its slot with no keys and no text, so slots never move.
#[derive(Default, Clone)]
struct Built {
    entries: Vec<Entry>,
    by_key: HashMap<u64, Vec<usize>>,
    by_id: HashMap<RecordId, usize>,
}

impl Built {
    /// Puts `person` in its slot (a new one if it has none), or empties the
    /// slot of `id` when there is no such person any more.
    fn set(&mut self, id: &RecordId, person: Option<Person>) {
        let entry = match person {
            Some(person) => Entry::of(person),
            None => Entry {
                id: id.clone(),
                keys: Vec::new(),
                folded: String::new(),
            },
        };
        let slot = match self.by_id.get(id) {
            Some(&slot) => {
                for key in &self.entries[slot].keys {
                    if let Some(slots) = self.by_key.get_mut(key) {
                        slots.retain(|s| *s != slot);
                    }
                }
                slot
            }
            None => {
                self.entries.push(Entry {
                    id: id.clone(),
                    keys: Vec::new(),
                    folded: String::new(),
                });
                self.by_id.insert(id.clone(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        for key in &entry.keys {
            self.by_key.entry(*key).or_default().push(slot);
        }
        self.entries[slot] = entry;
    }
}

/// Person names as of a journal head.
#[derive(Default)]
pub struct NameIndex {
    built: Mutex<Option<(u64, Arc<Built>)>>,
}

fn keys_of(text: &str) -> Vec<u64> {
    girok_korean::parse_name(text)
        .map(|parsed| parsed.keys().iter().map(|k| k.hash64()).collect())
        .unwrap_or_default()
}

/// Beyond this many new journal entries (an import), one scan of every
/// record is cheaper than reading each changed person again.
const FOLLOW_AT_MOST: u64 = 10_000;

impl NameIndex {
    /// Forgets the index, so the next search rebuilds it (after unlocking or locking).
    pub fn invalidate(&self) {
        *self
            .built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    fn entries(&self, store: &Database) -> Result<Arc<Built>, StoreError> {
        let (head, _) = store.head()?;
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match built.as_mut() {
            Some((at, index)) if *at == head => return Ok(index.clone()),
            Some((at, index)) if *at < head && head - *at <= FOLLOW_AT_MOST => {
                // Entries are read newest first; the persons they touch, as they are now.
                let mut changed: Vec<RecordId> = store
                    .recent((head - *at) as u32)?
                    .into_iter()
                    .filter(|row| row.entry.seq > *at)
                    .filter_map(|row| row.entry.change.subject().cloned())
                    .collect();
                changed.sort();
                changed.dedup();
                // Searches still holding the old index keep it; this one is theirs no longer.
                let updated = Arc::make_mut(index);
                for id in changed {
                    let person = match store.get(&id)? {
                        Some(stored) => match stored.record {
                            Record::Person(person) => Some(person),
                            _ => continue,
                        },
                        None => None,
                    };
                    updated.set(&id, person);
                }
                *at = head;
                return Ok(index.clone());
            }
            _ => {}
        }
        let mut index = Built::default();
        store.for_each_record(&mut |record| {
            if let Record::Person(person) = record {
                let id = person.id.clone();
                index.set(&id, Some(person));
            }
            Ok(())
        })?;
        let index = Arc::new(index);
        *built = Some((head, index.clone()));
        Ok(index)
    }

    /// Persons whose names match `query`, in id order, at most `limit`.
    /// The matches are recorded in the audit log as consulted: a match
    /// (or a count of matches) tells something of their names.
    pub fn search(
        &self,
        store: &Database,
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
