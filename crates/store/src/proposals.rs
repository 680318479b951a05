//! Linkage proposals in the database: derived data that `girok link` remakes
//! whole, kept beside the journal and never in it.
//!
//! A proposal holds no identifying value (ids, scores, the agreement level
//! of each comparison as linkage explained it), so an encrypted database
//! needs to seal nothing here: names are shown by reading the person records
//! through the read path, which opens them only unlocked and audits it. The
//! write path marks proposals decided in the transaction of the decision and
//! deletes those naming a forgotten person in the transaction of `forget`.

use crate::StoreError;
use crate::sql::{Sql, Value};
use crate::sql_store::{Backend, SqlStore};
use girok_model::{Person, Record, RecordId};

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

#[allow(private_bounds)]
impl<B: Backend> SqlStore<B> {
    /// Replaces the proposals of the previous run by `proposals` (numbered
    /// from 1 in the order given), in one transaction.
    pub fn replace_link_proposals(
        &self,
        run: &LinkRun,
        proposals: &[StoredProposal],
    ) -> Result<(), StoreError> {
        self.backend.write(|sql| {
            for table in ["link_proposal_person", "link_proposal", "link_run"] {
                sql.execute(&format!("DELETE FROM {table}"), &[])?;
            }
            sql.execute(
                "INSERT INTO link_run (id, journal_size, time, training) VALUES (1, ?1, ?2, ?3)",
                &[
                    run.journal_size.into(),
                    run.time.as_str().into(),
                    run.training.as_deref().into(),
                ],
            )?;
            for (i, proposal) in proposals.iter().enumerate() {
                let number = Value::from(i as u64 + 1);
                sql.execute(
                    "INSERT INTO link_proposal (number, probability, links, decided_seq) VALUES (?1, ?2, ?3, ?4)",
                    &[
                        number,
                        proposal.probability.into(),
                        proposal.links.as_str().into(),
                        proposal.decided.into(),
                    ],
                )?;
                for person in &proposal.persons {
                    sql.execute(
                        "INSERT INTO link_proposal_person (number, person, sources) VALUES (?1, ?2, ?3) \
                         ON CONFLICT DO NOTHING",
                        &[number, person.id.as_str().into(), person.sources.as_str().into()],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// The latest linkage run, if any.
    pub fn link_run(&self) -> Result<Option<LinkRun>, StoreError> {
        self.backend
            .sql()
            .row(
                "SELECT journal_size, time, training FROM link_run WHERE id = 1",
                &[],
            )?
            .map(|mut row| {
                Ok(LinkRun {
                    journal_size: row.count(0)?,
                    time: row.text(1)?,
                    training: row.opt_text(2)?,
                })
            })
            .transpose()
    }

    /// The proposals no reviewer has decided, by number.
    pub fn undecided_link_proposals(&self) -> Result<Vec<StoredProposal>, StoreError> {
        let numbers = self.backend.sql().rows(
            "SELECT number FROM link_proposal WHERE decided_seq IS NULL ORDER BY number",
            &[],
        )?;
        numbers
            .into_iter()
            .filter_map(|mut row| match row.count(0) {
                Ok(number) => self.link_proposal(number).transpose(),
                Err(e) => Some(Err(e)),
            })
            .collect()
    }

    /// Proposal `number` of the latest run, decided or not.
    pub fn link_proposal(&self, number: u64) -> Result<Option<StoredProposal>, StoreError> {
        let sql = self.backend.sql();
        let Some(mut row) = sql.row(
            "SELECT probability, links, decided_seq FROM link_proposal WHERE number = ?1",
            &[number.into()],
        )?
        else {
            return Ok(None);
        };
        let persons = sql
            .rows(
                "SELECT person, sources FROM link_proposal_person WHERE number = ?1 ORDER BY person",
                &[number.into()],
            )?
            .into_iter()
            .map(|mut person| {
                Ok(ProposedRecord {
                    id: RecordId::new(person.text(0)?),
                    sources: person.text(1)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(StoredProposal {
            number,
            persons,
            probability: row.real(0)?,
            links: row.text(1)?,
            decided: row.opt_integer(2)?.map(|seq| seq as u64),
        }))
    }

    /// The person records of a proposal, in its order (`None` for one that
    /// no longer exists), opened together as one read: unlocked, after the
    /// auditor has recorded them; locked, they stay sealed.
    pub fn link_proposal_persons(
        &self,
        proposal: &StoredProposal,
    ) -> Result<Vec<Option<Person>>, StoreError> {
        let sql = self.backend.sql();
        let mut found = Vec::new();
        for person in &proposal.persons {
            let live = crate::apply::record_meta(sql, person.id.as_str())?
                .is_some_and(|meta| !meta.deleted);
            if live && let Some(Record::Person(record)) = crate::apply::load(sql, &person.id)? {
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
        let mut seen = std::collections::BTreeSet::from([person.clone()]);
        let mut next = vec![person.clone()];
        while let Some(id) = next.pop() {
            for other in crate::apply::ids(
                self.backend.sql(),
                "SELECT b FROM same_person WHERE a = ?1 UNION SELECT a FROM same_person WHERE b = ?1",
                &[id.as_str().into()],
            )? {
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
        self.backend
            .sql()
            .number("SELECT COUNT(*) FROM link_proposal", &[])
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
