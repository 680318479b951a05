//! Blind indexes: keyed hashes of the Korean name keys (the same keys that
//! make "Kim Eun-joo", "Eunju Kim" and "김은주" one name), so two sealed
//! records that may name the same person share an index without anyone
//! reading either name. Without the key the hashes cannot be tested
//! against a list of likely names.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Key;

/// Bytes of HMAC-SHA256 kept: 128 bits make accidental collisions negligible.
const KEPT: usize = 16;

fn index(key: &Key, domain: &[u8], value: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("any key length");
    mac.update(domain);
    mac.update(value);
    hex::encode(&mac.finalize().into_bytes()[..KEPT])
}

/// The blind indexes of one written name: one per reading of its name key,
/// or of its folded text when it is not a Korean name.
pub(crate) fn name_indexes(key: &Key, text: &str) -> Vec<String> {
    match girok_korean::parse_name(text) {
        Ok(parsed) => parsed
            .keys()
            .iter()
            .map(|k| index(key, b"girok/name-key/", &k.hash64().to_le_bytes()))
            .collect(),
        Err(_) => {
            let folded = girok_korean::fold(text);
            if folded.is_empty() {
                Vec::new()
            } else {
                vec![index(key, b"girok/name-text/", folded.as_bytes())]
            }
        }
    }
}
