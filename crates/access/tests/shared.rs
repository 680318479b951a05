//! Two server processes on one installation share its users, sessions,
//! keys, second factors and sign-in limits: each test runs two access
//! stores (two connections) on the embedded file and on PostgreSQL, and
//! what one does the other sees at once.

use girok_access::{
    AccessError, AccessStore, KeyLookup, MAX_FAILURES, Role, Scope, SecondFactor, SignIn, totp,
};
use girok_store::{Place, StoreError};

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;

const PASSWORD: &str = "correct horse battery";

/// Runs `check` on two stores of one embedded file, then of one PostgreSQL database.
fn on_both(check: impl Fn(&AccessStore, &AccessStore)) {
    let dir = tempfile::tempdir().expect("dir");
    let file = Place::File(dir.path().join("access.sqlite"));
    check(
        &AccessStore::open(&file).expect("one"),
        &AccessStore::open(&file).expect("other"),
    );
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    // The journal's database is made first: the access tables live in it.
    girok_store::Database::create_postgres(&url).expect("database");
    let shared = Place::Postgres(url);
    let (one, other) = (
        AccessStore::open(&shared).expect("one"),
        AccessStore::open(&shared).expect("other"),
    );
    assert!(one.is_shared());
    check(&one, &other);
}

fn signed_in(store: &AccessStore, password: &str, client: &str) -> &'static str {
    match store.sign_in("kim", password, client).expect("sign in") {
        SignIn::Limited => "limited",
        SignIn::WrongPassword => "wrong",
        SignIn::Started(..) => "started",
        SignIn::SecondStep(_) => "second step",
    }
}

#[test]
fn users_sessions_and_keys_of_one_are_the_others_at_once() {
    on_both(|one, other| {
        one.add_user("kim", Role::Documenter, PASSWORD)
            .expect("add");
        assert!(matches!(
            other.add_user("kim", Role::Admin, PASSWORD),
            Err(AccessError::Exists(_))
        ));
        assert_eq!(other.users().expect("users").len(), 1);
        let SignIn::Started(token, _) = one.sign_in("kim", PASSWORD, "10.0.0.1").expect("in")
        else {
            panic!("kim did not sign in");
        };
        let session = other.session(&token).expect("lookup").expect("live");
        assert_eq!(session.user.name, "kim");
        other.end_session(&token).expect("end");
        assert!(one.session(&token).expect("lookup").is_none());

        let key = one
            .add_key("kim", "script", Scope::Write, None)
            .expect("key");
        assert!(matches!(
            other.key_user(&key).expect("key"),
            KeyLookup::Valid(_, Scope::Write)
        ));
        other.set_role("kim", Role::Analyst).expect("role");
        assert!(matches!(
            one.key_user(&key).expect("key"),
            KeyLookup::Valid(_, Scope::Read)
        ));
        other.revoke_key("kim", "script").expect("revoke");
        assert_eq!(one.key_user(&key).expect("key"), KeyLookup::Unknown);
        other.set_disabled("kim", true).expect("disable");
        assert_eq!(one.disabled_users().expect("disabled"), ["kim"]);
        assert_eq!(signed_in(one, PASSWORD, "10.0.0.2"), "wrong");
    });
}

#[test]
fn the_limit_of_failed_sign_ins_holds_across_processes() {
    on_both(|one, other| {
        one.add_user("kim", Role::Documenter, PASSWORD)
            .expect("add");
        for attempt in 0..MAX_FAILURES {
            let store = if attempt % 2 == 0 { one } else { other };
            assert_eq!(signed_in(store, "wrong password!", "10.0.0.1"), "wrong");
        }
        assert_eq!(signed_in(other, PASSWORD, "10.0.0.1"), "limited");
        assert_eq!(signed_in(one, PASSWORD, "10.0.0.1"), "limited");
        // Another address is not limited by this one's failures, and its
        // right password clears nothing of the first address's.
        assert_eq!(signed_in(one, PASSWORD, "10.0.0.2"), "started");
        assert_eq!(signed_in(other, PASSWORD, "10.0.0.1"), "limited");
    });
}

#[test]
fn a_second_factors_code_is_taken_once_whichever_process_sees_it() {
    on_both(|one, other| {
        one.add_user("kim", Role::Admin, PASSWORD).expect("add");
        let secret = one.begin_enrolment("kim").expect("begin");
        assert_eq!(other.begin_enrolment("kim").expect("begin"), secret);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let codes = other
            .confirm_enrolment("kim", &totp::code(&secret, now, 6))
            .expect("confirm")
            .expect("codes");
        assert!(matches!(
            one.second_factor("kim").expect("factor"),
            SecondFactor::On {
                recovery_codes_left: 10
            }
        ));
        assert!(matches!(
            one.sign_in("kim", PASSWORD, "10.0.0.1").expect("in"),
            SignIn::SecondStep(_)
        ));
        // A recovery code used through one process is gone for the other.
        assert!(
            other
                .restart_second_factor("kim", &codes[0])
                .expect("restart")
        );
        assert!(
            !one.restart_second_factor("kim", &codes[1])
                .expect("restart")
        );
        assert_eq!(one.second_factor("kim").expect("factor"), SecondFactor::Off);
    });
}

#[test]
fn a_role_granted_on_postgres_runs_sign_ins_and_a_newer_schema_is_refused() {
    let cluster = cluster::Cluster::start();
    let url = cluster.new_database();
    let database = girok_store::Database::create_postgres(&url).expect("database");
    let owner = AccessStore::open(&Place::Postgres(url.clone())).expect("owner");
    owner
        .add_user("kim", Role::Documenter, PASSWORD)
        .expect("add");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    admin
        .batch_execute("CREATE ROLE girok_app LOGIN")
        .expect("role");
    assert!(matches!(
        owner.grant_to("public"),
        Err(AccessError::Store(StoreError::Invalid(_)))
    ));
    database.grant_to("girok_app").expect("grant the journal's");
    owner.grant_to("girok_app").expect("grant");
    let as_app = AccessStore::open(&Place::Postgres(
        url.replace("user=girok", "user=girok_app"),
    ))
    .expect("the app role opens");
    assert_eq!(signed_in(&as_app, "wrong password!", "10.0.0.1"), "wrong");
    assert_eq!(signed_in(&as_app, PASSWORD, "10.0.0.1"), "started");

    admin
        .batch_execute("UPDATE girok_meta SET value = '99' WHERE key = 'access_schema_version'")
        .expect("newer");
    assert!(matches!(
        AccessStore::open(&Place::Postgres(url)),
        Err(AccessError::Store(StoreError::TooNew { found: 99, .. }))
    ));
}
