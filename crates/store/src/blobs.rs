//! Files kept in a database, content-addressed by their SHA-256: on a
//! team's installation the evidence files and the uploads waiting for
//! their import confirmation live in the shared database, so whichever
//! server process a request reaches has them. Each file is kept in parts of
//! [`PART`] bytes, written in one transaction and listed only once all of
//! them are in: a crash leaves either the whole file or nothing.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::sql::Sql;
use crate::{Place, Schema, Sidecar, StoreError, run_script};

/// Bytes per stored part: large enough that a file takes few rows, small
/// enough that one part is all a reader or writer holds in memory.
pub(crate) const PART: usize = 1 << 20;

/// The tables of kept files: what is kept, and its parts.
pub static SCHEMA: Schema = Schema {
    name: "blobs",
    steps: &[|sql| run_script(sql, TABLES)],
    postgres: TABLES,
    postgres_version: 1,
    append_only: &[],
    mutable: &["blob", "blob_part"],
};

const TABLES: &str = "
CREATE TABLE blob (
    space TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    -- Seconds since 1970 when it was kept: uploads expire.
    stored INTEGER NOT NULL,
    PRIMARY KEY (space, sha256));
CREATE TABLE blob_part (
    space TEXT NOT NULL, sha256 TEXT NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL,
    PRIMARY KEY (space, sha256, part))";

/// Kept files, in spaces of their own ("evidence", "import").
pub struct Blobs {
    sidecar: Sidecar,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Blobs {
    pub fn open(place: &Place) -> Result<Blobs, StoreError> {
        Ok(Blobs {
            sidecar: Sidecar::open(place, &SCHEMA)?,
        })
    }

    #[cfg(test)]
    pub(crate) fn sidecar_sql(&self) -> &dyn Sql {
        self.sidecar.sql()
    }

    /// Lets a PostgreSQL role keep, read and remove files.
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        self.sidecar.grant_to(role)
    }

    /// Keeps the file at `source` in `space`, hashed as it is read; returns
    /// its SHA-256, its size and whether it was new there. A file that
    /// changes while it is kept is refused and nothing is kept.
    pub fn put(&self, space: &str, source: &Path) -> Result<(String, u64, bool), StoreError> {
        let shown = source.display().to_string();
        let open = || -> Result<BufReader<File>, StoreError> {
            Ok(BufReader::new(
                File::open(source).map_err(io(format!("cannot open {shown}")))?,
            ))
        };
        // Hashed first, so bytes kept already are not sent again.
        let (sha256, size) = hash(&mut open()?, &shown)?;
        if self.size(space, &sha256)?.is_some() {
            return Ok((sha256, size, false));
        }
        self.sidecar.write(|sql| {
            // Another process may have kept the same bytes meanwhile.
            if size_in(sql, space, &sha256)?.is_some() {
                return Ok((sha256.clone(), size, false));
            }
            let mut reader = open()?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0u8; PART];
            let (mut part, mut kept) = (0u64, 0u64);
            loop {
                let filled = fill(&mut reader, &mut buffer, &shown)?;
                if filled == 0 {
                    break;
                }
                hasher.update(&buffer[..filled]);
                // A statement with a result is sent at once: no more than a
                // part is ever waiting in memory.
                sql.row(
                    "INSERT INTO blob_part (space, sha256, part, bytes) VALUES (?1, ?2, ?3, ?4)
                     RETURNING part",
                    &[
                        space.into(),
                        sha256.as_str().into(),
                        part.into(),
                        (&buffer[..filled]).into(),
                    ],
                )?;
                part += 1;
                kept += filled as u64;
            }
            let actual = hex::encode(hasher.finalize());
            if actual != sha256 || kept != size {
                return Err(StoreError::Corrupt(format!(
                    "{shown} changed while it was kept (SHA-256 {sha256}, then {actual}); nothing was kept"
                )));
            }
            sql.execute(
                "INSERT INTO blob (space, sha256, size, stored) VALUES (?1, ?2, ?3, ?4)",
                &[
                    space.into(),
                    sha256.as_str().into(),
                    size.into(),
                    unix_now().into(),
                ],
            )?;
            Ok((sha256.clone(), size, true))
        })
    }

    /// The size of a kept file, if it is kept.
    pub fn size(&self, space: &str, sha256: &str) -> Result<Option<u64>, StoreError> {
        size_in(self.sidecar.sql(), space, sha256)
    }

    /// When a kept file was kept (seconds since 1970), if it is.
    pub fn stored(&self, space: &str, sha256: &str) -> Result<Option<i64>, StoreError> {
        self.sidecar
            .sql()
            .row(
                "SELECT stored FROM blob WHERE space = ?1 AND sha256 = ?2",
                &[space.into(), sha256.into()],
            )?
            .map(|mut row| row.integer(0))
            .transpose()
    }

    /// The bytes of a kept file, read a part at a time; `None` if it is not kept.
    pub fn reader(&self, space: &str, sha256: &str) -> Result<Option<PartReader<'_>>, StoreError> {
        Ok(self.size(space, sha256)?.map(|_| PartReader {
            blobs: self,
            space: space.to_string(),
            sha256: sha256.to_string(),
            next: 0,
            part: Vec::new(),
            at: 0,
        }))
    }

    /// The SHA-256 of every file kept in `space`.
    pub fn list(&self, space: &str) -> Result<Vec<String>, StoreError> {
        self.sidecar
            .sql()
            .rows(
                "SELECT sha256 FROM blob WHERE space = ?1 ORDER BY sha256",
                &[space.into()],
            )?
            .into_iter()
            .map(|mut row| row.text(0))
            .collect()
    }

    /// No longer keeps a file (gone already is as good).
    pub fn remove(&self, space: &str, sha256: &str) -> Result<(), StoreError> {
        self.sidecar.write(|sql| {
            let parameters = [space.into(), sha256.into()];
            sql.execute(
                "DELETE FROM blob WHERE space = ?1 AND sha256 = ?2",
                &parameters,
            )?;
            sql.execute(
                "DELETE FROM blob_part WHERE space = ?1 AND sha256 = ?2",
                &parameters,
            )
        })
    }

    /// Removes the files of `space` kept before `before` (seconds since 1970).
    pub fn remove_older(&self, space: &str, before: i64) -> Result<(), StoreError> {
        self.sidecar.write(|sql| {
            sql.execute(
                "DELETE FROM blob_part WHERE space = ?1 AND sha256 IN
                     (SELECT sha256 FROM blob WHERE space = ?1 AND stored < ?2)",
                &[space.into(), before.into()],
            )?;
            sql.execute(
                "DELETE FROM blob WHERE space = ?1 AND stored < ?2",
                &[space.into(), before.into()],
            )
        })
    }
}

