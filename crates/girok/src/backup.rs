//! `girok backup` and `girok restore`: the whole data directory (database,
//! users, keys, evidence files) as one encrypted, authenticated file, and
//! a restore that verifies the journal before it accepts anything.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result, bail};
use girok_service::jobs::Progress;
use girok_store::{Database, Store};
use girok_vault::stream::open_backup;

pub fn backup(data: &Path, out: &Path, key_file: Option<&Path>) -> Result<()> {
    // Opened first: a directory that is not a data directory is refused before any secret is asked.
    drop(girok_service::open(data)?);
    let secret = crate::keys::new_secret(key_file, crate::keys::PASSPHRASE_VARIABLE)?;
    let file = File::create_new(out)
        .with_context(|| format!("cannot create {} (it must not exist)", out.display()))?;
    let contents = match girok_service::backup::write(data, file, &secret, &Progress::default()) {
        Ok(contents) => contents,
        Err(error) => {
            // A refused secret or a failed write leaves no partial backup behind.
            let _ = std::fs::remove_file(out);
            return Err(
                anyhow::Error::new(error).context(format!("cannot write {}", out.display()))
            );
        }
    };
    println!(
        "Backed up {} (journal of {} entries, root {}) and {} other files to {}, encrypted.",
        data.display(),
        contents.journal_size,
        contents.root,
        contents.other_files,
        out.display()
    );
    Ok(())
}

pub fn restore(
    backup: &Path,
    data: &Path,
    key_file: Option<&Path>,
    postgres: Option<&str>,
) -> Result<bool> {
    if data.exists() {
        bail!(
            "{} already exists; restore into a new directory (nothing was changed)",
            data.display()
        );
    }
    let secret = crate::keys::secret_at_hand(key_file)?
        .context("no secret to open the backup with: give --key-file, set GIROK_PASSPHRASE or run on a terminal")?;
    let input = File::open(backup).with_context(|| format!("cannot read {}", backup.display()))?;
    let (header, mut reader) = open_backup(BufReader::new(input), &secret)?;
    let parent = data
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".girok-restore-")
        .tempdir_in(parent)
        .context("cannot create a staging directory")?;
    tar::Archive::new(&mut reader)
        .unpack(staging.path())
        .context("the backup cannot be unpacked")?;
    // The archive ends before the stream does: the last chunk must still authenticate.
    std::io::copy(&mut reader, &mut std::io::sink()).context("the backup is damaged")?;
    println!(
        "The backup of {} authenticates: journal of {} entries, root {}.",
        header.created, header.journal_size, header.root
    );

    // The archive carries each file's mode as it was; a data directory is its owner's alone.
    girok_service::restrict_to_owner(staging.path())?;
    let store = Database::open(&staging.path().join("girok.sqlite"))?;
    let (size, root) = store.tree_head()?;
    if size != header.journal_size || hex::encode(root) != header.root {
        bail!(
            "the restored journal (size {size}, root {}) is not the one the backup was made from; nothing was restored",
            hex::encode(root)
        );
    }
    let clean = crate::integrity::verify(&store, staging.path(), None, None)?;
    drop(store);
    if !clean {
        println!("The restored journal does not verify; nothing was restored.");
        return Ok(false);
    }
    let Some(url) = postgres else {
        std::fs::rename(staging.keep(), data)
            .with_context(|| format!("cannot move the restored data to {}", data.display()))?;
        println!("Restored into {}.", data.display());
        return Ok(true);
    };
    let shared = girok_service::backup::restore_shared(staging.path(), data, url)?;
    let clean = crate::integrity::verify(&shared, data, None, None)?;
    if !clean {
        println!(
            "The journal copied into PostgreSQL does not verify: drop that database and restore again."
        );
        return Ok(false);
    }
    println!(
        "Restored into the PostgreSQL database {} names.",
        data.join(girok_service::POSTGRES_FILE).display()
    );
    Ok(true)
}
