//! From a request to a signed-in principal: a browser session cookie
//! (whose forms must carry the session's CSRF token) or an API key in
//! `Authorization: Bearer` (not sent by browsers on their own, so no CSRF
//! token is needed). A key does what its scope allows; a session what its
//! role allows, once its second factor is set up where one is required.

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::App;
use crate::access::{KeyLookup, Role, Scope, Session, User, csrf_matches};

pub const SESSION_COOKIE: &str = "girok_session";
/// The double-submit token of the sign-in form (there is no session yet).
pub const LOGIN_COOKIE: &str = "girok_login";
pub const LANG_COOKIE: &str = "girok_lang";
/// The pending second step of a sign-in, between password and code.
pub const CHALLENGE_COOKIE: &str = "girok_second_step";

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The browser session, if signed in by cookie.
    pub session: Option<(String, Session)>,
    /// What this principal may do: a session all its role allows, a key
    /// its scope.
    pub scope: Scope,
}

impl Principal {
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |(_, s)| s.csrf.as_str())
    }

    /// The time zone the user reads times in; `None`: the server's.
    pub fn time_zone(&self) -> Option<chrono_tz::Tz> {
        self.session.as_ref().and_then(|(_, s)| s.time_zone)
    }

    /// Whether this is an admin with the admin scope: only they forget
    /// records and widen consent.
    pub fn administers(&self) -> bool {
        self.user.role == Role::Admin && self.scope == Scope::Admin
    }
}

/// How a refusal is shown: pages send people to sign in, the API answers
/// with RFC 9457 problem details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Page,
    Api,
}

#[derive(Debug)]
pub enum Refusal {
    SignIn(Flavor),
    Forbidden(Flavor, &'static str),
    BadCsrf(Flavor),
    /// An API key past its expiry (RFC 3339).
    KeyExpired(Flavor, String),
    /// A key whose scope is narrower than the work: (needed, held).
    Scope(Flavor, Scope, Scope),
    /// A session whose role needs a second factor not set up yet.
    SecondFactorDue(Flavor),
    Internal(Flavor, String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (flavor, status, title, detail) = match self {
            Refusal::SignIn(Flavor::Page) => return Redirect::to("/login").into_response(),
            Refusal::SignIn(flavor) => (
                flavor,
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                "send a session cookie or an API key as 'Authorization: Bearer KEY'".to_string(),
            ),
            Refusal::Forbidden(flavor, what) => (
                flavor,
                StatusCode::FORBIDDEN,
                "Not allowed for your role",
                what.to_string(),
            ),
            Refusal::BadCsrf(flavor) => (
                flavor,
                StatusCode::FORBIDDEN,
                "Missing or wrong CSRF token",
                "reload the page and submit the form again".to_string(),
            ),
            Refusal::KeyExpired(flavor, when) => (
                flavor,
                StatusCode::UNAUTHORIZED,
                "API key expired",
                format!("this API key expired at {when}; ask an admin for a new one"),
            ),
            Refusal::Scope(flavor, needed, held) => (
                flavor,
                StatusCode::FORBIDDEN,
                "Not allowed for this API key",
                format!(
                    "this needs a key with the {} scope; this key's scope is {}",
                    needed.name(),
                    held.name()
                ),
            ),
            Refusal::SecondFactorDue(Flavor::Page) => {
                return Redirect::to("/account/second-factor").into_response();
            }
            Refusal::SecondFactorDue(flavor) => (
                flavor,
                StatusCode::FORBIDDEN,
                "Set up two-step sign-in first",
                "your role signs in with a second factor; set it up at /account/second-factor"
                    .to_string(),
            ),
            Refusal::Internal(flavor, message) => (
                flavor,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                message,
            ),
        };
        match flavor {
            Flavor::Api => crate::api::problem(status, title, &detail, None),
            Flavor::Page => crate::pages::error_page(status, title, &detail),
        }
    }
}

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A cookie for this application: never readable by scripts, never sent
/// cross-site, only over HTTPS (browsers treat localhost as secure).
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_seconds}")
}

