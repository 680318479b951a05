//! Text from records and logs, made safe to print on a terminal: stored text
//! can neither move the cursor, ring the bell or rewrite the screen (control
//! characters) nor reorder what a reader sees (bidirectional overrides). The
//! web pages show stored text through the same functions.

pub use girok_model::printable::{block, line};

/// What a data directory reading a replica says of it.
pub fn replica(standing: &girok_service::ReplicaStanding) -> String {
    let behind = match standing.entries_behind {
        Some(0) => "it has every journal entry of the primary".to_string(),
        Some(entries) => format!("it is {entries} journal entries behind the primary"),
        None => "the primary cannot be reached to compare".to_string(),
    };
    format!("Reading a read-only replica: nothing can be written here, and {behind}.")
}
