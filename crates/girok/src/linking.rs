//! `girok link` and `girok review`: proposals of person records that are one
//! person, and reviewers' decisions about them as journal changes.

use std::path::Path;

use anyhow::{Result, bail};
use girok_linkage::ModelOrigin;
use girok_linkage::blind::BlindPair;
use girok_linkage::proposals::{self, ProposedPerson, decode_links};
use girok_linkage::training::{Failure, Source};
use girok_model::{Change, RecordId};
use girok_service::jobs::Progress;
use girok_store::{Database, LockState, Store, StoredProposal};

/// Sealed person records (locked, or forgotten) are matched on their blind
/// name indexes; the pairs go to `DIR/blind-candidates.tsv`.
fn write_blind_pairs(sealed: usize, pairs: &[BlindPair], data: &Path, limit: usize) -> Result<()> {
    let path = data.join("blind-candidates.tsv");
    let mut text = String::from("a\tb\tshared_indexes\n");
    for pair in pairs {
        text.push_str(&format!("{}\t{}\t{}\n", pair.a, pair.b, pair.shared));
    }
    std::fs::write(&path, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "{sealed} sealed person records (the database is locked, or they were forgotten): {} pairs share a \
         blind name index, found without reading a name; saved to {}",
        pairs.len(),
        path.display()
    );
    for pair in pairs.iter().take(limit) {
        println!("  {} ~ {}  ({} shared)", pair.a, pair.b, pair.shared);
    }
    println!("Unlock the database to review them with their names.");
    Ok(())
}

/// Runs linkage over every person record and saves the proposals.
pub fn link(store: &Database, data: &Path, link_probability: f64, limit: usize) -> Result<()> {
    let linked = girok_service::linkage::link(store, link_probability, &Progress::default())?;
    if linked.sealed > 0 {
        write_blind_pairs(linked.sealed, &linked.blind_pairs, data, limit)?;
    }
    if linked.persons == 0 {
        return Ok(());
    }
    let timings: Vec<String> = linked
        .timings
        .iter()
        .map(|(stage, d)| format!("{stage} {:.2} s", d.as_secs_f64()))
        .collect();
    println!(
        "{} person records, {} candidate pairs ({} rules), {} links, {} proposals ({}); kept in the database",
        linked.persons,
        linked.candidate_pairs,
        linked.rules,
        linked.links,
        linked.proposals.len(),
        timings.join(", ")
    );
    print_training(&linked.origin);
    // The names were read (and audited) by this run's scan of the records.
    for (proposal, names) in linked.proposals.iter().take(limit) {
        print_summary(proposal, Some(names));
    }
    if linked.proposals.len() > limit {
        println!("... and {} more", linked.proposals.len() - limit);
    }
    println!(
        "Review with `girok review --show N`, then --confirm N, --reject N or --split N --keep IDS."
    );
    Ok(())
}

fn describe_failure(failure: &Failure) -> String {
    match failure {
        Failure::NotConverged { iterations } => {
            format!("not converged after {iterations} iterations")
        }
        Failure::TooFewMatches { expected } => format!("too few matches ({expected:.0} expected)"),
        Failure::ImplausibleLambda {
            lambda,
            matches_per_record,
        } => format!(
            "implausible prior {lambda:.3} ({matches_per_record:.1} other records of one person per record)"
        ),
        Failure::LevelsOutOfOrder {
            comparison,
            level,
            stronger,
        } => format!("{comparison}: '{level}' weighs more than '{stronger}'"),
    }
}

fn describe_failures(failures: &[Failure]) -> String {
    let described: Vec<String> = failures.iter().map(describe_failure).collect();
    described.join("; ")
}