/// The signed-in principal, if any: by API key, else by session cookie.
pub fn principal(
    app: &App,
    headers: &HeaderMap,
    flavor: Flavor,
) -> Result<Option<Principal>, Refusal> {
    let internal = |e: crate::access::AccessError| Refusal::Internal(flavor, e.to_string());
    if let Some(key) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return match app
            .with_access(|access| access.key_user(key.trim()))
            .map_err(internal)?
        {
            KeyLookup::Unknown => Ok(None),
            KeyLookup::Expired(when) => Err(Refusal::KeyExpired(flavor, when)),
            KeyLookup::Valid(user, scope) => Ok(Some(Principal {
                user,
                session: None,
                scope,
            })),
        };
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let session = app
        .with_access(|access| access.session(token))
        .map_err(internal)?;
    Ok(session.map(|session| Principal {
        user: session.user.clone(),
        scope: session.user.role.scope(),
        session: Some((token.to_string(), session)),
    }))
}

/// The principal of a browser session, which may still be setting up its
/// second factor (and may do nothing else).
pub fn require_session(app: &App, headers: &HeaderMap) -> Result<Principal, Refusal> {
    principal(app, headers, Flavor::Page)?
        .filter(|p| p.session.is_some())
        .ok_or(Refusal::SignIn(Flavor::Page))
}

/// The principal, who must hold at least `role`, with a session whose
/// second factor is in place or a key whose scope covers the role's work.
pub fn require(
    app: &App,
    headers: &HeaderMap,
    role: Role,
    flavor: Flavor,
) -> Result<Principal, Refusal> {
    let principal = principal(app, headers, flavor)?.ok_or(Refusal::SignIn(flavor))?;
    if principal
        .session
        .as_ref()
        .is_some_and(|(_, s)| s.second_factor_due)
    {
        return Err(Refusal::SecondFactorDue(flavor));
    }
    if principal.user.role < role {
        return Err(Refusal::Forbidden(
            flavor,
            match role {
                Role::Admin => "this needs the admin role",
                Role::Documenter => {
                    "this needs the documenter role (viewers and analysts only read)"
                }
                Role::Analyst => {
                    "this needs the analyst role or above (viewers see public statistics only)"
                }
                Role::Viewer => "sign in",
            },
        ));
    }
    if principal.scope < role.scope() {
        return Err(Refusal::Scope(flavor, role.scope(), principal.scope));
    }
    Ok(principal)
}

/// Checks the CSRF token a cookie-authenticated change carries (form field
/// or `X-CSRF-Token` header).
pub fn check_csrf(
    principal: &Principal,
    submitted: Option<&str>,
    flavor: Flavor,
) -> Result<(), Refusal> {
    match &principal.session {
        None => Ok(()),
        Some((_, session)) if submitted.is_some_and(|s| csrf_matches(session, s)) => Ok(()),
        Some(_) => Err(Refusal::BadCsrf(flavor)),
    }
}

/// Whom sign-in failures are counted against: the peer's address or, when
/// the peer is a trusted proxy, the nearest address in `X-Forwarded-For`
/// that is not (earlier entries are whatever the client wrote). An IPv6
/// client counts by its /64, which one subscriber usually holds whole.
pub fn client_key(trusted_proxies: &[IpAddr], peer: Option<IpAddr>, headers: &HeaderMap) -> String {
    let Some(peer) = peer else {
        return "unknown".to_string();
    };
    let client = if trusted_proxies.contains(&peer) {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        forwarded
            .iter()
            .rev()
            .map(|entry| entry.trim().parse::<IpAddr>())
            // An entry that is not an address: count against the proxy itself.
            .map_while(Result::ok)
            .find(|address| !trusted_proxies.contains(address))
            .unwrap_or(peer)
    } else {
        peer
    };
    match client {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let client: IpAddr = "198.51.100.7".parse().expect("ip");
        let claim = forwarded("203.0.113.1, 192.0.2.9");
        // From a client that is not a proxy, the header is ignored.
        assert_eq!(client_key(&[], Some(client), &claim), "198.51.100.7");
        assert_eq!(client_key(&[proxy], Some(client), &claim), "198.51.100.7");
        // Through the proxy, the address it appended counts, not what the client wrote before it.
        assert_eq!(client_key(&[proxy], Some(proxy), &claim), "192.0.2.9");
        assert_eq!(
            client_key(&[proxy], Some(proxy), &forwarded("192.0.2.9, 10.0.0.1")),
            "192.0.2.9"
        );
        assert_eq!(
            client_key(&[proxy], Some(proxy), &forwarded("junk")),
            "10.0.0.1"
        );
        assert_eq!(
            client_key(&[proxy], Some(proxy), &HeaderMap::new()),
            "10.0.0.1"
        );
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().expect("ip");
        assert_eq!(
            client_key(&[], Some(v6), &HeaderMap::new()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_key(&[], None, &HeaderMap::new()), "unknown");
    }
}
