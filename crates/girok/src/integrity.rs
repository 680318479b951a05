//! The installation key, checkpoints and `girok verify`.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use girok_journal::checkpoint::{Checkpoint, SignerKey, VerifierKey};
use girok_journal::merkle;
use girok_store::{SqliteStore, Store};

/// The private checkpoint key inside a data directory.
const KEY_FILE: &str = "girok.key";

fn key_path(data: &Path) -> PathBuf {
    data.join(KEY_FILE)
}

/// Creates the installation's checkpoint key, readable by its owner only.
pub fn create_key(data: &Path) -> Result<VerifierKey> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("cannot draw random bytes: {e}"))?;
    let signer = SignerKey::generate(&format!("girok/{}", hex::encode(id)))?;
    let path = key_path(data);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    writeln!(file, "{}", signer.to_private_text())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()?;
    Ok(signer.verifier())
}

fn signer(data: &Path) -> Result<SignerKey> {
    let path = key_path(data);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read the checkpoint key {}; it is created by `girok init`",
            path.display()
        )
    })?;
    SignerKey::parse(&text).with_context(|| format!("{} is not a checkpoint key", path.display()))
}

/// The installation's public verifier key.
pub fn verifier(data: &Path) -> Result<VerifierKey> {
    Ok(signer(data)?.verifier())
}

/// Signs and keeps a checkpoint of the current tree; returns the note.
pub fn checkpoint(store: &mut SqliteStore, data: &Path) -> Result<String> {
    let signer = signer(data)?;
    let (size, root) = store.tree_head()?;
    let note = signer.sign(&Checkpoint {
        origin: signer.name().to_string(),
        size,
        root,
    });
    store.add_checkpoint(size, &root, &note)?;
    Ok(note)
}

/// `girok verify`: every check there is; returns whether all passed.
pub fn verify(
    store: &SqliteStore,
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
    let mut clean = report.is_clean() && tree.problems.is_empty();
    if let Some(path) = against {
        let note = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let held = match verifier.verify(&note) {
            Ok(checkpoint) => checkpoint,
            Err(e) => bail!(
                "{} is not a valid checkpoint from this key: {e}",
                path.display()
            ),
        };
        if held.size > tree.size {
            println!(
                "ROLLED BACK: the checkpoint in {} covers {} entries, but this database has only {}; \
                 it was rolled back to an older copy or truncated",
                path.display(),
                held.size,
                tree.size
            );
            clean = false;
        } else {
            let proof = store.consistency_proof(held.size, tree.size)?;
            if merkle::verify_consistency(held.size, tree.size, &held.root, &tree.root, &proof) {
                println!(
                    "OK: this database extends the checkpoint in {} (size {})",
                    path.display(),
                    held.size
                );
            } else {
                println!(
                    "FORKED: this database does not extend the checkpoint in {}: entries up to {} differ from what was signed",
                    path.display(),
                    held.size
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