/// Where the model came from and, if trained, what training did.
fn print_training(origin: &ModelOrigin) {
    let report = match origin {
        ModelOrigin::Given { reason } => {
            println!("Model: the shipped model ({reason}).");
            return;
        }
        ModelOrigin::Trained(report) => report,
    };
    println!("Model: trained on this database, towards the shipped model.");
    for session in &report.sessions {
        let starts: Vec<String> = session
            .starts
            .iter()
            .map(|s| {
                let outcome = if s.failed.is_empty() {
                    "passed".to_string()
                } else {
                    format!("refused: {}", describe_failures(&s.failed))
                };
                format!("{} {} iterations, {outcome}", s.start, s.iterations)
            })
            .collect();
        let chosen = session
            .chosen
            .map_or("none used".to_string(), |s| format!("the run {s} used"));
        println!(
            "  EM on '{}' ({} of {} pairs): {chosen}; starts: {}",
            session.rule,
            session.sampled_pairs,
            session.pairs,
            starts.join(" | ")
        );
    }
    for c in &report.comparisons {
        let source = match &c.source {
            Source::Trained => format!(
                "trained ({} of {} sessions, {} iterations{})",
                c.sessions_used,
                c.sessions,
                c.iterations,
                if c.converged { "" } else { ", not converged" }
            ),
            Source::Reference { reason } => format!("shipped model's parameters: {reason}"),
        };
        let held = if c.held_at_u.is_empty() {
            String::new()
        } else {
            format!("; m held at u for {}", c.held_at_u.join(", "))
        };
        let failed = if c.failed.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", describe_failures(&c.failed))
        };
        println!("  {:<24} {source}{held}{failed}", c.name);
    }
    let prior = &report.prior;
    let fallback = if prior.failed.is_empty() {
        String::new()
    } else {
        format!(
            "; refused ({}), each person taken as recorded about twice",
            describe_failures(&prior.failed)
        )
    };
    println!(
        "  prior: {:.4} of candidate pairs match ({:.2} other records per record, {} iterations{}){fallback}",
        prior.lambda,
        prior.matches_per_record,
        prior.iterations,
        if prior.converged {
            ""
        } else {
            ", not converged"
        }
    );
}

/// One line per proposal: number, probability and its records, with their
/// names when they were read.
fn print_summary(proposal: &StoredProposal, names: Option<&[String]>) {
    let persons: Vec<String> = proposal
        .persons
        .iter()
        .enumerate()
        .map(|(i, p)| match names.and_then(|n| n.get(i)) {
            Some(names) => format!("{names} ({})", p.id),
            None => p.id.to_string(),
        })
        .collect();
    println!(
        "#{:<4} p = {:.3}  {}",
        proposal.number,
        proposal.probability,
        persons.join("  ~  ")
    );
}

/// A proposal with its persons' records, read through the store (opened
/// only unlocked, and audited) and the weight of every comparison.
fn print_full(store: &Database, proposal: &StoredProposal) -> Result<()> {
    if store.lock_state() == LockState::Locked {
        bail!(
            "the database is encrypted and locked: proposal {} is shown with its names only once \
             unlocked (give the key file or set GIROK_PASSPHRASE)",
            proposal.number
        );
    }
    let described: Vec<(String, Option<ProposedPerson>)> = proposal
        .persons
        .iter()
        .zip(store.link_proposal_persons(proposal)?)
        .map(|(stored, record)| {
            (
                stored.id.to_string(),
                record.as_ref().and_then(proposals::describe),
            )
        })
        .collect();
    let names: Vec<String> = described
        .iter()
        .map(|(_, d)| d.as_ref().map_or("(sealed)".into(), |d| d.names.clone()))
        .collect();
    print_summary(proposal, Some(&names));
    if let Some(seq) = proposal.decided {
        println!("  Decided in journal entry {seq}.");
    }
    for ((id, shown), stored) in described.iter().zip(&proposal.persons) {
        match shown {
            Some(p) => println!(
                "  {id}: {} · sex {} · born {} · from {} · sources {}",
                p.names, p.sex, p.birth, p.origin, stored.sources
            ),
            None => println!(
                "  {id}: no longer readable (deleted or forgotten) · sources {}",
                stored.sources
            ),
        }
    }
    for link in decode_links(&proposal.links)? {
        let e = &link.explanation;
        println!(
            "  {} ~ {}: weight {:+.2} (probability {:.4}); prior {:+.2}",
            link.a, link.b, e.weight, e.probability, e.prior_weight
        );
        for part in &e.parts {
            let tf = part
                .term_frequency
                .map(|tf| format!(" (value shared by {:.2}% of records)", tf * 100.0))
                .unwrap_or_default();
            println!(
                "      {:<24} {:<34} {:+7.2}{tf}",
                part.comparison, part.level, part.weight
            );
        }
    }
    Ok(())
}

/// What a reviewer asked for.
pub enum Review {
    List,
    Show(usize),
    Confirm(usize),
    Reject(usize),
    Split(usize, Vec<String>),
    Unmerge(String),
}

