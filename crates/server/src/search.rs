//! Finding persons by name in any script or romanization: "Kim Eun-joo",
//! "Eunju Kim", "KIM Ŭn-ju" and "김은주" find each other through the Korean
//! name keys of `girok-korean` (looked up in a map, not scanned); text that
//! does not read as a Korean name matches as a case-folded substring. The
//! index is built once from every record, then follows the journal: the
//! persons changed by the entries written since are read again, so a write
//! costs a search what it changed, not a scan of every record. The titles
//! of sources and events are kept beside the names, for the pickers of the
//! forms (found by a case-folded part of the title).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use girok_model::{FuzzyDate, Person, Record, RecordId, RecordKind};
use girok_store::{Database, Store, StoreError};

#[derive(Clone)]
struct Entry {
    id: RecordId,
    kind: RecordKind,
    keys: Vec<u64>,
    folded: String,
    /// A source's or event's title as recorded and its date, for a picker's label.
    shown: Option<(String, FuzzyDate)>,
}

/// A source or event a title search found: its id, title and date.
pub struct Titled {
    pub id: RecordId,
    pub title: String,
    pub when: FuzzyDate,
}

impl Entry {
    /// A person's names, or a source's or event's title; other records are not searched.
    fn of(record: Record) -> Option<Entry> {
        let titled = |id: RecordId, kind, title: String, when: FuzzyDate| Entry {
            id,
            kind,
            keys: Vec::new(),
            folded: title.to_lowercase(),
            shown: Some((title, when)),
        };
        Some(match record {
            Record::Person(person) => Entry::of_person(person),
            Record::Source(source) => {
                titled(source.id, RecordKind::Source, source.title, source.obtained)
            }
            Record::Event(event) => titled(event.id, RecordKind::Event, event.title, event.date),
            _ => return None,
        })
    }

    /// A slot that matches nothing: no keys, no text.
    fn empty(id: &RecordId) -> Entry {
        Entry {
            id: id.clone(),
            kind: RecordKind::Person,
            keys: Vec::new(),
            folded: String::new(),
            shown: None,
        }
    }

    fn of_person(person: Person) -> Entry {
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
            kind: RecordKind::Person,
            keys,
            folded,
            shown: None,
        }
    }
}

/// The persons, sources and events and, for each name key, the persons who
/// have it. A record deleted keeps its slot with no keys and no text, so
/// slots never move.
#[derive(Default, Clone)]
struct Built {
    entries: Vec<Entry>,
    by_key: HashMap<u64, Vec<usize>>,
    by_id: HashMap<RecordId, usize>,
    /// The slots of sources and events, so a title search reads no person.
    titled: Vec<usize>,
}

impl Built {
    /// Puts `entry` in the slot of `id` (a new one if it has none), or
    /// empties that slot when there is no such record any more.
    fn set(&mut self, id: &RecordId, entry: Option<Entry>) {
        let entry = entry.unwrap_or_else(|| Entry::empty(id));
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
                let slot = self.entries.len();
                self.entries.push(Entry::empty(id));
                self.by_id.insert(id.clone(), slot);
                if entry.kind != RecordKind::Person {
                    self.titled.push(slot);
                }
                slot
            }
        };
        for key in &entry.keys {
            self.by_key.entry(*key).or_default().push(slot);
        }
        self.entries[slot] = entry;
    }
}

/// Person names, source and event titles as of a journal head.
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
                // Entries are read newest first; the records they touch, as they are now.
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
                    let entry = match store.get(&id)? {
                        Some(stored) => match Entry::of(stored.record) {
                            Some(entry) => Some(entry),
                            None => continue,
                        },
                        None => None,
                    };
                    updated.set(&id, entry);
                }
                *at = head;
                return Ok(index.clone());
            }
            _ => {}
        }
        let mut index = Built::default();
        store.for_each_record(&mut |record| {
            if let Some(entry) = Entry::of(record) {
                let id = entry.id.clone();
                index.set(&id, Some(entry));
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
        // A name: the persons whose names read the same, through the key map.
        let mut by_key: Vec<usize> = keys_of(query)
            .iter()
            .filter_map(|k| index.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        by_key.sort_unstable();
        by_key.dedup();
        let found: Vec<RecordId> = if !by_key.is_empty() {
            by_key
                .into_iter()
                .take(limit)
                .map(|i| index.entries[i].id.clone())
                .collect()
        } else {
            // Not a name read alike (part of a name, an id fragment, other
            // scripts): a substring of the names.
            let folded = query.trim().to_lowercase();
            index
                .entries
                .iter()
                .filter(|entry| entry.kind == RecordKind::Person)
                .filter(|entry| !folded.is_empty() && entry.folded.contains(&folded))
                .take(limit)
                .map(|entry| entry.id.clone())
                .collect()
        };
        store.consulted(&found)?;
        Ok(found)
    }

    /// Sources or events (`kind`) whose titles contain `query` (case
    /// folded), in the order they were recorded, at most `limit`, with their
    /// titles and dates (no record is read again); recorded in the audit log
    /// as consulted, like names.
    pub fn titled(
        &self,
        store: &Database,
        kind: RecordKind,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Titled>, StoreError> {
        let index = self.entries(store)?;
        let folded = query.trim().to_lowercase();
        let found: Vec<Titled> = index
            .titled
            .iter()
            .map(|&slot| &index.entries[slot])
            .filter(|entry| entry.kind == kind && !folded.is_empty())
            .filter(|entry| entry.folded.contains(&folded))
            .filter_map(|entry| {
                let (title, when) = entry.shown.clone()?;
                Some(Titled {
                    id: entry.id.clone(),
                    title,
                    when,
                })
            })
            .take(limit)
            .collect();
        let ids: Vec<RecordId> = found.iter().map(|t| t.id.clone()).collect();
        store.consulted(&ids)?;
        Ok(found)
    }
}
