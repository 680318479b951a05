//! Linkage proposals in the database: derived data that `girok link` remakes
//! whole, kept beside the journal and never in it.
//!
//! A proposal holds no identifying value (ids, scores, the agreement level
//! of each comparison as linkage explained it), so an encrypted database
//! needs to seal nothing here: names are shown by reading the person records
//! through the read path, which opens them only unlocked and audits it. The
//! write path marks proposals decided in the transaction of the decision and
//! deletes those naming a forgotten person in the transaction of `forget`.

use girok_model::{Person, Record, RecordId};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::sql::Sql;
use crate::{SqliteStore, StoreError};

/// One linkage run: the journal size it saw, when, and what training did
/// (as the linkage wrote it, if it said; the store does not read it).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRun {
    pub journal_size: u64,
    pub time: String,
    pub training: Option<String>,
}

/// A person record in a proposal, with the ids of the sources that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedRecord {
    pub id: RecordId,
    pub sources: String,
}

/// A proposal as stored: `links` is the linkage's explanation of the pairs
/// (ids, comparisons, levels and weights), `decided` the journal entry of the
/// reviewer's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProposal {
    pub number: u64,
    pub persons: Vec<ProposedRecord>,
    pub probability: f64,
    pub links: String,
    pub decided: Option<u64>,
}

impl SqliteStore {
    /// Replaces the proposals of the previous run by `proposals` (numbered
    /// from 1 in the order given), in one transaction.
    pub fn replace_link_proposals(
        &self,
        run: &LinkRun,
        proposals: &[StoredProposal],
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(self.connection(), TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DELETE FROM link_proposal_person; DELETE FROM link_proposal; DELETE FROM link_run;",
        )?;
        tx.execute(
            "INSERT INTO link_run (id, journal_size, time, training) VALUES (1, ?1, ?2, ?3)",
            params![run.journal_size, run.time, run.training],
        )?;
        for (i, proposal) in proposals.iter().enumerate() {
            let number = i as u64 + 1;
            tx.prepare_cached(
                "INSERT INTO link_proposal (number, probability, links, decided_seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![number, proposal.probability, proposal.links, proposal.decided])?;
            for person in &proposal.persons {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO link_proposal_person (number, person, sources) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![number, person.id.as_str(), person.sources])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The latest linkage run, if any.
    pub fn link_run(&self) -> Result<Option<LinkRun>, StoreError> {
        Ok(self
            .connection()
            .query_row(
                "SELECT journal_size, time, training FROM link_run WHERE id = 1",
                [],
                |r| {
                    Ok(LinkRun {
                        journal_size: r.get(0)?,
                        time: r.get(1)?,
                        training: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The proposals no reviewer has decided, by number.
    pub fn undecided_link_proposals(&self) -> Result<Vec<StoredProposal>, StoreError> {
        let numbers: Vec<u64> = self
            .connection()
            .prepare("SELECT number FROM link_proposal WHERE decided_seq IS NULL ORDER BY number")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        numbers
            .into_iter()
            .filter_map(|n| self.link_proposal(n).transpose())
            .collect()
    }

    /// Proposal `number` of the latest run, decided or not.
    pub fn link_proposal(&self, number: u64) -> Result<Option<StoredProposal>, StoreError> {
        let conn = self.connection();
        let Some((probability, links, decided)) = conn
            .prepare_cached(
                "SELECT probability, links, decided_seq FROM link_proposal WHERE number = ?1",
            )?
            .query_row([number], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
        else {
            return Ok(None);
        };
        let persons = conn
            .prepare_cached(
                "SELECT person, sources FROM link_proposal_person WHERE number = ?1 ORDER BY person",
            )?
            .query_map([number], |r| {
                Ok(ProposedRecord {
                    id: RecordId::new(r.get::<_, String>(0)?),
                    sources: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(StoredProposal {
            number,
            persons,
            probability,
            links,
            decided,
        }))
    }

    /// The person records of a proposal, in its order (`None` for one that
    /// no longer exists), opened together as one read: unlocked, after the
    /// auditor has recorded them; locked, they stay sealed.
    pub fn link_proposal_persons(
        &self,
        proposal: &StoredProposal,
    ) -> Result<Vec<Option<Person>>, StoreError> {
        let conn = self.connection();
        let mut found = Vec::new();
        for person in &proposal.persons {
            let live = crate::apply::record_meta(conn, person.id.as_str())?
                .is_some_and(|meta| !meta.deleted);
            if live && let Some(Record::Person(record)) = crate::apply::load(conn, &person.id)? {
                found.push(record);
            }
        }
        let mut opened: std::collections::HashMap<RecordId, Person> = self
            .reveal(found.into_iter().map(Record::Person).collect())?
            .into_iter()
            .filter_map(|record| match record {
                Record::Person(person) => Some((person.id.clone(), person)),
                _ => None,
            })
            .collect();
        Ok(proposal
            .persons
            .iter()
            .map(|p| opened.remove(&p.id))
            .collect())
    }

    /// The other person records reviewers merged with `person` (directly or
    /// through others), in id order: what a decided "same person" made.
    pub fn merged_with(&self, person: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        let mut statement = self.connection().prepare_cached(
            "SELECT b FROM same_person WHERE a = ?1 UNION SELECT a FROM same_person WHERE b = ?1",
        )?;
        let mut seen = std::collections::BTreeSet::from([person.clone()]);
        let mut next = vec![person.clone()];
        while let Some(id) = next.pop() {
            for other in statement.query_map([id.as_str()], |r| r.get::<_, String>(0))? {
                let other = RecordId::new(other?);
                if seen.insert(other.clone()) {
                    next.push(other);
                }
            }
        }
        seen.remove(person);
        Ok(seen.into_iter().collect())
    }

    /// How many proposals the latest run made (decided ones included).
    pub fn link_proposal_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .connection()
            .query_row("SELECT COUNT(*) FROM link_proposal", [], |r| r.get(0))?)
    }
}

/// Marks decided, by journal entry `seq`, every undecided proposal with at
/// least two of `persons`: a reviewer's decision on its members.
pub(crate) fn mark_decided(
    sql: &dyn Sql,
    persons: &[RecordId],
    seq: u64,
) -> Result<(), StoreError> {
    let mut counted: std::collections::BTreeMap<u64, usize> = Default::default();
    for person in persons {
        for mut row in sql.rows(
            "SELECT number FROM link_proposal_person WHERE person = ?1",
            &[person.as_str().into()],
        )? {
            *counted.entry(row.count(0)?).or_default() += 1;
        }
    }
    for (number, _) in counted.into_iter().filter(|(_, n)| *n >= 2) {
        sql.execute(
            "UPDATE link_proposal SET decided_seq = ?1 WHERE number = ?2 AND decided_seq IS NULL",
            &[seq.into(), number.into()],
        )?;
    }
    Ok(())
}

/// Deletes every proposal naming `subject` (secure delete overwrites it).
pub(crate) fn purge(sql: &dyn Sql, subject: &RecordId) -> Result<(), StoreError> {
    sql.execute(
        "DELETE FROM link_proposal WHERE number IN \
         (SELECT number FROM link_proposal_person WHERE person = ?1)",
        &[subject.as_str().into()],
    )?;
    sql.execute(
        "DELETE FROM link_proposal_person WHERE number NOT IN (SELECT number FROM link_proposal)",
        &[],
    )?;
    Ok(())
}
