//! Secrets of the installation that every server must hold alike: the key
//! of the pseudonyms in partners' and public exports. Embedded, it is a
//! file of the data directory (`pseudonym.key`, owner-only); on a team's
//! PostgreSQL database it is in the database, so every server's exports
//! give a person the same pseudonym and partners can follow records across
//! them.

use std::path::Path;

use girok_store::sql::Sql;
use girok_store::{Place, Schema, Sidecar, StoreError, run_script};

use crate::ServiceError;

/// The pseudonym key's file in an embedded data directory.
pub const PSEUDONYM_FILE: &str = "pseudonym.key";

static SCHEMA: Schema = Schema {
    name: "secrets",
    steps: &[|sql| run_script(sql, TABLE)],
    postgres: TABLE,
    postgres_version: 1,
    append_only: &[],
    mutable: &["installation_secret"],
};

const TABLE: &str = "CREATE TABLE installation_secret (name TEXT PRIMARY KEY, value BLOB NOT NULL)";

/// Bytes of a new key: 256 random bits.
const KEY_BYTES: usize = 32;

fn random_key() -> Result<Vec<u8>, ServiceError> {
    let mut key = vec![0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(key)
}

/// The pseudonym key, made on first use; every later use, from any server,
/// gets the same one.
pub fn pseudonym_key(data: &Path) -> Result<Vec<u8>, ServiceError> {
    let Some(place) = crate::shared_database(data)? else {
        let path = data.join(PSEUDONYM_FILE);
        if !path.exists() {
            crate::write_owner_only(&path, &random_key()?)?;
        }
        return std::fs::read(&path).map_err(|source| {
            StoreError::Io {
                context: format!("cannot read {}", path.display()),
                source,
            }
            .into()
        });
    };
    let secrets = Sidecar::open(&place, &SCHEMA)?;
    let made = random_key()?;
    // Two servers making it at once keep the first one written.
    Ok(secrets.write(|sql: &dyn Sql| {
        sql.execute(
            "INSERT INTO installation_secret (name, value) VALUES ('pseudonym', ?1)
             ON CONFLICT (name) DO NOTHING",
            &[made.as_slice().into()],
        )?;
        sql.row(
            "SELECT value FROM installation_secret WHERE name = 'pseudonym'",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("the pseudonym key was not kept".into()))?
        .blob(0)
    })?)
}

/// Keeps `key` as the pseudonym key of a new shared database (a restore).
pub(crate) fn keep_pseudonym_key(place: &Place, key: &[u8]) -> Result<(), ServiceError> {
    let secrets = Sidecar::open(place, &SCHEMA)?;
    Ok(secrets.write(|sql: &dyn Sql| {
        sql.execute(
            "INSERT INTO installation_secret (name, value) VALUES ('pseudonym', ?1)",
            &[key.into()],
        )
    })?)
}

/// Lets a PostgreSQL role read the installation's secrets (and make them).
pub(crate) fn grant_to(place: &Place, role: &str) -> Result<(), ServiceError> {
    Ok(Sidecar::open(place, &SCHEMA)?.grant_to(role)?)
}

/// Makes the table as the database's owner, when the database is made.
pub(crate) fn create(place: &Place) -> Result<(), ServiceError> {
    Sidecar::open(place, &SCHEMA)?;
    Ok(())
}
