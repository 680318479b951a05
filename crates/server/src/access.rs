//! Who may do what: users with Argon2id password hashes and roles, second
//! factors (TOTP) with recovery codes, browser sessions, API keys with
//! scopes and expiry, and sign-in rate limiting.
//!
//! Access data is not testimony: it lives in its own SQLite file
//! (`DIR/access.sqlite`, mode 0600) beside the journal, so the journal can be
//! shared for verification without password hashes. Session tokens and API
//! keys are stored only as SHA-256 hashes; the secrets exist in the user's
//! browser or client alone. TOTP secrets are here too, in the clear (a code
//! is computed from them): they must work while the data is locked, since an
//! admin signs in to unlock it.

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

    /// The scope of this role's own work: analysts' and viewers' is reading,
    /// documenters' writing, admins' administering. A key of a user may hold
    /// at most this, and work that needs the role needs this scope.
    pub fn scope(self) -> Scope {
        match self {
            Role::Viewer | Role::Analyst => Scope::Read,
            Role::Documenter => Scope::Write,
            Role::Admin => Scope::Admin,
        }
    }
}

/// What an API key may do, chosen when it is made; each includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    /// Also what only admins may do: forgetting, widening consent.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == text.trim())
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
    /// The user's role needs a second factor and none is set up yet: the
    /// session may do nothing but set one up.
    pub second_factor_due: bool,
}

/// An API key as the admin page lists it (never the key itself).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub user: String,
    pub label: String,
    pub scope: Scope,
    pub created: String,
    /// RFC 3339; `None` never expires.
    pub expires: Option<String>,
}

/// What a presented API key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    Unknown,
    /// It expired at this time (RFC 3339).
    Expired(String),
    /// Its user, and what it may do: its scope, narrowed to what the user's
    /// role allows now.
    Valid(User, Scope),
}

/// A user's second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Off,
    /// A secret shown for enrolment, not yet confirmed with a code.
    Pending(Vec<u8>),
    On {
        recovery_codes_left: usize,
    },
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
    #[error("{user} has no key for '{label}'")]
    NoKey { user: String, label: String },
    #[error("{0} is your own account: another admin must disable it or change its role")]
    OwnAccount(String),
    #[error("no action '{0}'; the actions are disable, enable, role, password, sessions")]
    BadAction(String),
    #[error("no scope '{0}'; the scopes are read, write, admin")]
    BadScope(String),
    #[error("a key of {user} ({role}) can have at most the {allowed} scope, not {asked}")]
    ScopeTooWide {
        user: String,
        role: &'static str,
        allowed: &'static str,
        asked: &'static str,
    },
    #[error("a key's expiry must be in the future")]
    ExpiryPast,
    #[error("'{0}' is not a date; write it as 2026-12-31")]
    BadDate(String),
    #[error("{0} already has a second factor; reset it first")]
    SecondFactorOn(String),
    #[error(
        "the access database was made by a newer Girok (schema version {found}, this one knows {known})"
    )]
    Newer { found: i64, known: i64 },
    #[error("cannot set the permissions of {path}: {source}")]
    Permissions {
        path: String,
        source: std::io::Error,
    },
}

/// How long a session lasts without being used.
const SESSION_IDLE: chrono::Duration = chrono::Duration::hours(8);
/// How long the second step of a sign-in waits for its code.
pub const SECOND_STEP_TIME: Duration = Duration::from_secs(5 * 60);
/// Recovery codes made with a second factor, each good once.
pub const RECOVERY_CODES: usize = 10;
/// The setting that makes documenters need a second factor too.
const DOCUMENTERS_SETTING: &str = "second-factor-for-documenters";
/// The name authenticator apps show for this application.
pub const ISSUER: &str = "Girok";

