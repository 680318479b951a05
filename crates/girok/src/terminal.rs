//! Text from records and logs, made safe to print on a terminal: stored text
//! can neither move the cursor, ring the bell or rewrite the screen (control
//! characters) nor reorder what a reader sees (bidirectional overrides). The
//! web pages show stored text through the same functions.

pub use girok_model::printable::{block, line};
