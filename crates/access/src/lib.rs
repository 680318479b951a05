//! Who may do what: users with Argon2id password hashes and roles, second
//! factors (TOTP) with recovery codes, browser sessions, API keys with
//! scopes and expiry, and sign-in rate limiting.
//!
//! Access data is not testimony: it lives in its own SQLite file
//! (`DIR/access.sqlite`, mode 0600) beside the journal, so the journal can be
//! shared for verification without password hashes; a team's installation
//! keeps it in the shared PostgreSQL database, so every server process sees
//! the same users, sessions, keys and sign-in limits at once. Session tokens and API
//! keys are stored only as SHA-256 hashes; the secrets exist in the user's
//! browser or client alone. TOTP secrets are here too, in the clear (a code
//! is computed from them): they must work while the data is locked, since an
//! admin signs in to unlock it.

use std::collections::BTreeMap;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono_tz::Tz;
use girok_store::sql::{Row, Sql, Value};
use girok_store::{Place, Schema, Sidecar, StoreError, run_script};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub mod totp;

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
    /// The time zone the user reads times in; `None`: the server's.
    pub time_zone: Option<Tz>,
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
    Store(#[from] StoreError),
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
    #[error(
        "no action '{0}'; the actions are disable, enable, role, password, sessions, time-zone"
    )]
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
        "'{0}' is not a time zone; name one as the time zone database does, such as Asia/Seoul or Europe/London"
    )]
    BadTimeZone(String),
}

