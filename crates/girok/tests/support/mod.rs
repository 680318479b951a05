//! Running the `girok` binary as a user does, shared by the command-line tests.

use std::path::Path;
use std::process::{Command, Output};

#[allow(dead_code, reason = "each test binary uses the helpers it needs")]
pub fn girok(data: &Path, args: &[&str]) -> Output {
    girok_with_env(data, args, &[])
}

/// `girok --data DATA ARGS` with extra environment variables.
#[allow(dead_code, reason = "each test binary uses the helpers it needs")]
pub fn girok_with_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_girok"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("GIROK_ACTOR", "tester")
        .envs(env.iter().copied())
        .output()
        .expect("run girok")
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn ok(data: &Path, args: &[&str]) -> String {
    let output = girok(data, args);
    assert!(
        output.status.success(),
        "girok {args:?} failed:\n{}",
        text(&output)
    );
    text(&output)
}

pub fn fails(data: &Path, args: &[&str]) -> String {
    let output = girok(data, args);
    assert!(
        !output.status.success(),
        "girok {args:?} should have failed:\n{}",
        text(&output)
    );
    text(&output)
}
