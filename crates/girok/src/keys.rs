//! Unlocking encrypted databases, and the commands that manage their keys:
//! `init --encrypt`, `unlock`, `rekey` and `forget`.
//!
//! The secret comes from the key file given with `--key-file`, else from
//! `GIROK_PASSPHRASE` (for automation; the environment of a process is
//! readable by its user), else from a prompt when standard input is a
//! terminal. Without any, an encrypted database stays locked: commands run,
//! and nothing identifying can be read or written.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::terminal;
use anyhow::{Context, Result, bail};
use girok_model::{Change, RecordId};
use girok_store::{Database, KdfParams, LockState, Store, Unlock};

/// The variable holding a passphrase for unattended use.
pub const PASSPHRASE_VARIABLE: &str = "GIROK_PASSPHRASE";
/// The variable holding the new passphrase for `girok rekey`.
pub const NEW_PASSPHRASE_VARIABLE: &str = "GIROK_NEW_PASSPHRASE";

fn read_key_file(path: &Path) -> Result<Unlock> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    Ok(Unlock::KeyFile(bytes))
}

/// A passphrase typed on the terminal (not echoed), or a line of standard
/// input when it is not a terminal.
fn ask(prompt: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}: ");
        std::io::stderr().flush().ok();
        return Ok(rpassword::read_password()?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Erases `GIROK_PASSPHRASE` from this process's environment and from the
/// memory that `/proc/PID/environ` shows: a long-running server must not keep
/// the passphrase where every process of its user can read it (removing the
/// variable alone leaves its bytes there). Call it before any thread starts.
pub fn erase_passphrase_variable() {
    let Ok(name) = std::ffi::CString::new(PASSPHRASE_VARIABLE) else {
        return;
    };
    // SAFETY: no other thread exists yet, so none reads or changes the
    // environment meanwhile; getenv returns null or a pointer to the
    // variable's NUL-terminated value, and exactly its bytes before the NUL
    // are overwritten.
    unsafe {
        let value = libc::getenv(name.as_ptr());
        if !value.is_null() {
            std::ptr::write_bytes(value, 0, libc::strlen(value));
        }
        std::env::remove_var(PASSPHRASE_VARIABLE);
    }
}

/// The secret that unlocks an existing database, if one is at hand.
pub fn secret_at_hand(key_file: Option<&Path>) -> Result<Option<Unlock>> {
    secret_given(key_file, true)
}

/// The key file or `GIROK_PASSPHRASE`; with `prompt`, else a terminal prompt.
fn secret_given(key_file: Option<&Path>, prompt: bool) -> Result<Option<Unlock>> {
    if let Some(path) = key_file {
        return read_key_file(path).map(Some);
    }
    if let Ok(passphrase) = std::env::var(PASSPHRASE_VARIABLE) {
        return Ok(Some(Unlock::Passphrase(passphrase)));
    }
    if prompt && std::io::stdin().is_terminal() {
        return Ok(Some(Unlock::Passphrase(ask("Passphrase of the database")?)));
    }
    Ok(None)
}

/// Unlocks an encrypted store with whatever secret is at hand; a wrong one
/// is an error, none leaves it locked.
pub fn unlock(store: &mut Database, key_file: Option<&Path>) -> Result<()> {
    unlock_with(store, key_file, true)
}

/// Unlocks only with a secret given (key file or `GIROK_PASSPHRASE`), never
/// asking: for `verify`, which re-hashes sealed evidence files when it can.
pub fn unlock_if_given(store: &mut Database, key_file: Option<&Path>) -> Result<()> {
    unlock_with(store, key_file, false)
}

fn unlock_with(store: &mut Database, key_file: Option<&Path>, prompt: bool) -> Result<()> {
    if store.lock_state() != LockState::Locked {
        return Ok(());
    }
    if let Some(secret) = secret_given(key_file, prompt)? {
        store.unlock(&secret)?;
    }
    Ok(())
}

/// Creates a file of 256 random bits that only its owner can read.
fn create_random_key(path: &Path) -> Result<()> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut())
        .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(bytes.as_ref())?;
    file.sync_all()?;
    Ok(())
}

/// A new secret: the key file (created with 256 random bits if it does not
/// exist), else `variable`, else a passphrase typed twice.
pub fn new_secret(key_file: Option<&Path>, variable: &str) -> Result<Unlock> {
    if let Some(path) = key_file {
        if !path.exists() {
            create_random_key(path)?;
            println!(
                "Created the key file {} (keep a copy away from this machine: without it the data cannot be read)",
                path.display()
            );
        }
        return read_key_file(path);
    }
    if let Ok(passphrase) = std::env::var(variable) {
        return Ok(Unlock::Passphrase(passphrase));
    }
    let first = ask("New passphrase (at least 12 characters)")?;
    if std::io::stdin().is_terminal() && ask("The same passphrase again")? != first {
        bail!("the two passphrases differ; nothing was changed");
    }
    Ok(Unlock::Passphrase(first))
}

