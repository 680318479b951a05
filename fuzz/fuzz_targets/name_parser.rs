//! Any text given to the name parser: no panic, and every reading it
//! returns has a key that prints and candidates that are Hangul syllables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for result in [
        girok_korean::parse_name(text),
        girok_korean::parse_name_repairing(text).map(|(parsed, _)| parsed),
    ] {
        let Ok(parsed) = result else {
            continue;
        };
        assert!(!parsed.readings.is_empty());
        for key in parsed.keys() {
            let _ = key.to_string();
            let _ = key.hash64();
        }
        for reading in &parsed.readings {
            for set in reading.surname.iter().chain(&reading.given) {
                assert!(!set.is_empty());
                assert!(set.iter().all(|&c| girok_korean::Syllable::decompose(c).is_some()));
            }
        }
    }
});
