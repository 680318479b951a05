//! Any bytes as a JSON Lines import: no panic, and a refused import leaves
//! the journal as it was.
#![no_main]

use girok_store::{SqliteStore, Store};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("input.jsonl");
    std::fs::write(&file, data).expect("write");
    let mut store = SqliteStore::create(&dir.path().join("girok.sqlite")).expect("store");
    let written = store.write("fuzz", |sink| girok_interchange::import(&file, sink, &mut |_| {}));
    if written.is_err() {
        assert_eq!(store.head().expect("head").0, 0, "a refused import wrote something");
    }
});
