//! The proposals of the latest `girok link` run, as reviewers see them:
//! clusters of person records, each with the comparisons that linked it.
//! Saved as derived data (`DIR/link-proposals.json`), rebuilt by every run;
//! a reviewer's confirmation or rejection becomes a journal change.

use std::path::{Path, PathBuf};

use girok_model::{Change, RecordId};
use serde::{Deserialize, Serialize};

use crate::{Explanation, ModelOrigin};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposals {
    /// The journal size the proposals were computed at.
    pub journal_size: u64,
    pub proposals: Vec<Proposal>,
    /// Where the model came from and what training did (absent in files
    /// written before training was reported).
    #[serde(default)]
    pub training: Option<ModelOrigin>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    pub number: usize,
    pub persons: Vec<ProposedPerson>,
    /// Mean match probability over the pairs in the proposal.
    pub probability: f64,
    /// The pairs that linked the proposal, with why.
    pub links: Vec<ExplainedPair>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProposedPerson {
    pub id: String,
    pub names: String,
    pub sex: String,
    pub birth: String,
    pub origin: String,
    pub sources: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExplainedPair {
    pub a: String,
    pub b: String,
    pub explanation: Explanation,
}

#[derive(Debug, thiserror::Error)]
pub enum ProposalsError {
    #[error("no linkage proposals at {0}; run `girok link` first")]
    Missing(String),
    #[error("cannot read {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error("there is no proposal {0}: the last `girok link` proposed nothing")]
    NoneMade(usize),
    #[error("there is no proposal {number}; the last `girok link` made proposals 1 to {last}")]
    NoSuch { number: usize, last: usize },
}

/// Where a data directory keeps its proposals.
pub fn path(data: &Path) -> PathBuf {
    data.join("link-proposals.json")
}

impl Proposals {
    pub fn load(data: &Path) -> Result<Proposals, ProposalsError> {
        let path = path(data);
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ProposalsError::Missing(shown.clone()),
            _ => ProposalsError::Unreadable {
                path: shown.clone(),
                message: e.to_string(),
            },
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ProposalsError::Unreadable {
            path: shown,
            message: e.to_string(),
        })
    }

    pub fn save(&self, data: &Path) -> Result<(), ProposalsError> {
        let path = path(data);
        let unreadable = |message: String| ProposalsError::Unreadable {
            path: path.display().to_string(),
            message,
        };
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| unreadable(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| unreadable(e.to_string()))
    }

    pub fn get(&self, number: usize) -> Result<&Proposal, ProposalsError> {
        match self.proposals.iter().find(|p| p.number == number) {
            Some(found) => Ok(found),
            None if self.proposals.is_empty() => Err(ProposalsError::NoneMade(number)),
            None => Err(ProposalsError::NoSuch {
                number,
                last: self.proposals.len(),
            }),
        }
    }
}

impl Proposal {
    pub fn person_ids(&self) -> Vec<RecordId> {
        self.persons.iter().map(|p| RecordId::new(&p.id)).collect()
    }

    /// The reviewer's decision on the whole proposal, as a journal change.
    pub fn decide(&self, same: bool, reason: &str) -> Change {
        Change::LinkDecision {
            same,
            persons: self.person_ids(),
            reason: reason.to_string(),
        }
    }
}