/// Proposal `number` of the latest run, decided or not.
fn proposal(store: &Database, number: usize) -> Result<StoredProposal> {
    if let Some(found) = store.link_proposal(number as u64)? {
        return Ok(found);
    }
    match store.link_proposal_count()? {
        0 if store.link_run()?.is_none() => {
            bail!("no linkage proposals yet; run `girok link` first")
        }
        0 => bail!("there is no proposal {number}: the last `girok link` proposed nothing"),
        last => {
            bail!("there is no proposal {number}; the last `girok link` made proposals 1 to {last}")
        }
    }
}

/// Proposal `number`, refused if a reviewer has decided it already.
fn undecided(store: &Database, number: usize) -> Result<Vec<RecordId>> {
    let found = proposal(store, number)?;
    if let Some(seq) = found.decided {
        bail!(
            "proposal {number} was decided already (journal entry {seq}); `girok link` makes fresh ones"
        );
    }
    Ok(found.persons.into_iter().map(|p| p.id).collect())
}

pub fn review(store: &mut Database, actor: &str, action: Review, reason: &str) -> Result<()> {
    let changes: Vec<Change> = match action {
        Review::List => {
            let Some(run) = store.link_run()? else {
                bail!("no linkage proposals yet; run `girok link` first");
            };
            let head = store.head()?.0;
            if head != run.journal_size {
                println!(
                    "Note: the journal has changed since `girok link` ran (entry {} then, {head} now).",
                    run.journal_size
                );
            }
            let queue = store.undecided_link_proposals()?;
            // The queue names no one: `--show N` reads one proposal's records.
            for p in &queue {
                print_summary(p, None);
            }
            println!(
                "{} undecided proposals; `girok review --show N` shows one with its names.",
                queue.len()
            );
            return Ok(());
        }
        Review::Show(n) => return print_full(store, &proposal(store, n)?),
        Review::Confirm(n) => vec![proposals::decide(&undecided(store, n)?, true, reason)],
        Review::Reject(n) => vec![proposals::decide(&undecided(store, n)?, false, reason)],
        Review::Split(n, keep) => {
            let all = undecided(store, n)?;
            let keep: Vec<RecordId> = keep.iter().map(RecordId::new).collect();
            if let Some(stranger) = keep.iter().find(|k| !all.contains(k)) {
                bail!("{stranger} is not in proposal {n}");
            }
            let rest: Vec<RecordId> = all.into_iter().filter(|p| !keep.contains(p)).collect();
            let (Some(first), false) = (keep.first(), rest.is_empty()) else {
                bail!("--keep must name some but not all persons of proposal {n}");
            };
            let mut changes = Vec::new();
            if keep.len() > 1 {
                changes.push(Change::LinkDecision {
                    same: true,
                    persons: keep.clone(),
                    reason: reason.to_string(),
                });
            }
            changes.push(Change::LinkDecision {
                same: false,
                persons: std::iter::once(first.clone()).chain(rest).collect(),
                reason: reason.to_string(),
            });
            changes
        }
        Review::Unmerge(person) => vec![Change::Unlink {
            person: RecordId::new(&person),
            reason: reason.to_string(),
        }],
    };
    let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
    let (seq, _) = store.write(actor, |sink| {
        let mut last = 0;
        for change in changes {
            last = sink.apply(change)?;
        }
        Ok::<u64, anyhow::Error>(last)
    })?;
    for summary in summaries {
        println!("Recorded: {summary}");
    }
    println!("Journal entry {seq}. Later `girok link` runs respect this decision.");
    Ok(())
}

/// Writes every person record with the resolved person it belongs to (the
/// smallest id among records a reviewer merged), as CSV; returns the rows.
pub fn export_resolved(store: &Database, out: impl std::io::Write) -> Result<u64> {
    let resolved = store.link_decisions()?.resolved();
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["person", "resolved_person", "names"])?;
    let mut rows = 0;
    store.for_each_record(&mut |record| {
        if let girok_model::Record::Person(person) = record {
            let names: Vec<&str> = person.names.iter().map(|n| n.text.as_str()).collect();
            let id = person.id.as_str();
            let resolved_id = resolved.get(&person.id).map_or(id, RecordId::as_str);
            writer
                .write_record([id, resolved_id, &names.join(" | ")])
                .map_err(|e| girok_store::StoreError::Io {
                    context: "cannot write the export".into(),
                    source: e.into(),
                })?;
            rows += 1;
        }
        Ok(())
    })?;
    writer.flush()?;
    Ok(rows)
}