impl AccessError {
    /// What to say in Korean of a refusal; `None` for a failure, shown as
    /// it is worded.
    pub fn korean(&self) -> Option<String> {
        Some(match self {
            AccessError::Store(_) | AccessError::Hash(_) => return None,
            AccessError::BadName(name) => format!(
                "사용자 이름은 영문자, 숫자, '.', '-', '_'로 된 1~64자입니다; '{name}'은(는) 아닙니다"
            ),
            AccessError::WeakPassword => "비밀번호는 12자 이상이어야 합니다".to_string(),
            AccessError::BadRole(role) => format!(
                "'{role}'(이)라는 역할은 없습니다; 역할은 viewer, analyst, documenter, admin입니다"
            ),
            AccessError::Exists(name) => format!("'{name}' 사용자가 이미 있습니다"),
            AccessError::NoUser(name) => format!("'{name}' 사용자가 없습니다"),
            AccessError::NoKey { user, label } => {
                format!("{user}에게 '{label}' 용도의 키가 없습니다")
            }
            AccessError::OwnAccount(name) => format!(
                "{name}은(는) 본인 계정입니다: 비활성화나 역할 변경은 다른 관리자가 해야 합니다"
            ),
            AccessError::BadAction(action) => format!("'{action}'(이)라는 작업은 없습니다"),
            AccessError::BadScope(scope) => {
                format!("'{scope}'(이)라는 범위는 없습니다; 범위는 read, write, admin입니다")
            }
            AccessError::ScopeTooWide {
                user,
                role,
                allowed,
                asked,
            } => format!(
                "{user} ({role})의 키는 {allowed} 범위까지만 가질 수 있습니다. {asked}은(는) 안 됩니다"
            ),
            AccessError::ExpiryPast => "키의 만료일은 미래여야 합니다".to_string(),
            AccessError::BadDate(date) => {
                format!("'{date}'은(는) 날짜가 아닙니다; 2026-12-31처럼 적으세요")
            }
            AccessError::SecondFactorOn(name) => {
                format!("{name}에게는 이미 2단계 인증이 있습니다; 먼저 초기화하세요")
            }
            AccessError::BadTimeZone(zone) => format!(
                "'{zone}'은(는) 시간대가 아닙니다; Asia/Seoul, Europe/London처럼 시간대 데이터베이스의 이름으로 적으세요"
            ),
        })
    }
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

/// The access tables. An embedded database made by an earlier version
/// opens by running the steps it lacks (`PRAGMA user_version` counts them);
/// steps are only ever appended.
pub static SCHEMA: Schema = Schema {
    name: "access",
    steps: &[
        // 1: users, sessions, keys and sign-in attempts. Databases made before
        // versions were counted hold these already, hence `IF NOT EXISTS`.
        |sql| {
            run_script(
                sql,
                "CREATE TABLE IF NOT EXISTS user (
                     name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS session (
                     token BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                     csrf TEXT NOT NULL, expires TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS api_key (
                     key BLOB PRIMARY KEY, user TEXT NOT NULL REFERENCES user(name) ON DELETE CASCADE,
                     label TEXT NOT NULL, created TEXT NOT NULL);
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
        |sql| {
            run_script(
                sql,
                "ALTER TABLE api_key ADD COLUMN scope TEXT NOT NULL DEFAULT 'read';
                 ALTER TABLE api_key ADD COLUMN expires TEXT;
                 CREATE TABLE second_factor (
                     user TEXT PRIMARY KEY REFERENCES user(name) ON DELETE CASCADE,
                     secret BLOB NOT NULL, confirmed INTEGER NOT NULL,
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
            for mut row in sql.rows("SELECT name, role FROM user", &[])? {
                let (name, role) = (row.text(0)?, row.text(1)?);
                let scope = Role::parse(&role).map_or(Scope::Read, Role::scope);
                sql.execute(
                    "UPDATE api_key SET scope = ?2 WHERE user = ?1",
                    &[name.as_str().into(), scope.name().into()],
                )?;
            }
            Ok(())
        },
        // 3: users an admin disabled (their sessions ended, their keys refused).
        |sql| {
            run_script(
                sql,
                "ALTER TABLE user ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0",
            )
        },
        // 4: names PostgreSQL takes too (`user` is a word of its own there):
        // the user table becomes `account`, and so do the columns naming one.
        |sql| {
            run_script(
                sql,
                "ALTER TABLE user RENAME TO account;
                 ALTER TABLE session RENAME COLUMN user TO account;
                 ALTER TABLE api_key RENAME COLUMN user TO account;
                 ALTER TABLE second_factor RENAME COLUMN user TO account;
                 ALTER TABLE recovery_code RENAME COLUMN user TO account;
                 ALTER TABLE sign_in_challenge RENAME COLUMN user TO account",
            )
        },
        // 5: each user's time zone (empty: the server's), named as the time
        // zone database names it.
        |sql| {
            run_script(
                sql,
                "ALTER TABLE account ADD COLUMN time_zone TEXT NOT NULL DEFAULT ''",
            )
        },
    ],
    postgres: POSTGRES_TABLES,
    postgres_version: 4,
    append_only: &[],
    mutable: &[
        "account",
        "session",
        "api_key",
        "sign_in_attempt",
        "second_factor",
        "recovery_code",
        "sign_in_challenge",
        "setting",
    ],
};

/// The tables after step 4, as a new shared database gets them.
const POSTGRES_TABLES: &str = "
CREATE TABLE account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE session (
    token BLOB PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL, expires TEXT NOT NULL);
CREATE INDEX session_account ON session (account);
CREATE TABLE api_key (
    key BLOB PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE,
    label TEXT NOT NULL, created TEXT NOT NULL, scope TEXT NOT NULL DEFAULT 'read', expires TEXT);
-- Sign-in attempts of the last window, shared by every server process.
-- An attempt is counted (pending) before its password is hashed.
CREATE TABLE sign_in_attempt (
    id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL,
    client TEXT NOT NULL, at INTEGER NOT NULL, pending INTEGER NOT NULL);
CREATE INDEX sign_in_attempt_name ON sign_in_attempt (name, client);
CREATE INDEX sign_in_attempt_client ON sign_in_attempt (client);
CREATE INDEX sign_in_attempt_at ON sign_in_attempt (at);
-- The time step of the last code accepted: no code of it or before is taken again.
CREATE TABLE second_factor (
    account TEXT PRIMARY KEY REFERENCES account(name) ON DELETE CASCADE,
    secret BLOB NOT NULL, confirmed INTEGER NOT NULL, last_step INTEGER, created TEXT NOT NULL);
CREATE TABLE recovery_code (
    id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE, hash TEXT NOT NULL);
CREATE INDEX recovery_code_account ON recovery_code (account);
CREATE TABLE sign_in_challenge (
    token BLOB PRIMARY KEY, account TEXT NOT NULL REFERENCES account(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE setting (name TEXT PRIMARY KEY, value TEXT NOT NULL)";

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
    sidecar: Sidecar,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether a statement ending in `RETURNING` changed any row.
fn changed(sql: &dyn Sql, statement: &str, parameters: &[Value<'_>]) -> Result<bool, AccessError> {
    Ok(sql.exists(statement, parameters)?)
}

/// How many rows a statement ending in `RETURNING` changed.
fn changed_rows(
    sql: &dyn Sql,
    statement: &str,
    parameters: &[Value<'_>],
) -> Result<usize, AccessError> {
    Ok(sql.rows(statement, parameters)?.len())
}

/// A stored time zone; one this build's database no longer names reads as
/// the server's rather than refusing the session.
fn stored_time_zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

fn role_in(row: &mut Row, column: usize) -> Result<Option<Role>, AccessError> {
    Ok(Role::parse(&row.text(column)?))
}

impl AccessStore {
    /// Opens (creating if needed) the access tables at `place`.
    pub fn open(place: &Place) -> Result<AccessStore, AccessError> {
        Ok(AccessStore {
            sidecar: Sidecar::open(place, &SCHEMA)?,
        })
    }

    /// Lets a PostgreSQL role run a server's sign-ins, sessions and keys.
    pub fn grant_to(&self, role: &str) -> Result<(), AccessError> {
        Ok(self.sidecar.grant_to(role)?)
    }

    fn sql(&self) -> &dyn Sql {
        self.sidecar.sql()
    }

    /// Whether the tables are in a team's shared PostgreSQL database.
    pub fn is_shared(&self) -> bool {
        self.sidecar.is_shared()
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
        let created = chrono::Utc::now().to_rfc3339();
        let inserted = changed(
            self.sql(),
            "INSERT INTO account (name, role, hash, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING RETURNING name",
            &[
                name.into(),
                role.name().into(),
                hash.as_str().into(),
                created.as_str().into(),
            ],
        )?;
        if !inserted {
            return Err(AccessError::Exists(name.to_string()));
        }
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<User>, AccessError> {
        let mut users = Vec::new();
        for mut row in self
            .sql()
            .rows("SELECT name, role FROM account ORDER BY name", &[])?
        {
            if let Some(role) = role_in(&mut row, 1)? {
                users.push(User {
                    name: row.text(0)?,
                    role,
                });
            }
        }
        Ok(users)
    }

    /// Checks a password (Argon2 verification compares in constant time);
    /// unknown users cost a hash too, so timing does not tell who exists.
    fn authenticate(&self, name: &str, password: &str) -> Result<Option<User>, AccessError> {
        let row = self.sql().row(
            "SELECT role, hash, disabled FROM account WHERE name = ?1",
            &[name.into()],
        )?;
        let Some(mut row) = row else {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            let _ = Argon2::default().hash_password(password.as_bytes(), &salt);
            return Ok(None);
        };
        let (role, hash, disabled) = (row.text(0)?, row.text(1)?, row.boolean(2)?);
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
        self.sql()
            .rows(
                "SELECT name FROM account WHERE disabled = 1 ORDER BY name",
                &[],
            )?
            .into_iter()
            .map(|mut row| Ok(row.text(0)?))
            .collect()
    }

    /// Runs `statement` (with the user's name as `?1`, ending in
    /// `RETURNING`) on an existing user.
    fn change_user(
        &self,
        name: &str,
        statement: &str,
        value: Value<'_>,
    ) -> Result<(), AccessError> {
        if !changed(self.sql(), statement, &[name.into(), value])? {
            return Err(AccessError::NoUser(name.to_string()));
        }
        Ok(())
    }

    /// Ends every session and pending second step of a user; how many sessions.
    pub fn end_sessions(&self, name: &str) -> Result<usize, AccessError> {
        self.sidecar.write(|sql| {
            sql.execute(
                "DELETE FROM sign_in_challenge WHERE account = ?1",
                &[name.into()],
            )?;
            changed_rows(
                sql,
                "DELETE FROM session WHERE account = ?1 RETURNING account",
                &[name.into()],
            )
        })
    }

    /// Disables a user (no sign-in, sessions ended, keys refused) or enables
    /// them again (their keys work again).
    pub fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), AccessError> {
        self.change_user(
            name,
            "UPDATE account SET disabled = ?2 WHERE name = ?1 RETURNING name",
            disabled.into(),
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
            "UPDATE account SET role = ?2 WHERE name = ?1 RETURNING name",
            role.name().into(),
        )?;
        self.end_sessions(name)?;
        Ok(())
    }

    /// Sets the time zone a user reads times in, named as the time zone
    /// database names it ("Asia/Seoul"); empty for the server's.
    pub fn set_time_zone(&self, name: &str, zone: &str) -> Result<(), AccessError> {
        let zone = zone.trim();
        let stored = if zone.is_empty() {
            String::new()
        } else {
            zone.parse::<Tz>()
                .map_err(|_| AccessError::BadTimeZone(zone.to_string()))?
                .name()
                .to_string()
        };
        self.change_user(
            name,
            "UPDATE account SET time_zone = ?2 WHERE name = ?1 RETURNING name",
            stored.as_str().into(),
        )
    }

    fn time_zone_of(&self, name: &str) -> Result<Option<Tz>, AccessError> {
        let row = self.sql().row(
            "SELECT time_zone FROM account WHERE name = ?1",
            &[name.into()],
        )?;
        Ok(match row {
            Some(mut row) => stored_time_zone(&row.text(0)?),
            None => None,
        })
    }

    /// Each user's time zone, for those who set one.
    pub fn time_zones(&self) -> Result<BTreeMap<String, Tz>, AccessError> {
        let mut zones = BTreeMap::new();
        for mut row in self.sql().rows(
            "SELECT name, time_zone FROM account WHERE time_zone <> '' ORDER BY name",
            &[],
        )? {
            if let Some(zone) = stored_time_zone(&row.text(1)?) {
                zones.insert(row.text(0)?, zone);
            }
        }
        Ok(zones)
    }

    /// Sets a new password (an admin resetting a forgotten one); the user's
    /// sessions end.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), AccessError> {
        if password.chars().count() < 12 {
            return Err(AccessError::WeakPassword);
        }
        let hash = slow_hash(password)?;
        self.change_user(
            name,
            "UPDATE account SET hash = ?2 WHERE name = ?1 RETURNING name",
            hash.as_str().into(),
        )?;
        self.end_sessions(name)?;
        Ok(())
    }

    /// Revokes a user's key by what it is for; refuses a key that is not there.
    pub fn revoke_key(&self, user: &str, label: &str) -> Result<(), AccessError> {
        let removed = changed(
            self.sql(),
            "DELETE FROM api_key WHERE account = ?1 AND label = ?2 RETURNING label",
            &[user.into(), label.into()],
        )?;
        if !removed {
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
        let expires = (chrono::Utc::now() + SESSION_IDLE).to_rfc3339();
        self.sql().execute(
            "INSERT INTO session (token, account, csrf, expires) VALUES (?1, ?2, ?3, ?4)",
            &[
                digest(&token).as_slice().into(),
                user.name.as_str().into(),
                csrf.as_str().into(),
                expires.as_str().into(),
            ],
        )?;
        let second_factor_due = self.second_factor_due(user)?;
        let time_zone = self.time_zone_of(&user.name)?;
        Ok((
            token,
            Session {
                user: user.clone(),
                csrf,
                second_factor_due,
                time_zone,
            },
        ))
    }

    /// The live session of a token, extending its idle timeout.
    pub fn session(&self, token: &str) -> Result<Option<Session>, AccessError> {
        let now = chrono::Utc::now();
        let hashed = digest(token);
        let row = self.sql().row(
            "SELECT s.account, a.role, s.csrf, s.expires, a.time_zone FROM session s
             JOIN account a ON a.name = s.account
             WHERE s.token = ?1 AND a.disabled = 0",
            &[hashed.as_slice().into()],
        )?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        let (name, role, csrf, expires) = (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
        let time_zone = stored_time_zone(&row.text(4)?);
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
            let expires = (now + SESSION_IDLE).to_rfc3339();
            self.sql().execute(
                "UPDATE session SET expires = ?2 WHERE token = ?1",
                &[hashed.as_slice().into(), expires.as_str().into()],
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
            time_zone,
        }))
    }

    pub fn end_session(&self, token: &str) -> Result<(), AccessError> {
        self.sql().execute(
            "DELETE FROM session WHERE token = ?1",
            &[digest(token).as_slice().into()],
        )?;
        Ok(())
    }

    fn role_of(&self, user: &str) -> Result<Role, AccessError> {
        let row = self
            .sql()
            .row("SELECT role FROM account WHERE name = ?1", &[user.into()])?;
        match row {
            Some(mut row) => role_in(&mut row, 0)?,
            None => None,
        }
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
        let created = chrono::Utc::now().to_rfc3339();
        let expires = expires.map(|e| e.to_rfc3339());
        self.sql().execute(
            "INSERT INTO api_key (key, account, label, created, scope, expires)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                digest(&key).as_slice().into(),
                user.into(),
                label.into(),
                created.as_str().into(),
                scope.name().into(),
                expires.as_deref().into(),
            ],
        )?;
        Ok(key)
    }

    /// Every API key, by user and creation.
    pub fn keys(&self) -> Result<Vec<ApiKey>, AccessError> {
        let rows = self.sql().rows(
            "SELECT account, label, scope, created, expires FROM api_key ORDER BY account, created",
            &[],
        )?;
        let mut keys = Vec::new();
        for mut row in rows {
            let scope = row.text(2)?;
            keys.push(ApiKey {
                user: row.text(0)?,
                label: row.text(1)?,
                scope: Scope::parse(&scope).ok_or(AccessError::BadScope(scope))?,
                created: row.text(3)?,
                expires: row.opt_text(4)?,
            });
        }
        Ok(keys)
    }

    /// Whose an API key is and what it may do, or why it may do nothing.
    pub fn key_user(&self, key: &str) -> Result<KeyLookup, AccessError> {
        let row = self.sql().row(
            "SELECT a.name, a.role, k.scope, k.expires FROM api_key k
             JOIN account a ON a.name = k.account
             WHERE k.key = ?1 AND a.disabled = 0",
            &[digest(key).as_slice().into()],
        )?;
        let Some(mut row) = row else {
            return Ok(KeyLookup::Unknown);
        };
        let (name, role, scope, expires) =
            (row.text(0)?, row.text(1)?, row.text(2)?, row.opt_text(3)?);
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
        let value = self
            .sql()
            .row(
                "SELECT value FROM setting WHERE name = ?1",
                &[DOCUMENTERS_SETTING.into()],
            )?
            .map(|mut row| row.text(0))
            .transpose()?;
        Ok(value.as_deref() == Some("on"))
    }

    pub fn set_documenters_need_second_factor(&self, on: bool) -> Result<(), AccessError> {
        self.sql().execute(
            "INSERT INTO setting (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[
                DOCUMENTERS_SETTING.into(),
                if on { "on" } else { "off" }.into(),
            ],
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
        let row = self.sql().row(
            "SELECT secret, confirmed FROM second_factor WHERE account = ?1",
            &[user.into()],
        )?;
        let Some(mut row) = row else {
            return Ok(SecondFactor::Off);
        };
        if !row.boolean(1)? {
            return Ok(SecondFactor::Pending(row.blob(0)?));
        }
        let left = self.sql().number(
            "SELECT COUNT(*) FROM recovery_code WHERE account = ?1",
            &[user.into()],
        )?;
        Ok(SecondFactor::On {
            recovery_codes_left: left as usize,
        })
    }

    /// The secret to enrol with: the one already shown if enrolment was
    /// begun, else a new one.
    pub fn begin_enrolment(&self, user: &str) -> Result<Vec<u8>, AccessError> {
        self.role_of(user)?;
        let mut secret = [0u8; totp::SECRET_BYTES];
        getrandom::fill(&mut secret).expect("the operating system's random source");
        let created = chrono::Utc::now().to_rfc3339();
        // A concurrent request may have begun it: the first secret stays.
        self.sql().execute(
            "INSERT INTO second_factor (account, secret, confirmed, created) VALUES (?1, ?2, 0, ?3)
             ON CONFLICT (account) DO NOTHING",
            &[
                user.into(),
                secret.as_slice().into(),
                created.as_str().into(),
            ],
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
        let Some(step) = totp::matching_step(&secret, code, unix_now() as u64, None) else {
            return Ok(None);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes = codes
            .iter()
            .map(|c| slow_hash(&normal_recovery_code(c)))
            .collect::<Result<Vec<_>, _>>()?;
        self.sidecar.write(|sql| {
            let confirmed = changed(
                sql,
                "UPDATE second_factor SET confirmed = 1, last_step = ?3
                 WHERE account = ?1 AND secret = ?2 AND confirmed = 0 RETURNING account",
                &[user.into(), secret.as_slice().into(), step.into()],
            )?;
            if !confirmed {
                return Ok(None);
            }
            sql.execute(
                "DELETE FROM recovery_code WHERE account = ?1",
                &[user.into()],
            )?;
            for hash in &hashes {
                sql.execute(
                    "INSERT INTO recovery_code (account, hash) VALUES (?1, ?2)",
                    &[user.into(), hash.into()],
                )?;
            }
            Ok(Some(codes))
        })
    }

    /// Whether `code` is a current TOTP code of the user's confirmed factor
    /// (not used before) or one of their unused recovery codes; either is
    /// used up by succeeding, also when processes race to use it.
    fn use_second_factor(&self, user: &str, code: &str) -> Result<bool, AccessError> {
        let row = self.sql().row(
            "SELECT secret, last_step FROM second_factor WHERE account = ?1 AND confirmed = 1",
            &[user.into()],
        )?;
        let Some(mut row) = row else {
            return Ok(false);
        };
        let (secret, last_step) = (row.blob(0)?, row.opt_integer(1)?);
        let last_step = last_step.map(|s| s.max(0) as u64);
        if let Some(step) = totp::matching_step(&secret, code, unix_now() as u64, last_step) {
            return changed(
                self.sql(),
                "UPDATE second_factor SET last_step = ?2
                 WHERE account = ?1 AND (last_step IS NULL OR last_step < ?2) RETURNING account",
                &[user.into(), step.into()],
            );
        }
        let typed = normal_recovery_code(code);
        if typed.len() != RECOVERY_CODE_CHARS {
            return Ok(false);
        }
        let stored = self.sql().rows(
            "SELECT id, hash FROM recovery_code WHERE account = ?1",
            &[user.into()],
        )?;
        for mut row in stored {
            let (id, hash) = (row.integer(0)?, row.text(1)?);
            if slow_matches(&typed, &hash)? {
                return changed(
                    self.sql(),
                    "DELETE FROM recovery_code WHERE id = ?1 RETURNING id",
                    &[id.into()],
                );
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
        self.sidecar.write(|sql| {
            if with_sessions {
                sql.execute("DELETE FROM session WHERE account = ?1", &[user.into()])?;
                sql.execute(
                    "DELETE FROM sign_in_challenge WHERE account = ?1",
                    &[user.into()],
                )?;
            }
            sql.execute(
                "DELETE FROM recovery_code WHERE account = ?1",
                &[user.into()],
            )?;
            sql.execute(
                "DELETE FROM second_factor WHERE account = ?1",
                &[user.into()],
            )?;
            Ok(())
        })
    }

    /// The pending second step of a sign-in: its user and its form's token.
    pub fn challenge(&self, token: &str) -> Result<Option<(String, String)>, AccessError> {
        let row = self.sql().row(
            "SELECT account, csrf FROM sign_in_challenge WHERE token = ?1 AND expires > ?2",
            &[digest(token).as_slice().into(), unix_now().into()],
        )?;
        match row {
            Some(mut row) => Ok(Some((row.text(0)?, row.text(1)?))),
            None => Ok(None),
        }
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
            self.failed(&attempt)?;
            return Ok(SecondStep::WrongCode);
        }
        let taken = changed(
            self.sql(),
            "DELETE FROM sign_in_challenge WHERE token = ?1 RETURNING account",
            &[digest(token).as_slice().into()],
        )?;
        self.clear_failures(&attempt, &user, client)?;
        if !taken {
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
    let text = totp::base32(&bytes);
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
                let token = random_token();
                let csrf = random_token();
                let now = unix_now();
                self.sidecar.write(|sql| {
                    sql.execute(
                        "DELETE FROM sign_in_attempt WHERE id = ?1",
                        &[attempt.id.into()],
                    )?;
                    sql.execute(
                        "DELETE FROM sign_in_challenge WHERE expires <= ?1",
                        &[now.into()],
                    )?;
                    sql.execute(
                        "INSERT INTO sign_in_challenge (token, account, csrf, expires)
                         VALUES (?1, ?2, ?3, ?4)",
                        &[
                            digest(&token).as_slice().into(),
                            user.name.as_str().into(),
                            csrf.as_str().into(),
                            (now + SECOND_STEP_TIME.as_secs() as i64).into(),
                        ],
                    )?;
                    Ok::<_, AccessError>(())
                })?;
                Ok(SignIn::SecondStep(token))
            }
            Some(user) => {
                self.clear_failures(&attempt, name, client)?;
                let (token, session) = self.start_session(&user)?;
                Ok(SignIn::Started(token, session))
            }
            None => {
                self.failed(&attempt)?;
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
        self.sidecar.write(|sql| {
            sql.execute(
                "DELETE FROM sign_in_attempt WHERE at <= ?1",
                &[(now - FAILURE_WINDOW.as_secs() as i64).into()],
            )?;
            let mut counts = sql
                .row(
                    "SELECT COUNT(*) FILTER (WHERE name = ?1 AND client = ?2),
                            COUNT(*) FILTER (WHERE name = ?1), COUNT(*) FILTER (WHERE client = ?2)
                     FROM sign_in_attempt WHERE name = ?1 OR client = ?2",
                    &[name.into(), client.into()],
                )?
                .ok_or_else(|| StoreError::Corrupt("no row from a count".into()))?;
            let (pair, by_name, by_client): (usize, usize, usize) =
                (counts.count(0)?, counts.count(1)?, counts.count(2)?);
            if pair >= MAX_FAILURES
                || by_name >= NAME_FAILURE_CEILING
                || by_client >= CLIENT_FAILURE_CEILING
            {
                return Ok(None);
            }
            let mut inserted = sql
                .row(
                    "INSERT INTO sign_in_attempt (name, client, at, pending) VALUES (?1, ?2, ?3, 1)
                     RETURNING id",
                    &[name.into(), client.into(), now.into()],
                )?
                .ok_or_else(|| StoreError::Corrupt("no id for a sign-in attempt".into()))?;
            Ok(Some(Attempt {
                id: inserted.integer(0)?,
            }))
        })
    }

    /// A checked attempt that failed: it stays counted, no longer pending.
    fn failed(&self, attempt: &Attempt) -> Result<(), AccessError> {
        self.sql().execute(
            "UPDATE sign_in_attempt SET pending = 0 WHERE id = ?1",
            &[attempt.id.into()],
        )?;
        Ok(())
    }

    /// A right password clears the failures of its name from its address,
    /// but not attempts from there still being checked: they keep their slots.
    fn clear_failures(
        &self,
        attempt: &Attempt,
        name: &str,
        client: &str,
    ) -> Result<(), AccessError> {
        self.sql().execute(
            "DELETE FROM sign_in_attempt WHERE name = ?1 AND client = ?2 AND (pending = 0 OR id = ?3)",
            &[name.into(), client.into(), attempt.id.into()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, params};

    fn in_dir(dir: &tempfile::TempDir) -> Place {
        Place::File(dir.path().join("access.sqlite"))
    }

    #[test]
    fn passwords_sessions_and_keys() {
        let dir = tempfile::tempdir().expect("dir");
        let access = AccessStore::open(&in_dir(&dir)).expect("open");
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
        let stored = access
            .sql()
            .row("SELECT hash FROM account", &[])
            .expect("hash")
            .expect("a row")
            .text(0)
            .expect("text");
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
        let access = AccessStore::open(&in_dir(&dir)).expect("open");
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
            .sql()
            .execute(
                "UPDATE sign_in_attempt SET at = at - ?1",
                &[(FAILURE_WINDOW.as_secs() as i64).into()],
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
        let access = AccessStore::open(&in_dir(&dir)).expect("migrated");
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
        let version = access
            .sql()
            .number("PRAGMA user_version", &[])
            .expect("version");
        assert_eq!(version, SCHEMA.steps.len() as u64);
        drop(access);
        // Opening again changes nothing; a newer schema is not touched.
        AccessStore::open(&in_dir(&dir)).expect("again");
        Connection::open(dir.path().join("access.sqlite"))
            .expect("db")
            .pragma_update(None, "user_version", 99)
            .expect("newer");
        assert!(matches!(
            AccessStore::open(&in_dir(&dir)),
            Err(AccessError::Store(StoreError::TooNew { found: 99, .. }))
        ));
    }

    #[test]
    fn key_scopes_are_bounded_by_the_role_now_and_expiry_fails_closed() {
        let dir = tempfile::tempdir().expect("dir");
        let access = AccessStore::open(&in_dir(&dir)).expect("open");
        access
            .add_user("kim", Role::Admin, "correct horse battery")
            .expect("add");
        let key = access
            .add_key("kim", "all", Scope::Admin, None)
            .expect("key");
        // A role lowered later narrows the keys made before.
        access
            .sql()
            .execute(
                "UPDATE account SET role = 'analyst' WHERE name = 'kim'",
                &[],
            )
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
            .sql()
            .execute("UPDATE api_key SET expires = 'garbled'", &[])
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
        let one = AccessStore::open(&in_dir(&dir)).expect("one");
        let other = AccessStore::open(&in_dir(&dir)).expect("other");
        one.add_user("kim", Role::Admin, "correct horse battery")
            .expect("add");
        let secret = one.begin_enrolment("kim").expect("begin");
        // Both processes show the same pending secret.
        assert_eq!(other.begin_enrolment("kim").expect("begin"), secret);
        let now = unix_now() as u64;
        let codes = one
            .confirm_enrolment("kim", &totp::code(&secret, now, 6))
            .expect("confirm")
            .expect("codes");
        let next = totp::code(&secret, now + totp::STEP, 6);
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
