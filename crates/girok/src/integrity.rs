//! The installation key, checkpoints and `girok verify`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use girok_journal::bundle;
use girok_journal::checkpoint::VerifierKey;
use girok_model::{Change, RecordId};
use girok_service::Extension;
use girok_service::evidence;
use girok_service::proofs::BundleSummary;
use girok_store::{AuditLog, Database, Store};

/// Prints the chain of custody of a file.
pub fn print_custody(store: &Database, sha256: &str) -> Result<()> {
    let custody = store.custody(sha256)?;
    let evidence = evidence::evidence_of(store, sha256, &custody)?;
    let size = evidence
        .content_size()
        .map_or_else(|| "size sealed".to_string(), |size| format!("{size} bytes"));
    println!(
        "{} ({size}), evidence record {} of source {}",
        evidence.file_name, evidence.id, evidence.source
    );
    for row in &custody {
        let entry = &row.entry;
        if let Change::Custody {
            action,
            recipient,
            note,
            ..
        } = &entry.change
        {
            let to = recipient
                .as_ref()
                .map(|r| format!(" to {r}"))
                .unwrap_or_default();
            println!(
                "#{} {} {} {action}{to} {note}",
                entry.seq, entry.time, entry.actor
            );
        }
    }
    Ok(())
}

/// The first line of a signed audit head.
const AUDIT_HEAD: &str = "girok audit log";

/// The audit log's head, signed with the checkpoint key.
pub fn sign_audit_head(data: &Path) -> Result<String> {
    let (count, hash) = girok_service::open_audit_log(data)?.head()?;
    Ok(girok_service::signer(data)?
        .sign_text(&format!("{AUDIT_HEAD}\n{count}\n{}\n", hex::encode(hash))))
}

/// Whether the audit log still holds the entries of a signed head: `None`
/// if it does, else what is wrong.
pub fn check_audit_head(log: &AuditLog, data: &Path, note: &str) -> Result<Option<String>> {
    let text = verifier(data)?
        .open(note)
        .context("the signed audit head does not verify with this installation's key")?;
    let mut lines = text.lines();
    let (Some(AUDIT_HEAD), Some(count), Some(hash), None) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        bail!("this is not a signed audit head");
    };
    let count: u64 = count.parse().context("the signed audit head's count")?;
    let (now, _) = log.head()?;
    if now < count {
        return Ok(Some(format!(
            "TRUNCATED: the audit log has {now} entries, but {count} were signed"
        )));
    }
    match log.hash_at(count)? {
        _ if count == 0 => Ok(None),
        Some(stored) if hex::encode(&stored) == hash => Ok(None),
        _ => Ok(Some(format!(
            "REWRITTEN: audit entry {count} is not the one that was signed"
        ))),
    }
}

/// The installation's public verifier key.
pub fn verifier(data: &Path) -> Result<VerifierKey> {
    Ok(girok_service::verifier(data)?)
}

/// Signs and keeps a checkpoint of the current tree; returns its size and note.
pub fn checkpoint(store: &mut Database, data: &Path) -> Result<(u64, String)> {
    Ok(girok_service::checkpoint(store, data)?)
}

/// Writes the proof bundle of a record into `out` (which must not exist yet).
pub fn prove(
    store: &mut Database,
    data: &Path,
    actor: &str,
    id: &str,
    out: &Path,
    files_for: Option<String>,
) -> Result<BundleSummary> {
    Ok(girok_service::proofs::prove(
        store,
        data,
        actor,
        &RecordId::new(id),
        out,
        files_for,
    )?)
}

/// `girok verify-bundle`: needs no database.
pub fn verify_bundle(dir: &Path, key: &str) -> Result<bool> {
    let key = VerifierKey::parse(key).context("--key is not a verifier key")?;
    match bundle::verify(dir, &key) {
        Ok(report) => {
            println!(
                "VERIFIED: {} journal entries about {} are in the tree of {} entries signed by {}; {} evidence files re-hashed",
                report.entries,
                report.record,
                report.tree_size,
                report.origin,
                report.files_checked
            );
            Ok(true)
        }
        Err(error) => {
            println!("NOT VERIFIED: {error}");
            Ok(false)
        }
    }
}

/// `girok verify`: every check there is; returns whether all passed.
pub fn verify(
    store: &Database,
    data: &Path,
    against: Option<&Path>,
    key: Option<&str>,
) -> Result<bool> {
    let verifier = match key {
        Some(text) => VerifierKey::parse(text).context("--key is not a verifier key")?,
        None => verifier(data)?,
    };
    let report = crate::check(store)?;
    let tree = store.verify_tree(&verifier)?;
    println!(
        "Rebuilt the Merkle tree of {} entries from the journal: root {}; {} checkpoints checked",
        tree.size,
        hex::encode(tree.root),
        tree.checkpoints
    );
    for problem in &tree.problems {
        println!("TREE: {problem}");
    }
    let evidence = evidence::check_all(store, data)?;
    println!(
        "Re-hashed {} evidence files",
        evidence.files - evidence.unread.len() as u64
    );
    for note in &evidence.unread {
        println!("NOTE: {note}");
    }
    for problem in &evidence.problems {
        println!("EVIDENCE: {problem}");
    }
    let mut clean = report.is_clean() && tree.problems.is_empty() && evidence.problems.is_empty();
    if let Some(path) = against {
        let note = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let extension = match girok_service::extends(store, &verifier, &note) {
            Err(girok_service::ServiceError::NotOurCheckpoint(e)) => bail!(
                "{} is not a valid checkpoint from this key: {e}",
                path.display()
            ),
            other => other?,
        };
        match extension {
            Extension::RolledBack { signed, now } => {
                println!(
                    "ROLLED BACK: the checkpoint in {} covers {signed} entries, but this database has only {now}; \
                     it was rolled back to an older copy or truncated",
                    path.display(),
                );
                clean = false;
            }
            Extension::Extends { size } => println!(
                "OK: this database extends the checkpoint in {} (size {size})",
                path.display(),
            ),
            Extension::Forked { signed } => {
                println!(
                    "FORKED: this database does not extend the checkpoint in {}: entries up to {signed} differ from what was signed",
                    path.display(),
                );
                clean = false;
            }
        }
    }
    println!(
        "{}",
        if clean {
            "VERIFIED: journal, state, tree and checkpoints are consistent."
        } else {
            "NOT VERIFIED: see the problems above."
        }
    );
    Ok(clean)
}
