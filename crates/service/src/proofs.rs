//! Proof bundles: a record's journal entries with their inclusion proofs in
//! a freshly signed tree, the checkpoint, the verifier key and its evidence
//! files' hashes (and bytes, copied to a named recipient as a custody
//! event). Anyone holding the bundle and a key they trust checks it with
//! nothing else (`girok_journal::bundle::verify`).

use std::path::Path;

use girok_journal::bundle::{self, Bundle};
use girok_model::{Change, CustodyAction, Evidence, Record, RecordId};
use girok_store::{Database, Store, StoreError};

use crate::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("there is no record {0}")]
    NoSuchRecord(RecordId),
    #[error("cannot write {path} (the bundle's directory must not exist yet): {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Evidence(#[from] crate::evidence::EvidenceError),
}

/// Writes the proof bundle of a record into `out` (which must not exist yet).
pub fn prove(
    store: &mut Database,
    data: &Path,
    actor: &str,
    id: &RecordId,
    out: &Path,
    files_for: Option<String>,
) -> Result<BundleSummary, ProofError> {
    let id = id.clone();
    let Some(stored) = store.get(&id)? else {
        return Err(ProofError::NoSuchRecord(id));
    };
    let evidence: Vec<Evidence> = match stored.record {
        Record::Evidence(evidence) => vec![evidence],
        // A source's evidence records refer to it; the store finds them by index.
        Record::Source(_) => {
            let mut found = Vec::new();
            for referrer in store
                .referrers(&id, u32::MAX)?
                .into_iter()
                .filter(|r| r.kind == "evidence")
            {
                if let Some(Record::Evidence(evidence)) = store.get(&referrer.id)?.map(|s| s.record)
                {
                    found.push(evidence);
                }
            }
            found
        }
        _ => Vec::new(),
    };
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ProofError::Write { path, source }
    };
    std::fs::create_dir(out).map_err(io(out))?;
    if let Some(recipient) = &files_for {
        let files = crate::evidence::files(data)?;
        std::fs::create_dir(out.join("files")).map_err(io(&out.join("files")))?;
        for file in &evidence {
            crate::evidence::copy_out(store, &files, file, &out.join("files").join(&file.sha256))?;
        }
        let copies: Vec<Change> = evidence
            .iter()
            .map(|e| Change::Custody {
                evidence: e.id.clone(),
                sha256: e.sha256.clone(),
                action: CustodyAction::Copy,
                recipient: Some(recipient.clone()),
                note: format!("included in the proof bundle of {id}"),
            })
            .collect();
        store.write(actor, |sink| {
            copies
                .into_iter()
                .try_for_each(|c| sink.apply(c).map(|_| ()))
        })?;
    }
    // The checkpoint comes after the copies, so the bundle proves them too.
    let (size, note) = crate::checkpoint(store, data)?;
    let mut rows = store.history(&id)?;
    for file in &evidence {
        rows.extend(store.history(&file.id)?);
    }
    rows.sort_by_key(|row| row.entry.seq);
    rows.dedup_by_key(|row| row.entry.seq);
    let entries = rows
        .iter()
        .map(|row| {
            let proof = store.inclusion_proof(row.entry.seq, size)?;
            Ok(bundle::ProvenEntry::new(
                row.entry.seq,
                &row.entry.encode(),
                &proof,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let listed = evidence
        .iter()
        .map(|e| bundle::EvidenceFile {
            record: e.id.clone(),
            sha256: e.sha256.clone(),
            file_name: e.file_name.clone(),
            size: e.content_size().unwrap_or(e.size),
            included: files_for.is_some(),
            // The salt lets the recipient check the bytes against the
            // journaled commitment; it goes only with the bytes.
            salt: files_for
                .as_ref()
                .and(e.content.as_ref())
                .map(|c| c.salt.clone()),
        })
        .collect();
    let contents = Bundle {
        format: bundle::FORMAT.to_string(),
        record: id,
        tree_size: size,
        entries,
        evidence: listed,
    };
    let json = serde_json::to_string_pretty(&contents).map_err(|e| ProofError::Write {
        path: "bundle.json".into(),
        source: std::io::Error::other(e),
    })?;
    for (name, text) in [
        ("checkpoint", note),
        ("key", format!("{}\n", crate::verifier(data)?)),
        ("bundle.json", json),
    ] {
        std::fs::write(out.join(name), text).map_err(io(&out.join(name)))?;
    }
    Ok(BundleSummary {
        entries: contents.entries.len(),
        files: evidence.len(),
        tree_size: size,
    })
}

/// What `prove` wrote.
pub struct BundleSummary {
    pub entries: usize,
    pub files: usize,
    pub tree_size: u64,
}
