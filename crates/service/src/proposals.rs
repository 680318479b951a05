//! Moving the plaintext proposals file of earlier versions into the database.

use std::path::Path;

use girok_journal::format_time;
use girok_linkage::proposals::{self, encode_links, encode_training};
use girok_model::RecordId;
use girok_store::{Database, LinkRun, ProposedRecord, StoredProposal};

use crate::ServiceError;

/// Moves `DIR/link-proposals.json`, if there is one, into the database
/// without its names, birth years and origins, then overwrites and removes
/// the file; returns whether there was one. Every open does it, so the
/// file does not outlive the first command of a new version.
pub fn adopt_legacy_proposals(store: &Database, data: &Path) -> Result<bool, ServiceError> {
    let Some(legacy) = proposals::read_legacy(data)? else {
        return Ok(false);
    };
    let run = LinkRun {
        journal_size: legacy.journal_size,
        time: format_time(chrono::Utc::now()),
        training: legacy.training.as_ref().map(encode_training),
    };
    let rows: Vec<StoredProposal> = legacy
        .proposals
        .iter()
        .map(|p| StoredProposal {
            number: 0,
            persons: p
                .persons
                .iter()
                .map(|person| ProposedRecord {
                    id: RecordId::new(&person.id),
                    sources: person.sources.clone(),
                })
                .collect(),
            probability: p.probability,
            links: encode_links(&p.links),
            decided: None,
        })
        .collect();
    store.replace_link_proposals(&run, &rows)?;
    proposals::destroy_legacy(data)?;
    Ok(true)
}
