//! Documenting organisations as a managed vocabulary. A source's
//! organisation decides its list in every Multiple Systems Estimate, so
//! "NKDB" and "NKDB 서울" must count as one. The forms choose a term of the
//! `organisations` vocabulary; imports and older databases may hold free
//! text, which counts as an organisation of its own until an admin merges
//! the spelling into a term. A merge is a journaled `add-term` change (a
//! term of class `merged` whose parent is the organisation it names), so it
//! replays, verifies and reaches every server like any other write; the
//! sources keep the text they were recorded with.

use std::collections::BTreeMap;

use girok_model::{Change, MERGED_SPELLING, Record, Term, VocabKind, Vocabularies};
use girok_store::{Database, Store, StoreError};

/// One organisation text the sources use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUse {
    /// As stored in the sources (a term's key, or free text).
    pub text: String,
    /// The key of the organisation it names, if it names one.
    pub term: Option<String>,
    /// How many sources name it so.
    pub sources: u64,
}

/// Every organisation text the sources use, in text order.
pub fn in_use(store: &Database) -> Result<Vec<InUse>, StoreError> {
    let vocabularies = store.shared_vocabularies();
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    store.for_each_record(&mut |record| {
        if let Record::Source(source) = record
            && let Some(text) = source.organisation
        {
            *counted.entry(text).or_default() += 1;
        }
        Ok(())
    })?;
    Ok(counted
        .into_iter()
        .map(|(text, sources)| InUse {
            term: vocabularies.organisation(&text).map(|t| t.key.clone()),
            text,
            sources,
        })
        .collect())
}

/// Why a spelling was not merged (the admin's to mend).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefused {
    #[error("the spelling to merge is empty")]
    Empty,
    #[error("'{0}' is not an organisation of the vocabulary")]
    UnknownTarget(String),
    #[error("'{into}' is a spelling merged into '{root}': merge into '{root}' instead")]
    TargetMerged { into: String, root: String },
    #[error("'{spelling}' already names the organisation '{key}'")]
    AlreadyNamed { spelling: String, key: String },
}

/// Why a merge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Refused(#[from] MergeRefused),
    /// The write was refused or failed (the store says which).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The term that merges `spelling` into the organisation `into`.
fn merging_term(
    vocabularies: &Vocabularies,
    spelling: &str,
    into: &str,
) -> Result<Term, MergeRefused> {
    let spelling = spelling.trim();
    if spelling.is_empty() {
        return Err(MergeRefused::Empty);
    }
    let organisations = vocabularies.get(VocabKind::Organisation);
    let target = organisations
        .get(into)
        .ok_or_else(|| MergeRefused::UnknownTarget(into.to_string()))?;
    if target.class.as_deref() == Some(MERGED_SPELLING) {
        return Err(MergeRefused::TargetMerged {
            into: into.to_string(),
            root: target.parent.clone().unwrap_or_default(),
        });
    }
    if let Some(named) = vocabularies.organisation(spelling) {
        return Err(MergeRefused::AlreadyNamed {
            spelling: spelling.to_string(),
            key: named.key.clone(),
        });
    }
    let key = (1..)
        .map(|n| format!("{into}-spelling-{n}"))
        .find(|key| organisations.get(key).is_none())
        .unwrap_or_default();
    Ok(Term {
        key,
        en: spelling.to_string(),
        ko: spelling.to_string(),
        parent: Some(into.to_string()),
        class: Some(MERGED_SPELLING.to_string()),
        extra: BTreeMap::new(),
    })
}

/// Merges the organisation spelling `spelling` into the organisation term
/// `into`, journaled as `actor`: from then on estimates and tables count its
/// sources in `into`'s list, and imports spelling it so record `into`.
/// Returns the term journaled.
pub fn merge_spelling(
    store: &mut Database,
    actor: &str,
    spelling: &str,
    into: &str,
) -> Result<Term, MergeError> {
    let (term, _) = store.write(actor, |sink| -> Result<Term, MergeError> {
        // Decided with the batch's own vocabularies, so two admins cannot both merge one spelling.
        let term = merging_term(sink.vocabularies(), spelling, into)?;
        sink.apply(Change::AddTerm {
            vocabulary: VocabKind::Organisation,
            term: term.clone(),
        })?;
        Ok(term)
    })?;
    Ok(term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spelling_is_merged_into_an_organisation_once() {
        let mut vocabularies = Vocabularies::default();
        assert_eq!(vocabularies.organisation_list("NKDB 서울"), "NKDB 서울");
        let term = merging_term(&vocabularies, " NKDB 서울 ", "nkdb").expect("merge");
        assert_eq!(term.key, "nkdb-spelling-1");
        vocabularies
            .add(VocabKind::Organisation, term)
            .expect("added");
        assert_eq!(vocabularies.organisation_list("NKDB 서울"), "NKDB");
        assert_eq!(vocabularies.organisation_list("nkdb서울"), "NKDB");
        assert_eq!(
            merging_term(&vocabularies, "NKDB 서울", "tjwg"),
            Err(MergeRefused::AlreadyNamed {
                spelling: "NKDB 서울".into(),
                key: "nkdb".into()
            })
        );
        assert_eq!(
            merging_term(&vocabularies, "NKDB Seoul", "nkdb-spelling-1"),
            Err(MergeRefused::TargetMerged {
                into: "nkdb-spelling-1".into(),
                root: "nkdb".into()
            })
        );
        assert_eq!(
            merging_term(&vocabularies, "x", "no-such"),
            Err(MergeRefused::UnknownTarget("no-such".into()))
        );
        assert_eq!(
            merging_term(&vocabularies, "  ", "nkdb"),
            Err(MergeRefused::Empty)
        );
    }
}