/// The access database's schema, one step per version (`PRAGMA
/// user_version` counts the steps applied). Steps are only ever appended: a
/// database made by an earlier version opens by running the steps it lacks.
const MIGRATIONS: &[fn(&Transaction) -> rusqlite::Result<()>] = &[
    // 1: users, sessions, keys and sign-in attempts. Databases made before
    // versions were counted hold these already, hence `IF NOT EXISTS`.
    |t| {
        t.execute_batch(
            "CREATE TABLE IF NOT EXISTS user (
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
        )
    },
    // 2: key scopes and expiry (a key made before keeps what its user's
    // role allowed, and never expires); second factors, recovery codes,
    // sign-ins waiting for their code, and settings.
    |t| {
        t.execute_batch(
            "ALTER TABLE api_key ADD COLUMN scope TEXT NOT NULL DEFAULT 'read';
             ALTER TABLE api_key ADD COLUMN expires TEXT;
             CREATE TABLE second_factor (
                 user TEXT PRIMARY KEY REFERENCES user(name) ON DELETE CASCADE,
                 secret BLOB NOT NULL, confirmed INTEGER NOT NULL,
                 -- The time step of the last code accepted: no code of it or before is taken again.
                 last_step INTEGER, created TEXT NOT NULL);
             CREATE TABLE recovery_code (
                 id INTEGER PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                 hash TEXT NOT NULL);
             CREATE INDEX recovery_code_user ON recovery_code (user);
             CREATE TABLE sign_in_challenge (
                 token BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                 csrf TEXT NOT NULL, expires INTEGER NOT NULL);
             CREATE TABLE setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let roles: Vec<(String, String)> = t
            .prepare("SELECT name, role FROM user")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (name, role) in roles {
            let scope = Role::parse(&role).map_or(Scope::Read, Role::scope);
            t.execute(
                "UPDATE api_key SET scope = ?2 WHERE user = ?1",
                params![name, scope.name()],
            )?;
        }
        Ok(())
    },
    // 3: users an admin disabled (their sessions ended, their keys refused).
    |t| t.execute_batch("ALTER TABLE user ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;"),
];

/// Brings the schema to this version's, in one transaction that other
/// processes opening the same file wait for.
fn migrate(conn: &Connection) -> Result<(), AccessError> {
    let transaction = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let found: i64 = transaction.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(AccessError::Newer { found, known });
    }
    for step in &MIGRATIONS[found.max(0) as usize..] {
        step(&transaction)?;
    }
    transaction.pragma_update(None, "user_version", known)?;
    transaction.commit()?;
    Ok(())
}

/// An Argon2id hash of a password or recovery code.
fn slow_hash(secret: &str) -> Result<String, AccessError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| AccessError::Hash(e.to_string()))?
        .to_string())
}

/// Whether `secret` is the one hashed (Argon2 compares in constant time).
fn slow_matches(secret: &str, hash: &str) -> Result<bool, AccessError> {
    let parsed = PasswordHash::new(hash).map_err(|e| AccessError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok())
}

