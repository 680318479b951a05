//! `girok serve`, `girok user` and the demo's web application.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};
use girok_server::access::{Role, Scope};
use girok_store::LockState;

use crate::cli::UserAction;

pub fn serve(
    data: &Path,
    key_file: Option<&Path>,
    addr: SocketAddr,
    settings: girok_server::Settings,
) -> Result<()> {
    if !girok_service::has_database(data) {
        bail!(
            "no Girok database in {}; create one with `girok init` (or try `girok demo`)",
            data.display()
        );
    }
    let app = girok_server::App::open_with(data, settings)?;
    if app.lock_state() == LockState::Locked {
        match crate::keys::secret_at_hand(key_file)? {
            Some(secret) => {
                app.unlock(&secret)?;
                println!("The encrypted database is unlocked.");
            }
            None => println!(
                "The encrypted database is locked: identifying data can be neither read nor written until it is unlocked."
            ),
        }
    }
    // Read once above; from now on the passphrase lives only in the unlocked vault.
    crate::keys::erase_passphrase_variable();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the server's runtime")?;
    println!(
        "Serving {} at http://{addr}/ (Ctrl-C stops)",
        data.display()
    );
    runtime.block_on(girok_server::serve(app, addr))?;
    Ok(())
}

pub fn user(data: &Path, action: UserAction) -> Result<()> {
    let access = girok_service::open_access(data)?;
    match action {
        UserAction::Add { name, role } => {
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let role: Role = role.into();
            access.add_user(&name, role, password.trim_end_matches(['\r', '\n']))?;
            println!("Added {name} ({})", role.name());
        }
        UserAction::List => {
            for user in access.users()? {
                let factor = match access.second_factor(&user.name)? {
                    girok_server::access::SecondFactor::On { .. } => "second factor on",
                    _ if access.second_factor_required(user.role)? => {
                        "second factor required, not set up"
                    }
                    _ => "",
                };
                println!("{:<24} {:<11} {factor}", user.name, user.role.name());
            }
        }
        UserAction::Key {
            name,
            label,
            scope,
            expires,
        } => {
            let scope: Scope = scope.into();
            let expires = girok_server::access::expiry_on(expires.as_deref().unwrap_or(""))?;
            let key = access.add_key(&name, &label, scope, expires)?;
            println!(
                "API key for {name} ({label}, {} scope); it is shown only now:\n{key}",
                scope.name()
            );
        }
        UserAction::ResetSecondFactor { name } => {
            access.reset_second_factor(&name)?;
            println!(
                "The second factor of {name} was removed; they set up a new one at their next sign-in."
            );
        }
        UserAction::SecondFactorForDocumenters { setting } => {
            let on = setting == crate::cli::OnOff::On;
            access.set_documenters_need_second_factor(on)?;
            println!(
                "Documenters {} sign in with a second factor.",
                if on { "now" } else { "no longer need to" }
            );
        }
    }
    Ok(())
}

/// Fresh demo users, one per role, with new random passwords each run.
pub fn demo_users(dir: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.join(format!("{}{suffix}", girok_service::ACCESS_FILE));
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot reset {}", path.display()))?;
        }
    }
    let access = girok_service::open_access(dir)?;
    println!("\nDemo users of the web application (new passwords each run):");
    for role in Role::ALL.into_iter().rev() {
        let mut bytes = [0u8; 9];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
        let password = hex::encode(bytes);
        let name = format!("demo-{}", role.name());
        access.add_user(&name, role, &password)?;
        println!("  {name:<18} {password}   ({})", role.name());
    }
    println!("  demo-admin sets up a second factor (an authenticator app) at its first sign-in.");
    Ok(())
}
