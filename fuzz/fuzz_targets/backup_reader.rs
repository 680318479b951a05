//! Any bytes as a backup: reading never panics and never yields plaintext
//! that did not authenticate.
#![no_main]

use std::io::Read;

use girok_vault::Unlock;
use girok_vault::stream::open_backup;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, mut reader)) = open_backup(data, &Unlock::KeyFile(vec![7; 32])) {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
    }
});
