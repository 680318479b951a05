//! Who may do what: users with Argon2id password hashes and roles, browser
//! sessions, API keys, and login rate limiting.
//!
//! Access data is not testimony: it lives in its own SQLite file
//! (`DIR/access.sqlite`, mode 0600) beside the journal, so the journal can be
//! shared for verification without password hashes. Session tokens and API
//! keys are stored only as SHA-256 hashes; the secrets exist in the user's
//! browser or client alone.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a signed-in user may do; each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The public view: statistics with disclosure control.
    Viewer,
    /// Reads records without witnesses' identifying data; runs statistics.
    Analyst,
    /// Reads everything and writes.
    Documenter,
    /// Manages users and keys.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Documenter, Role::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Documenter => "documenter",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text.trim())
    }

    pub fn can_write(self) -> bool {
        self >= Role::Documenter
    }

    /// Whether witnesses' names and other identifying data may be shown.
    pub fn sees_witnesses(self) -> bool {
        self >= Role::Documenter
    }

    pub fn reads_records(self) -> bool {
        self >= Role::Analyst
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
}

/// A signed-in browser session: who, and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("access database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("a user name is 1 to 64 letters, digits, '.', '-' or '_'; '{0}' is not")]
    BadName(String),
    #[error("a password needs at least 12 characters")]
    WeakPassword,
    #[error("no role '{0}'; the roles are viewer, analyst, documenter, admin")]
    BadRole(String),
    #[error("there is already a user '{0}'")]
    Exists(String),
    #[error("no user '{0}'")]
    NoUser(String),
    #[error("cannot set the permissions of {path}: {source}")]
    Permissions {
        path: String,
        source: std::io::Error,
    },
}

/// How long a session lasts without being used.
const SESSION_IDLE: chrono::Duration = chrono::Duration::hours(8);

pub struct AccessStore {
    conn: Connection,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl AccessStore {
    /// Opens (creating if needed) `DIR/access.sqlite`.
    pub fn open(data: &Path) -> Result<AccessStore, AccessError> {
        let path = data.join("access.sqlite");
        let conn = Connection::open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| AccessError::Permissions {
                    path: path.display().to_string(),
                    source,
                },
            )?;
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA busy_timeout = 5000;
             -- Sessions are not testimony: a lost expiry extension after a power cut is harmless.
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS user (
                 name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS session (
                 token BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                 csrf TEXT NOT NULL, expires TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS api_key (
                 key BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                 label TEXT NOT NULL, created TEXT NOT NULL);",
        )?;
        Ok(AccessStore { conn })
    }

    pub fn add_user(&self, name: &str, role: Role, password: &str) -> Result<(), AccessError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return Err(AccessError::BadName(name.to_string()));
        }
        if password.chars().count() < 12 {
            return Err(AccessError::WeakPassword);
        }
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| AccessError::Hash(e.to_string()))?
            .to_string();
        let inserted = self.conn.execute(
            "INSERT OR IGNORE INTO user (name, role, hash, created) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.name(), hash, chrono::Utc::now().to_rfc3339()],
        )?;
        if inserted == 0 {
            return Err(AccessError::Exists(name.to_string()));
        }
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<User>, AccessError> {
        let mut statement = self
            .conn
            .prepare("SELECT name, role FROM user ORDER BY name")?;
        let rows =
            statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows
            .filter_map(Result::ok)
            .filter_map(|(name, role)| {
                Some(User {
                    name,
                    role: Role::parse(&role)?,
                })
            })
            .collect())
    }

    /// Checks a password (Argon2 verification compares in constant time);
    /// unknown users cost a hash too, so timing does not tell who exists.
    pub fn authenticate(&self, name: &str, password: &str) -> Result<Option<User>, AccessError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT role, hash FROM user WHERE name = ?1", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (role, hash) = match row {
            Some(row) => row,
            None => {
                let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
                let _ = Argon2::default().hash_password(password.as_bytes(), &salt);
                return Ok(None);
            }
        };
        let parsed = PasswordHash::new(&hash).map_err(|e| AccessError::Hash(e.to_string()))?;
        if Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Ok(None);
        }
        Ok(Role::parse(&role).map(|role| User {
            name: name.to_string(),
            role,
        }))
    }

    /// Starts a session; returns its secret token (for the cookie) and the session.
    pub fn start_session(&self, user: &User) -> Result<(String, Session), AccessError> {
        let token = random_token();
        let csrf = random_token();
        self.conn.execute(
            "INSERT INTO session (token, user, csrf, expires) VALUES (?1, ?2, ?3, ?4)",
            params![
                digest(&token),
                user.name,
                csrf,
                (chrono::Utc::now() + SESSION_IDLE).to_rfc3339()
            ],
        )?;
        Ok((
            token,
            Session {
                user: user.clone(),
                csrf,
            },
        ))
    }

    /// The live session of a token, extending its idle timeout.
    pub fn session(&self, token: &str) -> Result<Option<Session>, AccessError> {
        let now = chrono::Utc::now();
        let row: Option<(String, String, String, String)> = self
            .conn
            .query_row(
                "SELECT s.user, u.role, s.csrf, s.expires FROM session s JOIN user u ON u.name = s.user
                 WHERE s.token = ?1",
                [digest(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((name, role, csrf, expires)) = row else {
            return Ok(None);
        };
        let live = chrono::DateTime::parse_from_rfc3339(&expires).is_ok_and(|e| e > now);
        if !live {
            self.end_session(token)?;
            return Ok(None);
        }
        // Extend the idle timeout at most once a minute: a write per request
        // would make every page wait for the disk.
        let extended_recently = chrono::DateTime::parse_from_rfc3339(&expires)
            .is_ok_and(|e| e > now + SESSION_IDLE - chrono::Duration::minutes(1));
        if !extended_recently {
            self.conn.execute(
                "UPDATE session SET expires = ?2 WHERE token = ?1",
                params![digest(token), (now + SESSION_IDLE).to_rfc3339()],
            )?;
        }
        Ok(Role::parse(&role).map(|role| Session {
            user: User { name, role },
            csrf,
        }))
    }

    pub fn end_session(&self, token: &str) -> Result<(), AccessError> {
        self.conn
            .execute("DELETE FROM session WHERE token = ?1", [digest(token)])?;
        Ok(())
    }

    /// A new API key for a user; the key is shown once and stored hashed.
    pub fn add_key(&self, user: &str, label: &str) -> Result<String, AccessError> {
        let exists: bool = self
            .conn
            .query_row("SELECT 1 FROM user WHERE name = ?1", [user], |_| Ok(true))
            .optional()?
            .unwrap_or(false);
        if !exists {
            return Err(AccessError::NoUser(user.to_string()));
        }
        let key = format!("girok_{}", random_token());
        self.conn.execute(
            "INSERT INTO api_key (key, user, label, created) VALUES (?1, ?2, ?3, ?4)",
            params![digest(&key), user, label, chrono::Utc::now().to_rfc3339()],
        )?;
        Ok(key)
    }

    /// The user an API key belongs to.
    pub fn key_user(&self, key: &str) -> Result<Option<User>, AccessError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT u.name, u.role FROM api_key k JOIN user u ON u.name = k.user WHERE k.key = ?1",
                [digest(key)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(name, role)| Role::parse(&role).map(|role| User { name, role })))
    }
}