/// `girok init --encrypt`: the secret is asked for first, and a refused
/// one (too short) leaves no database behind.
pub fn create_encrypted(path: &Path, key_file: Option<&Path>) -> Result<Database> {
    let secret = new_secret(key_file, PASSPHRASE_VARIABLE)?;
    let mut store = Database::create(path)?;
    if let Err(error) = store.encrypt(&secret, KdfParams::default()) {
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return Err(error.into());
    }
    println!(
        "Identifying data (names, birth, origin, notes, interview titles, provenance) will be sealed \
         with XChaCha20-Poly1305 before it is journaled."
    );
    Ok(store)
}

/// `girok unlock`: proves the secret and reports the keys.
pub fn report_unlock(store: &mut Database, key_file: Option<&Path>) -> Result<()> {
    match store.lock_state() {
        LockState::Plain => {
            bail!("the database is not encrypted (create one with `girok init --encrypt`)")
        }
        LockState::Locked => {
            let secret = secret_at_hand(key_file)?.context(
                "no secret to unlock with: give --key-file, set GIROK_PASSPHRASE or run on a terminal",
            )?;
            store.unlock(&secret)?;
        }
        LockState::Unlocked => {}
    }
    let (keys, forgotten) = store.key_counts()?;
    println!("Unlocked: {keys} data keys, {forgotten} forgotten persons or sources.");
    Ok(())
}

/// `girok rekey`: a new master key for a new secret; every data key is rewrapped.
pub fn rekey(store: &mut Database, new_key_file: Option<&Path>) -> Result<()> {
    if store.lock_state() != LockState::Unlocked {
        bail!("unlock the database first (--key-file, GIROK_PASSPHRASE or a terminal)");
    }
    let secret = new_secret(new_key_file, NEW_PASSPHRASE_VARIABLE)?;
    let rewrapped = store.rotate(&secret, KdfParams::default())?;
    println!(
        "New master key: {rewrapped} data keys rewrapped; the old passphrase or key file no longer opens the database."
    );
    Ok(())
}

/// `girok forget`: destroys a person's or source's data key.
pub fn forget(store: &mut Database, actor: &str, subject: &str, reason: &str) -> Result<()> {
    if store.lock_state() == LockState::Plain {
        bail!(
            "the database is not encrypted, so there is no key to destroy; \
             identifying data in a plain database can only be removed by deleting the database"
        );
    }
    let change = Change::Forget {
        subject: RecordId::new(subject),
        reason: reason.to_string(),
    };
    let (seq, _) = store.write(actor, |sink| sink.apply(change))?;
    println!(
        "Forgot {subject} (journal entry {seq}): its data key is destroyed and its identifying data can never be read again; \
         its de-identified facts remain. Backups made before now still hold the key."
    );
    Ok(())
}

/// `girok audit`: the entries, then whether the chain holds (and still
/// extends a signed head, if one is given).
pub fn print_audit(data: &Path, last: Option<usize>, against: Option<&Path>) -> Result<bool> {
    let log = girok_service::open_audit_log(data)?;
    let entries = log.entries()?;
    let skip = last.map_or(0, |n| entries.len().saturating_sub(n));
    for entry in &entries[skip..] {
        let more = entry.count.saturating_sub(entry.subjects.len() as u64);
        println!(
            "{:>6}  {}  {}  why: {}  did: {}  read: {}{}",
            entry.seq,
            entry.time,
            terminal::line(&entry.actor),
            terminal::line(&entry.purpose),
            terminal::line(&entry.action),
            terminal::line(&entry.subjects.join(", ")),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    let report = log.verify()?;
    if let Some(path) = against {
        let note = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(problem) = crate::integrity::check_audit_head(&log, data, &note)? {
            println!("{problem}");
            return Ok(false);
        }
        println!(
            "OK: the log still holds every entry of the head signed in {}.",
            path.display()
        );
    }
    match report.broken_at {
        None => {
            println!("OK: {} audit entries, hash chain intact.", report.entries);
            Ok(true)
        }
        Some(seq) => {
            println!(
                "BROKEN: audit entry {seq} does not follow from the entries before it: the log was altered or entries were removed."
            );
            Ok(false)
        }
    }
}
