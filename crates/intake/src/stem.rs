//! The one scheme for ids of records made at intake.
//!
//! `KIND-STEM[-N]`: a letter for the record's kind (`s` source, `p` person,
//! `a` act, `i` involvement, `f` information, `e` event), then the stem of
//! the testimony that made it, shared by every record made from it, then a
//! number where one testimony makes several of a kind (involvements). A row
//! of a file is stemmed by the file's SHA-256 and the row's line, so the same
//! file names the same records in every database and each id leads back to
//! its line; an entry typed into a form is stemmed by random bits the door
//! draws; two drawn stems that collide are refused by the store (an id is
//! never reused), never written over. Ids made before this scheme stay
//! valid: nothing reads meaning from an id.

use girok_model::{RecordId, RecordKind};

/// What the ids made from one testimony share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stem(String);

impl Stem {
    /// The stem of a file's row: the first 12 hex digits of the file's SHA-256
    /// and the row's line.
    pub fn row(sha256: &str, line: u64) -> Stem {
        let prefix: String = sha256.chars().take(12).collect();
        Stem(format!("{prefix}-{line}"))
    }

    /// The stem of an entry typed in: random bytes the door drew.
    pub fn drawn(random: [u8; 6]) -> Stem {
        Stem(random.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The id of the `kind` record this stem's testimony makes; `n` counts
    /// records of one kind from 1 where there may be several.
    pub fn id(&self, kind: RecordKind, n: Option<usize>) -> RecordId {
        let letter = match kind {
            RecordKind::Source => "s",
            RecordKind::Person => "p",
            RecordKind::Event => "e",
            RecordKind::Act => "a",
            RecordKind::Involvement => "i",
            RecordKind::Information => "f",
            RecordKind::Relation => "r",
            RecordKind::Evidence => "x",
        };
        RecordId::new(match n {
            None => format!("{letter}-{}", self.0),
            Some(n) => format!("{letter}-{}-{n}", self.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_kind_testimony_and_position() {
        let sha = "3f9c0e12ab45ffffffffffffffffffffffffffffffffffffffffffffffffffff";
        let row = Stem::row(sha, 17);
        assert_eq!(row.id(RecordKind::Act, None).as_str(), "a-3f9c0e12ab45-17");
        assert_eq!(
            row.id(RecordKind::Involvement, Some(2)).as_str(),
            "i-3f9c0e12ab45-17-2"
        );
        let drawn = Stem::drawn([0, 1, 2, 0xab, 0xcd, 0xef]);
        assert_eq!(
            drawn.id(RecordKind::Source, None).as_str(),
            "s-000102abcdef"
        );
        for kind in RecordKind::ALL {
            let long = Stem::row(sha, u64::MAX).id(*kind, Some(usize::MAX));
            assert!(long.is_well_formed(), "{long}");
        }
    }
}