/// Whether a submitted CSRF token is the session's, compared in constant time.
pub fn csrf_matches(session: &Session, submitted: &str) -> bool {
    session.csrf.as_bytes().ct_eq(submitted.as_bytes()).into()
}

/// Failed sign-ins allowed per user name (and per client address) within
/// the window before further attempts are refused until it passes.
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts recent failed sign-ins by key (user name, client address).
#[derive(Default)]
pub struct LoginLimiter {
    failures: HashMap<String, Vec<Instant>>,
}

impl LoginLimiter {
    pub fn blocked(&mut self, keys: &[&str]) -> bool {
        let now = Instant::now();
        keys.iter().any(|key| {
            let recent = self.failures.entry((*key).to_string()).or_default();
            recent.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            recent.len() >= MAX_FAILURES
        })
    }

    pub fn failed(&mut self, keys: &[&str]) {
        for key in keys {
            self.failures
                .entry((*key).to_string())
                .or_default()
                .push(Instant::now());
        }
    }

    pub fn succeeded(&mut self, keys: &[&str]) {
        for key in keys {
            self.failures.remove(*key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_sessions_and_keys() {
        let dir = tempfile::tempdir().expect("dir");
        let access = AccessStore::open(dir.path()).expect("open");
        access
            .add_user("kim", Role::Documenter, "correct horse battery")
            .expect("add");
        assert!(matches!(
            access.add_user("kim", Role::Admin, "another long password"),
            Err(AccessError::Exists(_))
        ));
        assert!(matches!(
            access.add_user("lee", Role::Admin, "short"),
            Err(AccessError::WeakPassword)
        ));
        assert!(matches!(
            access.add_user("a b", Role::Admin, "long enough password"),
            Err(AccessError::BadName(_))
        ));
        let stored: String = access
            .conn
            .query_row("SELECT hash FROM user", [], |r| r.get(0))
            .expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert_eq!(
            access.authenticate("kim", "wrong password!").expect("auth"),
            None
        );
        assert_eq!(
            access.authenticate("nobody", "whatever").expect("auth"),
            None
        );
        let user = access
            .authenticate("kim", "correct horse battery")
            .expect("auth")
            .expect("user");
        assert_eq!(user.role, Role::Documenter);
        let (token, session) = access.start_session(&user).expect("session");
        let found = access.session(&token).expect("lookup").expect("live");
        assert_eq!(found.user, user);
        assert!(csrf_matches(&found, &session.csrf) && !csrf_matches(&found, "forged"));
        access.end_session(&token).expect("end");
        assert!(access.session(&token).expect("lookup").is_none());
        let key = access.add_key("kim", "import script").expect("key");
        assert_eq!(access.key_user(&key).expect("key").expect("user"), user);
        assert!(access.key_user("girok_forged").expect("key").is_none());
    }

    #[test]
    fn repeated_failures_block_sign_in() {
        let mut limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(!limiter.blocked(&["kim", "10.0.0.1"]));
            limiter.failed(&["kim", "10.0.0.1"]);
        }
        assert!(limiter.blocked(&["kim", "10.0.0.2"]));
        assert!(limiter.blocked(&["lee", "10.0.0.1"]));
        assert!(!limiter.blocked(&["lee", "10.0.0.2"]));
    }
}
