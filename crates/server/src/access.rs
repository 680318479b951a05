//! Who may do what: users with Argon2id password hashes and roles, browser
//! sessions, API keys, and sign-in rate limiting.
//!
//! Access data is not testimony: it lives in its own SQLite file
//! (`DIR/access.sqlite`, mode 0600) beside the journal, so the journal can be
//! shared for verification without password hashes. Session tokens and API
//! keys are stored only as SHA-256 hashes; the secrets exist in the user's
//! browser or client alone.

use std::path::Path;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
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
                 label TEXT NOT NULL, created TEXT NOT NULL);
             -- Sign-in attempts of the last window, shared by every server process.
             -- An attempt is counted (pending) before its password is hashed.
             CREATE TABLE IF NOT EXISTS sign_in_attempt (
                 id INTEGER PRIMARY KEY, name TEXT NOT NULL, client TEXT NOT NULL,
                 at INTEGER NOT NULL, pending INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS sign_in_attempt_name ON sign_in_attempt (name, client);
             CREATE INDEX IF NOT EXISTS sign_in_attempt_client ON sign_in_attempt (client);
             CREATE INDEX IF NOT EXISTS sign_in_attempt_at ON sign_in_attempt (at);",
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
    fn authenticate(&self, name: &str, password: &str) -> Result<Option<User>, AccessError> {
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

/// Failed sign-ins allowed for one user name from one client address within
/// [`FAILURE_WINDOW`]; further attempts from that address are refused until
/// the oldest failure leaves the window.
pub const MAX_FAILURES: usize = 5;
/// Failed sign-ins allowed for one user name from all addresses together: a
/// guess spread over many addresses is capped, and locking the name out needs
/// failures from at least this / [`MAX_FAILURES`] addresses.
pub const NAME_FAILURE_CEILING: usize = 25;
/// Failed sign-ins allowed from one client address over all user names: it
/// bounds the password hashes one client can make the server compute.
pub const CLIENT_FAILURE_CEILING: usize = 50;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A sign-in attempt, counted before its password was checked.
#[derive(Debug)]
pub struct Attempt {
    id: i64,
}

/// What became of a sign-in.
pub enum SignIn {
    /// Too many recent failures for this name or address: not even checked.
    Limited,
    WrongPassword,
    Started(String, Session),
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl AccessStore {
    /// Checks a password from `client` within the rate limits and starts a
    /// session if it is right.
    pub fn sign_in(&self, name: &str, password: &str, client: &str) -> Result<SignIn, AccessError> {
        let Some(attempt) = self.reserve_attempt(name, client)? else {
            return Ok(SignIn::Limited);
        };
        match self.authenticate(name, password)? {
            Some(user) => {
                self.clear_failures(&attempt, name, client)?;
                let (token, session) = self.start_session(&user)?;
                Ok(SignIn::Started(token, session))
            }
            None => {
                self.conn.execute(
                    "UPDATE sign_in_attempt SET pending = 0 WHERE id = ?1",
                    [attempt.id],
                )?;
                Ok(SignIn::WrongPassword)
            }
        }
    }

    /// Counts an attempt before its password is hashed, in one write
    /// transaction: concurrent attempts, from this process or another, each
    /// take a slot, so no more than the limit are ever checked. `None` when
    /// a limit is reached.
    fn reserve_attempt(&self, name: &str, client: &str) -> Result<Option<Attempt>, AccessError> {
        let now = unix_now();
        let transaction = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        transaction.execute(
            "DELETE FROM sign_in_attempt WHERE at <= ?1",
            [now - FAILURE_WINDOW.as_secs() as i64],
        )?;
        let (pair, by_name, by_client): (i64, i64, i64) = transaction.query_row(
            "SELECT COALESCE(SUM(name = ?1 AND client = ?2), 0), COALESCE(SUM(name = ?1), 0),
                    COALESCE(SUM(client = ?2), 0)
             FROM sign_in_attempt WHERE name = ?1 OR client = ?2",
            params![name, client],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let limited = pair >= MAX_FAILURES as i64
            || by_name >= NAME_FAILURE_CEILING as i64
            || by_client >= CLIENT_FAILURE_CEILING as i64;
        let attempt = if limited {
            None
        } else {
            transaction.execute(
                "INSERT INTO sign_in_attempt (name, client, at, pending) VALUES (?1, ?2, ?3, 1)",
                params![name, client, now],
            )?;
            Some(Attempt {
                id: transaction.last_insert_rowid(),
            })
        };
        transaction.commit()?;
        Ok(attempt)
    }

    /// A right password clears the failures of its name from its address,
    /// but not attempts from there still being checked: they keep their slots.
    fn clear_failures(
        &self,
        attempt: &Attempt,
        name: &str,
        client: &str,
    ) -> Result<(), AccessError> {
        self.conn.execute(
            "DELETE FROM sign_in_attempt WHERE name = ?1 AND client = ?2 AND (pending = 0 OR id = ?3)",
            params![name, client, attempt.id],
        )?;
        Ok(())
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
    fn failures_are_limited_per_name_and_address_with_ceilings() {
        let dir = tempfile::tempdir().expect("dir");
        let access = AccessStore::open(dir.path()).expect("open");
        access
            .add_user("kim", Role::Documenter, "correct horse battery")
            .expect("add");
        let attempt = |name: &str, password: &str, client: &str| match access
            .sign_in(name, password, client)
            .expect("sign in")
        {
            SignIn::Limited => "limited",
            SignIn::WrongPassword => "wrong",
            SignIn::Started(..) => "started",
        };
        for _ in 0..MAX_FAILURES {
            assert_eq!(attempt("kim", "wrong password!", "10.0.0.1"), "wrong");
        }
        assert_eq!(
            attempt("kim", "correct horse battery", "10.0.0.1"),
            "limited"
        );
        // The same name from another address, and other names from this one.
        assert_eq!(
            attempt("kim", "correct horse battery", "10.0.0.2"),
            "started"
        );
        assert_eq!(attempt("lee", "whatever it is", "10.0.0.1"), "wrong");
        // A right password clears that address's failures.
        for _ in 0..MAX_FAILURES - 1 {
            assert_eq!(attempt("kim", "wrong password!", "10.0.0.3"), "wrong");
        }
        assert_eq!(
            attempt("kim", "correct horse battery", "10.0.0.3"),
            "started"
        );
        assert_eq!(attempt("kim", "wrong password!", "10.0.0.3"), "wrong");
        // Guesses spread over many addresses stop at the ceiling, for every address.
        let mut spread = 0;
        while attempt(
            "kim",
            "wrong password!",
            &format!("10.1.0.{}", spread / MAX_FAILURES),
        ) == "wrong"
        {
            spread += 1;
        }
        // Six failures of kim were already counted above.
        assert_eq!(spread, NAME_FAILURE_CEILING - MAX_FAILURES - 1);
        assert_eq!(
            attempt("kim", "correct horse battery", "10.2.0.1"),
            "limited"
        );
        // One address guessing many names stops at its ceiling.
        let mut names = 0;
        while attempt(&format!("user{names}"), "wrong password!", "10.3.0.1") == "wrong" {
            names += 1;
        }
        assert_eq!(names, CLIENT_FAILURE_CEILING);
        // Failures older than the window no longer count.
        access
            .conn
            .execute(
                "UPDATE sign_in_attempt SET at = at - ?1",
                [FAILURE_WINDOW.as_secs() as i64],
            )
            .expect("age");
        assert_eq!(
            attempt("kim", "correct horse battery", "10.2.0.1"),
            "started"
        );
    }
}
