//! `girok`: the command line. Parses arguments, opens the store, and turns
//! every failure into a message for a person; all real work lives in the crates.

mod backup;
mod cli;
mod estimate;
mod integrity;
mod keys;
mod linking;
mod report;
mod tables;
mod terminal;
mod web;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use girok_interchange::{COLUMNS, ImportError};
use girok_model::{Change, ConsentScope, FuzzyDate, RecordId, RecordKind, Term, VocabKind};
use girok_store::{CheckReport, Database, Store, StoreError};
use girok_tabulate::{Dimension, Unit};
use indicatif::{ProgressBar, ProgressStyle};

use cli::{Cli, Command, CountArg, ExportFormat, KindArg, OutputFormat, ScopeArg, TermsAction};

/// How many referring records `show` lists per referring field.
const REFERRERS_SHOWN: u32 = 20;

/// The CSV layout, for `girok import --help`.
pub static CSV_HELP: LazyLock<String> = LazyLock::new(|| {
    let mut help = String::from(
        "CSV layout: one row per act as one source tells it. Headers may be English or Korean, in any order;\n\
         values may be vocabulary keys or their English, Korean or romanized labels.\n\n",
    );
    for (_, en, ko, meaning) in COLUMNS {
        help.push_str(&format!("  {en:<14} {ko:<10} {meaning}\n"));
    }
    help
});

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`girok export | head`) instead of failing on every later write.
    // SAFETY: called before any other thread exists; SIG_DFL is always a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            match hint(&error) {
                Some(hint) => eprintln!("girok: {error:#}; {hint}"),
                None => eprintln!("girok: {error:#}"),
            }
            ExitCode::from(2)
        }
    }
}

/// What to do about an error, in this command line's terms: the libraries
/// name what went wrong, and the door names the command or flag that helps.
fn hint(error: &anyhow::Error) -> Option<&'static str> {
    error.chain().find_map(|cause| {
        let store = cause.downcast_ref::<StoreError>().or_else(|| {
            match cause.downcast_ref::<girok_service::ServiceError>() {
                Some(girok_service::ServiceError::Store(store)) => Some(store),
                _ => None,
            }
        })?;
        match store {
            StoreError::Missing { .. } => Some("create one with `girok init`"),
            StoreError::Locked => Some(
                "give the passphrase in GIROK_PASSPHRASE or on the terminal, or the key file with --key-file",
            ),
            StoreError::Corrupt(_) => Some("run `girok check` for a full report"),
            StoreError::Invalid(invalid) if invalid.field == "consent" => {
                Some("widen it with `girok set-consent SOURCE SCOPE --widen --reason TEXT`")
            }
            _ => None,
        }
    })
}

fn database(data: &Path) -> PathBuf {
    girok_service::database(data)
}

fn actor(cli_actor: &Option<String>) -> String {
    cli_actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "girok-cli".to_string())
}

/// Who reads, and why: the audit log records both with every read of
/// decrypted identifying data.
struct Reader<'a> {
    data: &'a Path,
    key_file: Option<&'a Path>,
    actor: &'a str,
    command: &'a str,
    purpose: &'a str,
}

/// The subcommand's name as typed ("show", "export-evidence"), without its arguments.
fn command_name(command: &Command) -> String {
    let debug = format!("{command:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or_default();
    let mut kebab = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            kebab.push('-');
        }
        kebab.extend(c.to_lowercase());
    }
    kebab
}

/// Opens the database, unlocking it if it is encrypted and a secret is at hand.
/// Opens the database unlocked when a secret is at hand; every read of
/// identifying data is recorded in the audit log, under the actor, the
/// command (not its arguments: those may identify someone, and the log is
/// kept in the clear) and the stated purpose, before the data is opened.
fn open(reader: &Reader) -> Result<Database> {
    let mut store = open_locked(reader.data)?;
    keys::unlock(&mut store, reader.key_file)?;
    audit_reads(&store, reader)?;
    Ok(store)
}

