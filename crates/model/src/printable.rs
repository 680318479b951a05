//! Stored text made safe to show, on a terminal or a web page: it can
//! neither move the cursor, ring the bell or rewrite the screen (control
//! characters) nor reorder what a reader sees (bidirectional overrides).
//! HTML escaping does neither; the command line and the web pages both
//! show stored text through these.

use std::borrow::Cow;

/// Whether a character must not reach a terminal as itself.
fn unsafe_char(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newlines,
        // Bidirectional marks, embeddings, overrides and isolates.
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

fn escaped(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c, keep_newlines)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c, keep_newlines) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// One line of text: every control character escaped, newlines too.
pub fn line(text: &str) -> Cow<'_, str> {
    escaped(text, false)
}

/// Several lines of text (pretty JSON, notes): newlines and tabs kept, every
/// other control character escaped.
pub fn block(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidirectional_overrides_are_escaped() {
        assert_eq!(line("Kim\u{1b}[2J\u{7}"), "Kim\\u{1b}[2J\\u{7}");
        assert_eq!(line("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(line("a\nb"), "a\\u{a}b");
        assert_eq!(block("a\nb\u{0}"), "a\nb\\u{0}");
        assert_eq!(line("김은주 Kim Eun-joo"), "김은주 Kim Eun-joo");
    }
}
