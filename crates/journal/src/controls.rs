//! Control characters are refused in every new change: an ESC sequence in a
//! name rewrites the terminal of whoever lists it, a right-to-left override
//! makes a title read backwards. Line breaks and tabs stay (testimonies are
//! written in paragraphs). Journals written before this rule still replay:
//! only the write path asks it, not `check`.

use girok_model::{Change, Invalid};
use serde_json::Value;

/// Whether `c` may not stand in text Girok stores.
pub fn is_refused(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses `change` if any of its text holds a refused character, naming the
/// field. `encoded` is the change's JSON: a quick scan of it clears almost
/// every change without decoding.
pub(crate) fn refuse_controls(change: &Change, encoded: &[u8]) -> Result<(), Invalid> {
    if !may_hold_refused(encoded) {
        return Ok(());
    }
    let Ok(value) = serde_json::to_value(change) else {
        return Ok(());
    };
    let mut path = Vec::new();
    match find(&value, &mut path) {
        None => Ok(()),
        Some(c) => {
            // The field is the record's (after "record") or the change's own.
            let field = path
                .iter()
                .position(|key| key == "record")
                .and_then(|at| path.get(at + 1))
                .or_else(|| path.first())
                .cloned()
                .unwrap_or_default();
            Err(Invalid::field(
                change.subject(),
                &field,
                girok_model::Wording::new(
                    format!(
                        "contains the control character U+{:04X}; remove it (line breaks and tabs are kept)",
                        u32::from(c)
                    ),
                    format!(
                        "제어 문자 U+{:04X}이(가) 들어 있습니다; 지우세요 (줄바꿈과 탭은 그대로 둡니다)",
                        u32::from(c)
                    ),
                ),
            ))
        }
    }
}

/// False when the JSON bytes surely hold no refused character: no escape that
/// can stand for one (`\b`, `\f`, `\u`), no DEL, no C1 control, no bidi override.
fn may_hold_refused(encoded: &[u8]) -> bool {
    encoded.windows(3).any(|w| {
        matches!(
            w,
            [b'\\', b'b' | b'f' | b'u', _]
                | [0x7F, _, _]
                | [0xC2, 0x80..=0x9F, _]
                | [0xE2, 0x80, 0xAA..=0xAE]
                | [0xE2, 0x81, 0xA6..=0xA9]
        )
    }) || encoded.last() == Some(&0x7F)
}

/// The first refused character in `value`'s strings (keys included), with
/// the keys that lead to it.
fn find(value: &Value, path: &mut Vec<String>) -> Option<char> {
    match value {
        Value::String(text) => text.chars().find(|c| is_refused(*c)),
        Value::Array(items) => items.iter().find_map(|item| find(item, path)),
        Value::Object(fields) => {
            for (key, item) in fields {
                path.push(key.clone());
                if let Some(c) = key
                    .chars()
                    .find(|c| is_refused(*c))
                    .or_else(|| find(item, path))
                {
                    return Some(c);
                }
                path.pop();
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use girok_model::{Name, Person, Record, RecordId, Romanization, Vocabularies};

    fn person_described(description: &str) -> Change {
        Change::Create {
            record: Record::Person(Person {
                description: description.into(),
                ..Person::new(
                    RecordId::new("p1"),
                    vec![Name::detect("김은주", Romanization::Unknown)],
                )
            }),
        }
    }

    #[test]
    fn control_characters_are_refused_at_their_field_and_paragraphs_kept() {
        let vocabularies = Vocabularies::default();
        for (text, refused) in [
            ("Kim\u{1b}[2J", Some(0x1b)),
            ("Kim\u{7}", Some(0x07)),
            ("Kim\u{0}", Some(0x00)),
            ("Kim\u{8}", Some(0x08)),
            ("Kim\u{7f}", Some(0x7f)),
            ("Kim\u{85}", Some(0x85)),
            ("\u{202e}nim", Some(0x202e)),
            ("\u{2067}김은주", Some(0x2067)),
            ("two\nparagraphs\twith a tab", None),
            ("Kim \\u001b literal", None),
        ] {
            let outcome = crate::PreparedChange::new(person_described(text), &vocabularies);
            match refused {
                Some(code) => {
                    let invalid = outcome.expect_err(text);
                    assert_eq!(invalid.field, "description", "{text:?}");
                    assert!(
                        invalid.message.english().contains(&format!("U+{code:04X}")),
                        "{text:?}: {}",
                        invalid.message
                    );
                }
                None => assert!(outcome.is_ok(), "{text:?}: {outcome:?}"),
            }
        }
        let mut forget = Change::Forget {
            subject: RecordId::new("p1"),
            reason: "asked by the witness\n\tin writing\r\n".into(),
        };
        assert!(crate::PreparedChange::new(forget.clone(), &vocabularies).is_ok());
        if let Change::Forget { reason, .. } = &mut forget {
            reason.push('\u{1b}');
        }
        let invalid = crate::PreparedChange::new(forget, &vocabularies).expect_err("esc");
        assert_eq!(invalid.field, "reason");
    }
}