fn audit_reads(store: &Database, reader: &Reader) -> Result<()> {
    let trail = std::sync::Arc::new(girok_service::audit_trail(reader.data)?);
    store.set_auditor(Some(std::sync::Arc::new(girok_store::ReadAudit::new(
        trail,
        reader.actor,
        reader.command,
        reader.purpose,
    ))));
    Ok(())
}

/// Opens the database without asking for a secret: for commands that read
/// nothing identifying (checks, proofs, checkpoints).
fn open_locked(data: &Path) -> Result<Database> {
    Ok(girok_service::open(data)?)
}

fn bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    let template = format!(
        "{{spinner}} {{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})"
    );
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn run(cli: Cli) -> Result<ExitCode> {
    let actor = actor(&cli.actor);
    let key_file = cli.key_file.clone();
    let key_file = key_file.as_deref();
    let data = cli.data.clone();
    let purpose = cli.purpose.clone();
    let command = command_name(&cli.command);
    let reader = Reader {
        data: &data,
        key_file,
        actor: &actor,
        command: &command,
        purpose: &purpose,
    };
    match cli.command {
        Command::Init {
            encrypt,
            key_store,
            postgres,
        } => {
            girok_service::refuse_if_in_use(&cli.data)?;
            let path = database(&cli.data);
            let place = if let (Some(url), true) = (&postgres.url, encrypt) {
                let key_store = key_store.unwrap_or_else(|| cli.data.join("keys.sqlite"));
                let secret = keys::new_secret(key_file, keys::PASSPHRASE_VARIABLE)?;
                girok_service::create_postgres_encrypted(
                    &cli.data,
                    url,
                    &key_store,
                    &secret,
                    girok_store::KdfParams::default(),
                )?;
                format!(
                    "in PostgreSQL, its data keys apart in the key store {} (every server that \
                     reads or writes names must name it in its data directory's {})",
                    key_store.display(),
                    girok_service::KEY_STORE_FILE
                )
            } else if let Some(url) = &postgres.url {
                girok_service::create_postgres(&cli.data, url)?;
                "in PostgreSQL (the connection is kept in --data, readable by you only)".to_string()
            } else if encrypt {
                keys::create_encrypted(&path, key_file)?;
                format!("at {}", path.display())
            } else {
                Database::create(&path)?;
                format!("at {}", path.display())
            };
            let key = girok_service::create_key(&cli.data)?;
            println!(
                "Created an empty{} Girok database {place}",
                if encrypt { " encrypted" } else { "" },
            );
            println!("Checkpoint verifier key (give it to partners who keep checkpoints): {key}");
        }
        Command::Grant { role } => {
            girok_service::grant_to(&cli.data, &role)?;
            println!(
                "{role} may now run Girok servers on this database: it appends to the journal and \
                 the audit log and cannot change them; connect the servers as {role}"
            );
        }
        Command::Demo {
            dir,
            addr,
            no_serve,
        } => {
            let verified = demo(&dir, &actor)?;
            if no_serve || verified != ExitCode::SUCCESS {
                return Ok(verified);
            }
            web::demo_users(&dir)?;
            web::serve(&dir, None, addr, girok_server::Settings::default())?;
        }
        Command::Serve {
            addr,
            trusted_proxies,
            max_upload_mib,
        } => web::serve(
            &cli.data,
            key_file,
            addr,
            girok_server::Settings {
                trusted_proxies,
                upload_limit: max_upload_mib.saturating_mul(1024 * 1024),
            },
        )?,
        Command::Unlock => keys::report_unlock(&mut open_locked(&cli.data)?, key_file)?,
        Command::Rekey { new_key_file } => {
            keys::rekey(&mut open(&reader)?, new_key_file.as_deref())?
        }
        Command::Audit {
            last,
            sign,
            against,
        } => {
            if sign {
                print!("{}", integrity::sign_audit_head(&cli.data)?);
            } else if !keys::print_audit(&cli.data, last, against.as_deref())? {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Backup { out } => backup::backup(&cli.data, &out, key_file)?,
        Command::Restore { file, postgres } => {
            if !backup::restore(&file, &cli.data, key_file, postgres.url.as_deref())? {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Forget { id, reason } => {
            let mut store = open(&reader)?;
            keys::forget(&mut store, &actor, &id, &reason)?;
            announce_checkpoint(&store)?;
        }
        Command::User { action } => web::user(&cli.data, action)?,
        Command::Import { files } => {
            let mut store = open(&reader)?;
            import(&mut store, &actor, &files)?;
            announce_checkpoint(&store)?;
        }
        Command::Export {
            format,
            out,
            korean_headers,
            audience,
            min_cell,
        } => {
            use girok_service::exports::{ExportParameters, Layout};
            let audience = girok_tabulate::Audience::from(audience);
            let layout = match format {
                ExportFormat::Json => Layout::Json,
                ExportFormat::Jsonl => Layout::JsonLines,
                ExportFormat::Csv => Layout::Csv,
                ExportFormat::ResolvedPersons => {
                    if audience != girok_tabulate::Audience::Internal {
                        bail!(
                            "resolved persons are an internal export; use --format json, jsonl or csv"
                        );
                    }
                    let store = open(&reader)?;
                    return write_output(out.as_deref(), "persons", |sink| {
                        linking::export_resolved(&store, sink)
                    })
                    .map(|()| ExitCode::SUCCESS);
                }
            };
            let parameters = ExportParameters {
                layout,
                audience: audience.name().to_string(),
                korean_headers,
                min_cell,
            };
            // Nothing identifying leaves for partners or the public, so the database stays locked.
            let store = if audience == girok_tabulate::Audience::Internal {
                open(&reader)?
            } else {
                open_locked(&cli.data)?
            };
            write_output(out.as_deref(), layout.unit(), |sink| {
                let written = girok_service::exports::write(
                    &store,
                    &cli.data,
                    &parameters,
                    sink,
                    &mut || {},
                )?;
                if audience != girok_tabulate::Audience::Internal {
                    eprintln!(
                        "For {}: {} acts had no source whose consent allows it; {} rare acts generalised \
                         (no place, the decade), {} withheld (fewer than {min_cell} alike).",
                        audience.name(),
                        written.without_consent,
                        written.generalised,
                        written.withheld
                    );
                }
                Ok(written.units)
            })?;
        }
        Command::List {
            kind,
            limit,
            offset,
        } => {
            let store = open(&reader)?;
            let kind = record_kind(kind);
            let total = store.count(kind)?;
            let page = store.list(kind, offset, limit)?;
            for stored in &page {
                println!(
                    "{:<28} r{:<3} {}",
                    stored.record.id(),
                    stored.meta.revision,
                    terminal::line(&stored.record.label())
                );
            }
            println!(
                "({} of {total} {kind} records, from {})",
                page.len(),
                offset + 1
            );
        }
        Command::Show { id } => {
            let store = open(&reader)?;
            let Some(stored) = store.get(&RecordId::new(&id))? else {
                bail!("no record with id {id}; `girok list` shows what exists");
            };
            let meta = &stored.meta;
            println!(
                "{} {} (revision {})",
                meta.kind,
                stored.record.id(),
                meta.revision
            );
            println!(
                "created by {} at journal entry {}",
                terminal::line(&meta.created_by),
                meta.created_seq
            );
            println!(
                "last changed by {} at journal entry {}",
                terminal::line(&meta.updated_by),
                meta.updated_seq
            );
            println!(
                "{}",
                terminal::block(&serde_json::to_string_pretty(&stored.record)?)
            );
            let referrers = store.referrers(stored.record.id(), REFERRERS_SHOWN)?;
            if !referrers.is_empty() {
                println!("referred to by (at most {REFERRERS_SHOWN} per field):");
                for referrer in referrers {
                    println!("  {referrer}");
                }
            }
        }
        Command::History { id } => {
            let store = open(&reader)?;
            let rows = store.history(&RecordId::new(&id))?;
            if rows.is_empty() {
                bail!("the journal has no entry about {id}");
            }
            for row in rows {
                let entry = &row.entry;
                println!(
                    "#{} {} {} {}",
                    entry.seq,
                    entry.time,
                    terminal::line(&entry.actor),
                    terminal::line(&entry.change.summary())
                );
                println!("    leaf hash {}", hex_prefix(&row.hash));
            }
        }
        Command::Stats {
            by,
            conditions,
            count,
            audience,
            min_cell,
            age_bands,
            with_proposals,
            format,
        } => {
            let store = open(&reader)?;
            tables::stats(
                &store,
                &girok_report::tables::Request {
                    by: &by,
                    conditions: &conditions,
                    unit: match count {
                        CountArg::Victims => Unit::Victims,
                        CountArg::Acts => Unit::Acts,
                        CountArg::Cases => Unit::Cases,
                    },
                    audience: audience.into(),
                    min_cell,
                    age_bands: &age_bands,
                    with_proposals,
                },
                format,
            )?;
        }
        Command::Estimate {
            model,
            table,
            format,
        } => {
            let request = estimate::request(model, girok_tabulate::Audience::Internal);
            let estimates = match table {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    girok_estimate::from_table(&text, &request)
                        .with_context(|| format!("in {}", path.display()))?
                }
                None => girok_estimate::compute(&open(&reader)?, &request)?,
            };
            match format {
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&estimate::to_json(&estimates))?
                ),
                _ => estimate::print_text(&estimates),
            }
            if let Some(error) = estimates
                .strata
                .iter()
                .all(|s| s.table.is_err())
                .then(|| estimates.strata.iter().find_map(|s| s.table.as_ref().err()))
                .flatten()
            {
                bail!("no estimate could be made: {error}");
            }
        }
        Command::Report {
            out,
            model,
            audience,
            min_cell,
            no_estimate,
        } => {
            let store = open(&reader)?;
            report::write(
                &store,
                &out,
                &estimate::request(model, audience.into()),
                min_cell,
                !no_estimate,
            )?;
        }
        Command::Check => {
            let store = open_locked(&cli.data)?;
            if let Some(standing) = girok_service::replica_standing(&store, &cli.data)? {
                println!("{}", terminal::replica(&standing));
            }
            let report = check(&store)?;
            return Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Attach {
            source,
            file,
            captured_at,
            collector,
            media_type,
            sensitive,
            id,
        } => {
            let captured = match &captured_at {
                Some(text) => FuzzyDate::parse(text).context("--captured-at")?,
                None => FuzzyDate::UNKNOWN,
            };
            let intake = girok_service::evidence::Intake {
                source: RecordId::new(source),
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                captured,
                collector,
                media_type,
                sensitive,
                id: id.map(RecordId::new),
            };
            let mut store = open(&reader)?;
            let (id, sha256) =
                girok_service::evidence::attach(&mut store, &cli.data, &actor, &file, intake)?;
            println!(
                "Stored {} as evidence {id}, SHA-256 {sha256}",
                file.display()
            );
            announce_checkpoint(&store)?;
        }
        Command::Custody { sha256 } => integrity::print_custody(&open_locked(&cli.data)?, &sha256)?,
        Command::ExportEvidence {
            sha256,
            out,
            recipient,
            note,
        } => {
            let mut store = open(&reader)?;
            let size = girok_service::evidence::export(
                &mut store, &cli.data, &actor, &sha256, &out, recipient, note,
            )?;
            println!(
                "Exported {size} bytes to {}; the export is in the chain of custody",
                out.display()
            );
            announce_checkpoint(&store)?;
        }
        Command::Key => println!("{}", integrity::verifier(&cli.data)?),
        Command::Checkpoint => {
            let mut store = open_locked(&cli.data)?;
            print!("{}", integrity::checkpoint(&mut store, &cli.data)?.1);
        }
        Command::Prove {
            record,
            out,
            with_files_for,
        } => {
            // Copying sealed files into the bundle opens them: an audited, unlocked read.
            let mut store = match with_files_for {
                Some(_) => open(&reader)?,
                None => open_locked(&cli.data)?,
            };
            let summary =
                integrity::prove(&mut store, &cli.data, &actor, &record, &out, with_files_for)?;
            println!(
                "Wrote the proof bundle of {record} to {}: {} journal entries proven in the signed tree of {} entries, {} evidence files",
                out.display(),
                summary.entries,
                summary.tree_size,
                summary.files
            );
        }
        Command::VerifyBundle { dir, key } => {
            let clean = integrity::verify_bundle(&dir, &key)?;
            return Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Verify { against, key } => {
            let mut store = open_locked(&cli.data)?;
            keys::unlock_if_given(&mut store, key_file)?;
            audit_reads(&store, &reader)?;
            let clean = integrity::verify(&store, &cli.data, against.as_deref(), key.as_deref())?;
            return Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Command::Tree { entry } => {
            let store = open_locked(&cli.data)?;
            let (size, root) = store.tree_head()?;
            println!("tree size {size}\nroot {}", hex_prefix(&root));
            if let Some(seq) = entry {
                let started = Instant::now();
                let proof = store.inclusion_proof(seq, size)?;
                let elapsed = started.elapsed();
                println!(
                    "inclusion proof of entry {seq} ({} hashes, {:.3} ms):",
                    proof.len(),
                    elapsed.as_secs_f64() * 1e3
                );
                for hash in proof {
                    println!("  {}", hex_prefix(&hash));
                }
            }
        }
        Command::Synth {
            testimonies,
            seed,
            out,
            truth,
        } => synth(testimonies, seed, &out, truth)?,
        Command::SetConsent {
            source,
            scope,
            widen,
            reason,
        } => {
            let mut store = open(&reader)?;
            let scope = match scope {
                ScopeArg::Internal => ConsentScope::Internal,
                ScopeArg::Partners => ConsentScope::Partners,
                ScopeArg::PublicAnonymised => ConsentScope::PublicAnonymised,
                ScopeArg::Public => ConsentScope::Public,
            };
            let change = Change::SetConsent {
                source: RecordId::new(&source),
                scope,
                widen,
                reason,
            };
            let (seq, _) = store.write(&actor, |sink| sink.apply(change))?;
            println!("Consent of {source} is now {scope} (journal entry {seq})");
            announce_checkpoint(&store)?;
        }
        Command::Terms { vocabulary, action } => terms(&cli.data, &actor, vocabulary, action)?,
        Command::Link {
            link_probability,
            limit,
        } => linking::link(&open(&reader)?, &cli.data, link_probability, limit)?,
        Command::Review {
            show,
            confirm,
            reject,
            split,
            keep,
            unmerge,
            reason,
        } => {
            let action = match (show, confirm, reject, split, unmerge) {
                (Some(n), ..) => linking::Review::Show(n),
                (_, Some(n), ..) => linking::Review::Confirm(n),
                (_, _, Some(n), ..) => linking::Review::Reject(n),
                (_, _, _, Some(n), _) => linking::Review::Split(n, keep),
                (_, _, _, _, Some(person)) => linking::Review::Unmerge(person),
                _ => linking::Review::List,
            };
            let mut store = open(&reader)?;
            let writes = !matches!(action, linking::Review::List | linking::Review::Show(_));
            linking::review(&mut store, &actor, action, &reason)?;
            if writes {
                announce_checkpoint(&store)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every batch of changes ends with a signed checkpoint of the tree.
fn announce_checkpoint(store: &Database) -> Result<()> {
    if let Some((size, _)) = store.latest_checkpoint()? {
        println!("Signed checkpoint of the journal at size {size} (girok checkpoint prints it)");
    }
    Ok(())
}

fn hex_prefix(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn record_kind(kind: KindArg) -> RecordKind {
    match kind {
        KindArg::Sources => RecordKind::Source,
        KindArg::Persons => RecordKind::Person,
        KindArg::Events => RecordKind::Event,
        KindArg::Acts => RecordKind::Act,
        KindArg::Involvements => RecordKind::Involvement,
        KindArg::Information => RecordKind::Information,
        KindArg::Relations => RecordKind::Relation,
        KindArg::Evidence => RecordKind::Evidence,
    }
}

fn import(store: &mut Database, actor: &str, files: &[PathBuf]) -> Result<()> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = bar(total, "bytes");
    let started = Instant::now();
    let work = |sink: &mut dyn girok_store::ChangeSink| {
        let mut summaries = Vec::new();
        for file in files {
            summaries.push(girok_interchange::import(file, sink, &mut |bytes| {
                bar.inc(bytes)
            })?);
        }
        Ok::<_, ImportError>(summaries)
    };
    let result = girok_store::write_with(store, actor, girok_interchange::batch_size(total), work);
    bar.finish_and_clear();
    let (summaries, committed) = result?;
    let records: u64 = summaries.iter().map(|s| s.records).sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "Imported {records} records from {} file(s) in {seconds:.1} s ({:.0} records/s); journal entries {}..{}",
        files.len(),
        records as f64 / seconds.max(1e-9),
        committed.first.unwrap_or(0),
        committed.last.unwrap_or(0)
    );
    Ok(())
}

/// Runs `write` on the file `out` (standard output when absent) and, for a
/// file, says how many `unit`s it wrote.
fn write_output(
    out: Option<&Path>,
    unit: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<u64>,
) -> Result<()> {
    match out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut sink = BufWriter::new(file);
            let written = write(&mut sink)?;
            sink.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Wrote {written} {unit} to {}", path.display());
        }
        None => {
            write(&mut std::io::stdout().lock())?;
        }
    }
    Ok(())
}

pub(crate) fn check(store: &Database) -> Result<CheckReport> {
    let (entries, _) = store.head()?;
    let bar = bar(entries, "entries");
    let started = Instant::now();
    let report = store.check(&mut |done, _| bar.set_position(done))?;
    bar.finish_and_clear();
    println!(
        "Checked {} journal entries in {:.1} s (replay {:.1} s, comparison {:.1} s); head {}",
        report.entries,
        started.elapsed().as_secs_f64(),
        report.replay_seconds,
        report.compare_seconds,
        hex_prefix(&report.head)
    );
    for chain_break in &report.chain_breaks {
        println!("CHAIN BROKEN: {chain_break}");
    }
    for (seq, reason) in &report.refused {
        println!("REPLAY REFUSED entry {seq}: {reason}");
    }
    for difference in &report.differences {
        println!("STATE DIFFERS: {difference}");
    }
    if report.is_clean() {
        println!(
            "OK: the hash chain is intact and replaying the journal gives exactly the stored state."
        );
    } else {
        println!(
            "FAILED: {} chain breaks, {} refused entries, {} state differences.",
            report.chain_breaks.len(),
            report.refused.len(),
            report.differences.len()
        );
    }
    Ok(report)
}

fn synth(testimonies: u64, seed: u64, out: &Path, truth: Option<PathBuf>) -> Result<()> {
    let truth = truth.unwrap_or_else(|| out.with_extension("truth.tsv"));
    let create = |path: &Path| -> Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ))
    };
    let (mut records, mut truth_out) = (create(out)?, create(&truth)?);
    let bar = bar(testimonies, "testimonies");
    let summary = girok_synth::generate(
        girok_synth::Config { testimonies, seed },
        &mut records,
        &mut truth_out,
        &mut |done| {
            if done.is_multiple_of(1000) {
                bar.set_position(done)
            }
        },
    )?;
    bar.finish_and_clear();
    records.flush()?;
    truth_out.flush()?;
    println!(
        "Wrote {} records ({} sources, {} person records of {} people, {} acts) to {}; ground truth in {}",
        summary.records,
        summary.sources,
        summary.persons,
        summary.entities,
        summary.acts,
        out.display(),
        truth.display()
    );
    Ok(())
}

fn terms(
    data: &Path,
    actor: &str,
    vocabulary: Option<String>,
    action: Option<TermsAction>,
) -> Result<()> {
    let kind_of = |name: &str| {
        VocabKind::from_name(name).with_context(|| {
            let names: Vec<&str> = VocabKind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "no vocabulary '{name}'; the vocabularies are {}",
                names.join(", ")
            )
        })
    };
    if let Some(TermsAction::Add {
        vocabulary,
        key,
        en,
        ko,
        parent,
        class,
    }) = action
    {
        let mut store = open_locked(data)?;
        let term = Term {
            key: key.clone(),
            en,
            ko,
            parent,
            class,
            extra: Default::default(),
        };
        let change = Change::AddTerm {
            vocabulary: kind_of(&vocabulary)?,
            term,
        };
        let (seq, _) = store.write(actor, |sink| sink.apply(change))?;
        println!("Added {key} to {vocabulary} (journal entry {seq})");
        announce_checkpoint(&store)?;
        return Ok(());
    }
    if let Some(TermsAction::MergeOrganisation { spelling, into }) = action {
        let mut store = open_locked(data)?;
        let term =
            girok_service::organisations::merge_spelling(&mut store, actor, &spelling, &into)?;
        println!(
            "Merged '{}' into {into}: its sources now count in {into}'s list (term {})",
            term.en, term.key
        );
        announce_checkpoint(&store)?;
        return Ok(());
    }
    // Listing needs no database: the shipped vocabularies, plus added terms if one is there.
    let store = girok_service::open_database(data).ok();
    let defaults = girok_model::Vocabularies::default();
    let vocabularies = store
        .as_ref()
        .map(|s| s.vocabularies())
        .unwrap_or(&defaults);
    let kinds = match vocabulary {
        Some(name) => vec![kind_of(&name)?],
        None => VocabKind::ALL.to_vec(),
    };
    for kind in kinds {
        let set = vocabularies.get(kind);
        println!(
            "{kind} (version {}, {} terms)",
            set.version,
            set.terms().len()
        );
        for term in set.terms() {
            let parent = term
                .parent
                .as_deref()
                .map(|p| format!("  in {p}"))
                .unwrap_or_default();
            println!("  {:<28} {} / {}{parent}", term.key, term.en, term.ko);
        }
    }
    Ok(())
}

fn demo(dir: &Path, actor: &str) -> Result<ExitCode> {
    let path = database(dir);
    let store = if path.exists() {
        println!("Using the existing demo database at {}", path.display());
        girok_service::open(dir)?
    } else {
        let mut store = Database::create(&path)?;
        girok_service::create_key(dir)?;
        girok_service::attach_signer(&mut store, dir);
        let file = dir.join("demo-un-2025.json");
        std::fs::write(&file, girok_synth::DEMO_JSON)
            .with_context(|| format!("cannot write {}", file.display()))?;
        import(&mut store, actor, &[file])?;
        announce_checkpoint(&store)?;
        store
    };
    println!();
    tables::stats(
        &store,
        &girok_report::tables::Request {
            by: &[Dimension::ActType],
            conditions: &[],
            unit: Unit::Victims,
            audience: girok_tabulate::Audience::Internal,
            min_cell: None,
            age_bands: &girok_tabulate::AgeBands::default(),
            with_proposals: false,
        },
        OutputFormat::Table,
    )?;
    println!(
        "The same witness under three spellings, one record per source (linkage will join them):"
    );
    for id in ["p-un-kim", "p-media-kim", "p-ko-kim"] {
        if let Some(stored) = store.get(&RecordId::new(id))? {
            println!("  {id:<12} {}", stored.record.label());
        }
    }
    println!();
    let clean = integrity::verify(&store, dir, None, None)?;
    println!();
    println!("Explore it with, for example:");
    println!("  girok --data {} list persons", dir.display());
    println!("  girok --data {} history a-un-kim-torture", dir.display());
    println!("  girok --data {} key", dir.display());
    println!(
        "  girok --data {} export --format csv --korean-headers",
        dir.display()
    );
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