/// A recovery code as typed, compared without case, spaces or dashes.
fn normal_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

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
             PRAGMA synchronous = NORMAL;",
        )?;
        migrate(&conn)?;
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
        let hash = slow_hash(password)?;
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
        let row: Option<(String, String, bool)> = self
            .conn
            .query_row(
                "SELECT role, hash, disabled FROM user WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (role, hash, disabled) = match row {
            Some(row) => row,
            None => {
                let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
                let _ = Argon2::default().hash_password(password.as_bytes(), &salt);
                return Ok(None);
            }
        };
        // A disabled user's password is still checked: the time taken tells nothing.
        if !slow_matches(password, &hash)? || disabled {
            return Ok(None);
        }
        Ok(Role::parse(&role).map(|role| User {
            name: name.to_string(),
            role,
        }))
    }

    /// The names of the users an admin disabled.
    pub fn disabled_users(&self) -> Result<Vec<String>, AccessError> {
        let mut statement = self
            .conn
            .prepare("SELECT name FROM user WHERE disabled = 1 ORDER BY name")?;
        let names = statement.query_map([], |r| r.get(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    /// Runs `statement` (with the user's name as `?1`) on an existing user.
    fn change_user(
        &self,
        name: &str,
        statement: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<(), AccessError> {
        if self.conn.execute(statement, params![name, value])? == 0 {
            return Err(AccessError::NoUser(name.to_string()));
        }
        Ok(())
    }

    /// Ends every session and pending second step of a user; how many sessions.
    pub fn end_sessions(&self, name: &str) -> Result<usize, AccessError> {
        self.conn
            .execute("DELETE FROM sign_in_challenge WHERE user = ?1", [name])?;
        Ok(self
            .conn
            .execute("DELETE FROM session WHERE user = ?1", [name])?)
    }

    /// Disables a user (no sign-in, sessions ended, keys refused) or enables
    /// them again (their keys work again).
    pub fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), AccessError> {
        self.change_user(
            name,
            "UPDATE user SET disabled = ?2 WHERE name = ?1",
            &disabled,
        )?;
        if disabled {
            self.end_sessions(name)?;
        }
        Ok(())
    }

    /// Gives a user another role; their sessions end, so the next one starts
    /// with it. Their keys are narrowed to what the new role allows.
    pub fn set_role(&self, name: &str, role: Role) -> Result<(), AccessError> {
        self.change_user(
            name,
            "UPDATE user SET role = ?2 WHERE name = ?1",
            &role.name(),
        )?;
        self.end_sessions(name)?;
        Ok(())
    }

    /// Sets a new password (an admin resetting a forgotten one); the user's
    /// sessions end.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), AccessError> {
        if password.chars().count() < 12 {
            return Err(AccessError::WeakPassword);
        }
        let hash = slow_hash(password)?;
        self.change_user(name, "UPDATE user SET hash = ?2 WHERE name = ?1", &hash)?;
        self.end_sessions(name)?;
        Ok(())
    }

    /// Revokes a user's key by what it is for; refuses a key that is not there.
    pub fn revoke_key(&self, user: &str, label: &str) -> Result<(), AccessError> {
        let removed = self.conn.execute(
            "DELETE FROM api_key WHERE user = ?1 AND label = ?2",
            params![user, label],
        )?;
        if removed == 0 {
            return Err(AccessError::NoKey {
                user: user.to_string(),
                label: label.to_string(),
            });
        }
        Ok(())
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
        let second_factor_due = self.second_factor_due(user)?;
        Ok((
            token,
            Session {
                user: user.clone(),
                csrf,
                second_factor_due,
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
                 WHERE s.token = ?1 AND u.disabled = 0",
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
        let Some(role) = Role::parse(&role) else {
            return Ok(None);
        };
        let user = User { name, role };
        let second_factor_due = self.second_factor_due(&user)?;
        Ok(Some(Session {
            user,
            csrf,
            second_factor_due,
        }))
    }

    pub fn end_session(&self, token: &str) -> Result<(), AccessError> {
        self.conn
            .execute("DELETE FROM session WHERE token = ?1", [digest(token)])?;
        Ok(())
    }

    fn role_of(&self, user: &str) -> Result<Role, AccessError> {
        let role: Option<String> = self
            .conn
            .query_row("SELECT role FROM user WHERE name = ?1", [user], |r| {
                r.get(0)
            })
            .optional()?;
        role.as_deref()
            .and_then(Role::parse)
            .ok_or_else(|| AccessError::NoUser(user.to_string()))
    }

    /// A new API key for a user, with a scope the user's role allows and an
    /// optional expiry; the key is shown once and stored hashed.
    pub fn add_key(
        &self,
        user: &str,
        label: &str,
        scope: Scope,
        expires: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<String, AccessError> {
        let role = self.role_of(user)?;
        if scope > role.scope() {
            return Err(AccessError::ScopeTooWide {
                user: user.to_string(),
                role: role.name(),
                allowed: role.scope().name(),
                asked: scope.name(),
            });
        }
        if expires.is_some_and(|e| e <= chrono::Utc::now()) {
            return Err(AccessError::ExpiryPast);
        }
        let key = format!("girok_{}", random_token());
        self.conn.execute(
            "INSERT INTO api_key (key, user, label, created, scope, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                digest(&key),
                user,
                label,
                chrono::Utc::now().to_rfc3339(),
                scope.name(),
                expires.map(|e| e.to_rfc3339())
            ],
        )?;
        Ok(key)
    }

    /// Every API key, by user and creation.
    pub fn keys(&self) -> Result<Vec<ApiKey>, AccessError> {
        let mut statement = self.conn.prepare(
            "SELECT user, label, scope, created, expires FROM api_key ORDER BY user, created",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut keys = Vec::new();
        for row in rows {
            let (user, label, scope, created, expires) = row?;
            keys.push(ApiKey {
                user,
                label,
                scope: Scope::parse(&scope).ok_or(AccessError::BadScope(scope))?,
                created,
                expires,
            });
        }
        Ok(keys)
    }

    /// Whose an API key is and what it may do, or why it may do nothing.
    pub fn key_user(&self, key: &str) -> Result<KeyLookup, AccessError> {
        let row: Option<(String, String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT u.name, u.role, k.scope, k.expires FROM api_key k JOIN user u ON u.name = k.user
                 WHERE k.key = ?1 AND u.disabled = 0",
                [digest(key)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((name, role, scope, expires)) = row else {
            return Ok(KeyLookup::Unknown);
        };
        if let Some(expires) = expires {
            // An expiry that does not read is past: a key fails closed.
            let live = chrono::DateTime::parse_from_rfc3339(&expires)
                .is_ok_and(|e| e > chrono::Utc::now());
            if !live {
                return Ok(KeyLookup::Expired(expires));
            }
        }
        let (Some(role), Some(scope)) = (Role::parse(&role), Scope::parse(&scope)) else {
            return Ok(KeyLookup::Unknown);
        };
        Ok(KeyLookup::Valid(
            User { name, role },
            scope.min(role.scope()),
        ))
    }
}

/// The expiry of a key that is refused from the start of `date` (UTC,
/// written YYYY-MM-DD); none for an empty text.
pub fn expiry_on(date: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, AccessError> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| AccessError::BadDate(date.to_string()))
}

/// Second factors: TOTP secrets, recovery codes and the policy of who needs one.
impl AccessStore {
    /// Whether documenters need a second factor (admins always do).
    pub fn documenters_need_second_factor(&self) -> Result<bool, AccessError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM setting WHERE name = ?1",
                [DOCUMENTERS_SETTING],
                |r| r.get(0),
            )
            .optional()?;
        Ok(value.as_deref() == Some("on"))
    }

    pub fn set_documenters_need_second_factor(&self, on: bool) -> Result<(), AccessError> {
        self.conn.execute(
            "INSERT INTO setting (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![DOCUMENTERS_SETTING, if on { "on" } else { "off" }],
        )?;
        Ok(())
    }

    /// Whether a role must sign in with a second factor.
    pub fn second_factor_required(&self, role: Role) -> Result<bool, AccessError> {
        Ok(match role {
            Role::Admin => true,
            Role::Documenter => self.documenters_need_second_factor()?,
            Role::Analyst | Role::Viewer => false,
        })
    }

    fn second_factor_due(&self, user: &User) -> Result<bool, AccessError> {
        Ok(self.second_factor_required(user.role)?
            && !matches!(self.second_factor(&user.name)?, SecondFactor::On { .. }))
    }

    pub fn second_factor(&self, user: &str) -> Result<SecondFactor, AccessError> {
        let row: Option<(Vec<u8>, bool)> = self
            .conn
            .query_row(
                "SELECT secret, confirmed FROM second_factor WHERE user = ?1",
                [user],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            None => SecondFactor::Off,
            Some((secret, false)) => SecondFactor::Pending(secret),
            Some((_, true)) => {
                let left: i64 = self.conn.query_row(
                    "SELECT COUNT(*) FROM recovery_code WHERE user = ?1",
                    [user],
                    |r| r.get(0),
                )?;
                SecondFactor::On {
                    recovery_codes_left: left as usize,
                }
            }
        })
    }

    /// The secret to enrol with: the one already shown if enrolment was
    /// begun, else a new one.
    pub fn begin_enrolment(&self, user: &str) -> Result<Vec<u8>, AccessError> {
        let mut secret = [0u8; crate::totp::SECRET_BYTES];
        getrandom::fill(&mut secret).expect("the operating system's random source");
        // A concurrent request may have begun it: the first secret stays.
        self.conn.execute(
            "INSERT OR IGNORE INTO second_factor (user, secret, confirmed, created)
             SELECT name, ?2, 0, ?3 FROM user WHERE name = ?1",
            params![user, secret.to_vec(), chrono::Utc::now().to_rfc3339()],
        )?;
        match self.second_factor(user)? {
            SecondFactor::Pending(secret) => Ok(secret),
            SecondFactor::On { .. } => Err(AccessError::SecondFactorOn(user.to_string())),
            SecondFactor::Off => Err(AccessError::NoUser(user.to_string())),
        }
    }

    /// Confirms enrolment with a code of the pending secret; returns the
    /// recovery codes, to be shown once (only their hashes are kept), or
    /// `None` if the code is wrong.
    pub fn confirm_enrolment(
        &self,
        user: &str,
        code: &str,
    ) -> Result<Option<Vec<String>>, AccessError> {
        let SecondFactor::Pending(secret) = self.second_factor(user)? else {
            return Ok(None);
        };
        let Some(step) = crate::totp::matching_step(&secret, code, unix_now() as u64, None) else {
            return Ok(None);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes = codes
            .iter()
            .map(|c| slow_hash(&normal_recovery_code(c)))
            .collect::<Result<Vec<_>, _>>()?;
        let transaction = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let confirmed = transaction.execute(
            "UPDATE second_factor SET confirmed = 1, last_step = ?3
             WHERE user = ?1 AND secret = ?2 AND confirmed = 0",
            params![user, secret, step as i64],
        )?;
        if confirmed == 0 {
            return Ok(None);
        }
        transaction.execute("DELETE FROM recovery_code WHERE user = ?1", [user])?;
        for hash in hashes {
            transaction.execute(
                "INSERT INTO recovery_code (user, hash) VALUES (?1, ?2)",
                params![user, hash],
            )?;
        }
        transaction.commit()?;
        Ok(Some(codes))
    }

    /// Whether `code` is a current TOTP code of the user's confirmed factor
    /// (not used before) or one of their unused recovery codes; either is
    /// used up by succeeding, also when processes race to use it.
    fn use_second_factor(&self, user: &str, code: &str) -> Result<bool, AccessError> {
        let row: Option<(Vec<u8>, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT secret, last_step FROM second_factor WHERE user = ?1 AND confirmed = 1",
                [user],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((secret, last_step)) = row else {
            return Ok(false);
        };
        let last_step = last_step.map(|s| s.max(0) as u64);
        if let Some(step) = crate::totp::matching_step(&secret, code, unix_now() as u64, last_step)
        {
            let taken = self.conn.execute(
                "UPDATE second_factor SET last_step = ?2
                 WHERE user = ?1 AND (last_step IS NULL OR last_step < ?2)",
                params![user, step as i64],
            )?;
            return Ok(taken == 1);
        }
        let typed = normal_recovery_code(code);
        if typed.len() != RECOVERY_CODE_CHARS {
            return Ok(false);
        }
        let stored: Vec<(i64, String)> = self
            .conn
            .prepare("SELECT id, hash FROM recovery_code WHERE user = ?1")?
            .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (id, hash) in stored {
            if slow_matches(&typed, &hash)? {
                let taken = self
                    .conn
                    .execute("DELETE FROM recovery_code WHERE id = ?1", [id])?;
                return Ok(taken == 1);
            }
        }
        Ok(false)
    }

    /// Removes a user's second factor after they proved they hold it, so
    /// they can set up a new one (a new device, new recovery codes).
    pub fn restart_second_factor(&self, user: &str, code: &str) -> Result<bool, AccessError> {
        if !self.use_second_factor(user, code)? {
            return Ok(false);
        }
        self.remove_second_factor(user, false)?;
        Ok(true)
    }

    /// An admin's reset of a user's second factor (a lost device): the
    /// factor, its recovery codes, pending sign-ins and open sessions go;
    /// the user sets up a new one at their next sign-in.
    pub fn reset_second_factor(&self, user: &str) -> Result<(), AccessError> {
        self.role_of(user)?;
        self.remove_second_factor(user, true)
    }

    fn remove_second_factor(&self, user: &str, with_sessions: bool) -> Result<(), AccessError> {
        let transaction = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        if with_sessions {
            transaction.execute("DELETE FROM session WHERE user = ?1", [user])?;
            transaction.execute("DELETE FROM sign_in_challenge WHERE user = ?1", [user])?;
        }
        transaction.execute("DELETE FROM recovery_code WHERE user = ?1", [user])?;
        transaction.execute("DELETE FROM second_factor WHERE user = ?1", [user])?;
        transaction.commit()?;
        Ok(())
    }

    /// The pending second step of a sign-in: its user and its form's token.
    pub fn challenge(&self, token: &str) -> Result<Option<(String, String)>, AccessError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT user, csrf FROM sign_in_challenge WHERE token = ?1 AND expires > ?2",
                params![digest(token), unix_now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row)
    }

    /// The second step of a sign-in: a code from `client` for the pending
    /// sign-in `token`, within the same rate limits as passwords.
    pub fn second_step(
        &self,
        token: &str,
        csrf: &str,
        code: &str,
        client: &str,
    ) -> Result<SecondStep, AccessError> {
        let Some((user, expected)) = self.challenge(token)? else {
            return Ok(SecondStep::Expired);
        };
        if !bool::from(expected.as_bytes().ct_eq(csrf.as_bytes())) {
            return Ok(SecondStep::Expired);
        }
        let Some(attempt) = self.reserve_attempt(&user, client)? else {
            return Ok(SecondStep::Limited);
        };
        if !self.use_second_factor(&user, code)? {
            self.conn.execute(
                "UPDATE sign_in_attempt SET pending = 0 WHERE id = ?1",
                [attempt.id],
            )?;
            return Ok(SecondStep::WrongCode);
        }
        let taken = self.conn.execute(
            "DELETE FROM sign_in_challenge WHERE token = ?1",
            [digest(token)],
        )?;
        self.clear_failures(&attempt, &user, client)?;
        if taken == 0 {
            return Ok(SecondStep::Expired);
        }
        let role = self.role_of(&user)?;
        let (token, session) = self.start_session(&User { name: user, role })?;
        Ok(SecondStep::Started(token, session))
    }
}

/// Characters of a recovery code (50 bits of base32).
const RECOVERY_CODE_CHARS: usize = 10;

/// A recovery code, written in two groups of five for reading aloud.
fn recovery_code() -> String {
    let mut bytes = [0u8; 7];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let text = crate::totp::base32(&bytes);
    format!("{}-{}", &text[..5], &text[5..RECOVERY_CODE_CHARS])
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
    /// The password was right and a code is due: the token of the pending
    /// second step (for a cookie).
    SecondStep(String),
}

/// What became of the second step of a sign-in.
pub enum SecondStep {
    /// No such pending sign-in, or it is older than [`SECOND_STEP_TIME`].
    Expired,
    Limited,
    WrongCode,
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
            Some(user) if matches!(self.second_factor(name)?, SecondFactor::On { .. }) => {
                // The failures stay until the code is right too: a known
                // password must not wipe out the count of wrong codes.
                self.conn
                    .execute("DELETE FROM sign_in_attempt WHERE id = ?1", [attempt.id])?;
                let token = random_token();
                self.conn.execute(
                    "DELETE FROM sign_in_challenge WHERE expires <= ?1",
                    [unix_now()],
                )?;
                self.conn.execute(
                    "INSERT INTO sign_in_challenge (token, user, csrf, expires) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        digest(&token),
                        user.name,
                        random_token(),
                        unix_now() + SECOND_STEP_TIME.as_secs() as i64
                    ],
                )?;
                Ok(SignIn::SecondStep(token))
            }
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
        let key = access
            .add_key("kim", "import script", Scope::Write, None)
            .expect("key");
        assert_eq!(
            access.key_user(&key).expect("key"),
            KeyLookup::Valid(user, Scope::Write)
        );
        assert_eq!(
            access.key_user("girok_forged").expect("key"),
            KeyLookup::Unknown
        );
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
            SignIn::SecondStep(_) => "second step",
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

    /// The schema of the access database before versions were counted.
    const FIRST_SCHEMA: &str = "CREATE TABLE user (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL);
        CREATE TABLE session (
            token BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
            csrf TEXT NOT NULL, expires TEXT NOT NULL);
        CREATE TABLE api_key (
            key BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
            label TEXT NOT NULL, created TEXT NOT NULL);
        CREATE TABLE sign_in_attempt (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, client TEXT NOT NULL,
            at INTEGER NOT NULL, pending INTEGER NOT NULL);";

    #[test]
    fn a_database_of_the_previous_version_opens_and_its_keys_keep_their_roles_reach() {
        let dir = tempfile::tempdir().expect("dir");
        let old = Connection::open(dir.path().join("access.sqlite")).expect("old");
        old.execute_batch(FIRST_SCHEMA).expect("schema");
        let mut keys = Vec::new();
        for role in Role::ALL {
            old.execute(
                "INSERT INTO user (name, role, hash, created) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00+00:00')",
                params![role.name(), role.name(), slow_hash("a long enough password").expect("hash")],
            )
            .expect("user");
            let key = format!("girok_{}", random_token());
            old.execute(
                "INSERT INTO api_key (key, user, label, created) VALUES (?1, ?2, 'old', '2026-01-01T00:00:00+00:00')",
                params![digest(&key), role.name()],
            )
            .expect("key");
            keys.push((role, key));
        }
        drop(old);
        let access = AccessStore::open(dir.path()).expect("migrated");
        for (role, key) in &keys {
            assert_eq!(
                access.key_user(key).expect("key"),
                KeyLookup::Valid(
                    User {
                        name: role.name().to_string(),
                        role: *role
                    },
                    role.scope()
                )
            );
        }
        assert!(
            access
                .keys()
                .expect("keys")
                .iter()
                .all(|k| k.expires.is_none())
        );
        assert!(matches!(
            access.sign_in("analyst", "a long enough password", "10.0.0.1"),
            Ok(SignIn::Started(..))
        ));
        let version: i64 = access
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
        drop(access);
        // Opening again changes nothing; a newer schema is not touched.
        AccessStore::open(dir.path()).expect("again");
        Connection::open(dir.path().join("access.sqlite"))
            .expect("db")
            .pragma_update(None, "user_version", 99)
            .expect("newer");
        assert!(matches!(
            AccessStore::open(dir.path()),
            Err(AccessError::Newer { found: 99, .. })
        ));
    }

    #[test]
    fn key_scopes_are_bounded_by_the_role_now_and_expiry_fails_closed() {
        let dir = tempfile::tempdir().expect("dir");
        let access = AccessStore::open(dir.path()).expect("open");
        access
            .add_user("kim", Role::Admin, "correct horse battery")
            .expect("add");
        let key = access
            .add_key("kim", "all", Scope::Admin, None)
            .expect("key");
        // A role lowered later narrows the keys made before.
        access
            .conn
            .execute("UPDATE user SET role = 'analyst' WHERE name = 'kim'", [])
            .expect("demote");
        assert!(matches!(
            access.key_user(&key).expect("key"),
            KeyLookup::Valid(_, Scope::Read)
        ));
        assert!(matches!(
            access.add_key("kim", "x", Scope::Write, None),
            Err(AccessError::ScopeTooWide { .. })
        ));
        access
            .conn
            .execute("UPDATE api_key SET expires = 'garbled'", [])
            .expect("garble");
        assert_eq!(
            access.key_user(&key).expect("key"),
            KeyLookup::Expired("garbled".to_string())
        );
        assert!(matches!(
            expiry_on("2026-13-01"),
            Err(AccessError::BadDate(_))
        ));
        assert_eq!(expiry_on(" ").expect("none"), None);
    }

    #[test]
    fn a_code_or_recovery_code_is_taken_once_across_processes() {
        let dir = tempfile::tempdir().expect("dir");
        let one = AccessStore::open(dir.path()).expect("one");
        let other = AccessStore::open(dir.path()).expect("other");
        one.add_user("kim", Role::Admin, "correct horse battery")
            .expect("add");
        let secret = one.begin_enrolment("kim").expect("begin");
        // Both processes show the same pending secret.
        assert_eq!(other.begin_enrolment("kim").expect("begin"), secret);
        let now = unix_now() as u64;
        let codes = one
            .confirm_enrolment("kim", &crate::totp::code(&secret, now, 6))
            .expect("confirm")
            .expect("codes");
        let next = crate::totp::code(&secret, now + crate::totp::STEP, 6);
        assert!(one.use_second_factor("kim", &next).expect("use"));
        assert!(!other.use_second_factor("kim", &next).expect("use"));
        assert!(other.use_second_factor("kim", &codes[1]).expect("use"));
        assert!(!one.use_second_factor("kim", &codes[1]).expect("use"));
        // A password alone now opens only the second step.
        assert!(matches!(
            other.sign_in("kim", "correct horse battery", "10.0.0.1"),
            Ok(SignIn::SecondStep(_))
        ));
    }
}