fn size_in(sql: &dyn Sql, space: &str, sha256: &str) -> Result<Option<u64>, StoreError> {
    sql.row(
        "SELECT size FROM blob WHERE space = ?1 AND sha256 = ?2",
        &[space.into(), sha256.into()],
    )?
    .map(|mut row| row.count(0))
    .transpose()
}

/// The SHA-256 (hex) and size of what `reader` gives.
fn hash(reader: &mut dyn Read, shown: &str) -> Result<(String, u64), StoreError> {
    let mut hasher = Sha256::new();
    let size = std::io::copy(
        reader,
        &mut HashWriter {
            hasher: &mut hasher,
        },
    )
    .map_err(io(format!("cannot read {shown}")))?;
    Ok((hex::encode(hasher.finalize()), size))
}

struct HashWriter<'a> {
    hasher: &'a mut Sha256,
}

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads until `buffer` is full or the file ends; how much was read.
fn fill(reader: &mut dyn Read, buffer: &mut [u8], shown: &str) -> Result<usize, StoreError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = reader
            .read(&mut buffer[filled..])
            .map_err(io(format!("cannot read {shown}")))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

/// A kept file's bytes, fetched a part at a time.
pub struct PartReader<'a> {
    blobs: &'a Blobs,
    space: String,
    sha256: String,
    next: u64,
    part: Vec<u8>,
    at: usize,
}

impl Read for PartReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.part.len() {
            let row = self
                .blobs
                .sidecar
                .sql()
                .row(
                    "SELECT bytes FROM blob_part WHERE space = ?1 AND sha256 = ?2 AND part = ?3",
                    &[
                        self.space.as_str().into(),
                        self.sha256.as_str().into(),
                        self.next.into(),
                    ],
                )
                .map_err(std::io::Error::other)?;
            let Some(mut row) = row else {
                return Ok(0);
            };
            self.part = row.blob(0).map_err(std::io::Error::other)?;
            self.at = 0;
            self.next += 1;
        }
        let taken = out.len().min(self.part.len() - self.at);
        out[..taken].copy_from_slice(&self.part[self.at..self.at + taken]);
        self.at += taken;
        Ok(taken)
    }
}
