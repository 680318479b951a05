//! Any bytes as a record with a sealed envelope, or as a wrapped data key:
//! opening never panics, and never succeeds on what was not sealed with
//! that key for that record.
#![no_main]

use std::sync::LazyLock;

use girok_model::{Record, RecordId};
use girok_vault::{DataKey, KdfParams, Unlock, Vault};
use libfuzzer_sys::fuzz_target;

static VAULT: LazyLock<(Vault, DataKey)> = LazyLock::new(|| {
    let quick = KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 };
    let (vault, _) =
        Vault::create(&Unlock::Passphrase("a fuzzing passphrase".into()), quick).expect("vault");
    let (key, _) = vault.new_data_key(&RecordId::new("p1")).expect("key");
    (vault, key)
});

fuzz_target!(|data: &[u8]| {
    let (vault, key) = &*VAULT;
    let _ = vault.unwrap_data_key(&RecordId::new("p1"), data);
    if let Ok(mut record) = serde_json::from_slice::<Record>(data) {
        let sealed = record.sealed().is_some();
        if girok_vault::open(&mut record, key).is_ok() && sealed {
            panic!("an envelope not sealed by this key opened");
        }
    }
});
