//! Exports of every record: written by the command line to a file, or by a
//! background job for the browser and kept for [`KEPT_FOR`] until it is
//! downloaded. Internal exports hold names; in an encrypted database the
//! job seals what it keeps under a data key of its own, wrapped by the
//! database's master key, so no name is at rest in the clear. Partners'
//! and the public's exports are pseudonymised and made with the database
//! locked: they open nothing identifying. The report (tables, charts and
//! estimates as one HTML page) is made and handed out the same way.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use girok_interchange::Format;
use girok_model::{Record, RecordId, RecordKind};
use girok_store::{Database, Store, StoreError};
use girok_tabulate::Audience;
use girok_vault::Vault;
use girok_vault::stream::{SealingWriter, open_file};
use serde::{Deserialize, Serialize};

use crate::jobs::{Phase, Progress};
use crate::kept::{Found, KeptFiles, Kind};

/// How long a finished export waits to be downloaded.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// The smallest group of alike acts a partners' or public export publishes
/// unless asked otherwise.
pub const DEFAULT_MIN_CELL: u64 = 5;

/// Finished exports: in `DIR/exports`, or the shared database's "export" space.
pub(crate) static EXPORTS: Kind = Kind {
    dir: "exports",
    space: "export",
    extension: "export",
    kept_for: KEPT_FOR,
};

/// How the records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// A JSON array of records.
    Json,
    /// One JSON record per line.
    JsonLines,
    /// One row per attested act, in the import layout.
    Csv,
    /// The report: tables, charts and estimates, one HTML page.
    Report,
}

impl Layout {
    pub const ALL: [Layout; 4] = [Layout::Json, Layout::JsonLines, Layout::Csv, Layout::Report];

    pub fn key(self) -> &'static str {
        match self {
            Layout::Json => "json",
            Layout::JsonLines => "jsonl",
            Layout::Csv => "csv",
            Layout::Report => "html",
        }
    }

    pub fn parse(key: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|layout| layout.key() == key)
    }

    /// The records' format; `None` for the report, which holds no record.
    fn format(self) -> Option<Format> {
        match self {
            Layout::Json => Some(Format::Json),
            Layout::JsonLines => Some(Format::JsonLines),
            Layout::Csv => Some(Format::Csv),
            Layout::Report => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Layout::Json => "application/json",
            Layout::JsonLines => "application/jsonl",
            Layout::Csv => "text/csv; charset=utf-8",
            Layout::Report => "text/html; charset=utf-8",
        }
    }

    /// What one written unit is.
    pub fn unit(self) -> &'static str {
        match self {
            Layout::Json | Layout::JsonLines => "records",
            Layout::Csv => "rows",
            Layout::Report => "tables",
        }
    }
}

/// The audiences by the names exports go by.
pub const AUDIENCES: [Audience; 3] = [Audience::Internal, Audience::Partners, Audience::Public];

pub fn audience_of(name: &str) -> Option<Audience> {
    AUDIENCES
        .into_iter()
        .find(|audience| audience.name() == name)
}

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportParameters {
    pub layout: Layout,
    /// `internal`, `partners` or `public`.
    pub audience: String,
    /// Korean column headings (CSV).
    pub korean_headers: bool,
    /// The smallest group of alike acts published (partners and public).
    pub min_cell: u64,
}

impl ExportParameters {
    pub fn audience(&self) -> Result<Audience, ExportError> {
        audience_of(&self.audience)
            .ok_or_else(|| ExportError::NoSuchAudience(self.audience.clone()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Share(#[from] girok_share::ShareError),
    #[error(transparent)]
    Service(#[from] crate::ServiceError),
    #[error("cannot write the export: {0}")]
    Write(#[source] std::io::Error),
    #[error("there is no audience `{0}`: internal, partners or public")]
    NoSuchAudience(String),
    #[error("cannot seal the export: {0}")]
    Seal(#[from] girok_vault::VaultError),
    #[error(transparent)]
    Report(#[from] girok_report::ReportError),
}

/// What an export wrote, and what it held back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// Records, or rows of a CSV.
    pub units: u64,
    /// Acts attested by no source whose consent allows the audience.
    pub without_consent: u64,
    /// Acts whose place and date were generalised to reach the smallest group.
    pub generalised: u64,
    /// Acts withheld because even generalised they were too rare.
    pub withheld: u64,
}

/// Writes the export `parameters` ask for into `out`; `counted` is told
/// of each record read. A partners' or public export needs the store
/// locked: it must open nothing identifying.
pub fn write(
    store: &Database,
    data: &Path,
    parameters: &ExportParameters,
    out: impl Write,
    counted: &mut dyn FnMut(),
) -> Result<Written, ExportError> {
    let audience = parameters.audience()?;
    let Some(format) = parameters.layout.format() else {
        return write_report(store, audience, out);
    };
    let mut writer = girok_interchange::writer(format, out, parameters.korean_headers);
    let mut emit = |record: Record| {
        counted();
        writer.write(&record).map_err(|source| StoreError::Io {
            context: "cannot write the export".into(),
            source,
        })
    };
    let mut written = Written::default();
    if audience == Audience::Internal {
        store.for_each_record(&mut emit)?;
    } else {
        let key = zeroize::Zeroizing::new(crate::secrets::pseudonym_key(data)?);
        let held = girok_share::export(store, audience, &key, parameters.min_cell, &mut emit)?;
        written.without_consent = held.without_consent;
        written.generalised = held.generalised;
        written.withheld = held.withheld;
    }
    written.units = writer.finish().map_err(ExportError::Write)?;
    Ok(written)
}

/// Writes the report for `audience`: its standard tables, suppressed as
/// the audience's tables are, and the estimates at their defaults.
fn write_report(
    store: &Database,
    audience: Audience,
    mut out: impl Write,
) -> Result<Written, ExportError> {
    let request = girok_estimate::Request::standard(audience);
    let report = girok_report::render(store, &request, None, true)?;
    out.write_all(report.html.as_bytes())
        .and_then(|()| out.flush())
        .map_err(ExportError::Write)?;
    Ok(Written {
        units: report.tables as u64,
        ..Written::default()
    })
}

/// What an export job made, kept for its download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportResult {
    pub parameters: ExportParameters,
    /// The name the download is offered under.
    pub file_name: String,
    /// The kept file's SHA-256 (of its sealed bytes, when sealed).
    pub kept: String,
    /// Bytes kept.
    pub bytes: u64,
    pub written: Written,
    /// The data key the kept file is sealed under, wrapped by the master key (hex).
    pub sealed_key: Option<String>,
    /// Until when it is kept (UTC, RFC 3339).
    pub kept_until: String,
}

/// The subject a job's export key is wrapped for: its own, no record's.
fn key_subject(job: u64) -> RecordId {
    RecordId::new(format!("export-job-{job}"))
}

fn sealing_context(job: u64) -> Vec<u8> {
    format!("girok export of job {job}").into_bytes()
}

/// Runs export job `job`: writes the export on `store` (locked first for
/// partners and the public), sealed when it holds names of an encrypted
/// database, and keeps it. Returns its [`ExportResult`] as JSON, or why it
/// failed, written for people.
pub fn run_job(
    store: &mut Database,
    data: &Path,
    job: u64,
    parameters: &str,
    progress: &Progress,
) -> Result<String, String> {
    let parameters: ExportParameters = serde_json::from_str(parameters)
        .map_err(|e| format!("the export's parameters cannot be read: {e}"))?;
    run(store, data, job, parameters, progress).map_err(|error| error.to_string())
}

fn run(
    store: &mut Database,
    data: &Path,
    job: u64,
    parameters: ExportParameters,
    progress: &Progress,
) -> Result<String, ExportError> {
    let audience = parameters.audience()?;
    let vault = match audience {
        Audience::Internal => store.vault(),
        Audience::Partners | Audience::Public => {
            store.lock();
            None
        }
    };
    // The report counts no record one by one.
    let mut total = 0;
    if parameters.layout != Layout::Report {
        for kind in RecordKind::ALL {
            total += store.count(*kind)?;
        }
    }
    progress.enter(Phase::Writing, total);
    let kept = KeptFiles::of(data, &EXPORTS)?;
    let scratch = kept.scratch()?;
    let mut counted = || progress.advance(1);
    let (written, sealed_key) = {
        let mut file = BufWriter::new(scratch.as_file());
        match vault.as_deref() {
            Some(vault) => {
                let (key, wrapped) = vault.new_data_key(&key_subject(job))?;
                let mut sealing = SealingWriter::for_file(file, &key, &sealing_context(job))?;
                let written = write(store, data, &parameters, &mut sealing, &mut counted)?;
                finish(sealing.finish().map_err(ExportError::Write)?)?;
                (written, Some(hex::encode(wrapped)))
            }
            None => {
                let written = write(store, data, &parameters, &mut file, &mut counted)?;
                finish(file)?;
                (written, None)
            }
        }
    };
    progress.enter(Phase::Keeping, 0);
    let (sha256, bytes) = kept.keep(scratch)?;
    let now = chrono::Utc::now();
    let kept_until = now + chrono::Duration::seconds(KEPT_FOR.as_secs() as i64);
    let result = ExportResult {
        file_name: format!(
            "girok-{}-{}.{}",
            audience.name(),
            now.format("%Y%m%d-%H%M"),
            parameters.layout.key()
        ),
        parameters,
        kept: sha256,
        bytes,
        written,
        sealed_key,
        kept_until: girok_journal::format_time(kept_until),
    };
    serde_json::to_string(&result).map_err(|e| ExportError::Write(std::io::Error::other(e)))
}

/// Flushes a written export to its disk.
fn finish(file: BufWriter<&std::fs::File>) -> Result<(), ExportError> {
    let file = file
        .into_inner()
        .map_err(|e| ExportError::Write(e.into_error()))?;
    file.sync_all().map_err(ExportError::Write)
}

/// Why a kept export cannot be handed out.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the export is no longer kept: exports are kept for a day; make it again")]
    Expired,
    #[error(
        "the export holds names sealed under the database's keys: it can be downloaded once an admin has unlocked the database"
    )]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the export cannot be opened: {0}")]
    Seal(#[from] girok_vault::VaultError),
}

/// A kept export, ready to be read.
pub struct Download {
    pub(crate) _found: Found,
    pub reader: Box<dyn Read + Send>,
}

/// Opens job `job`'s kept export, through `vault` if it is sealed.
pub fn open(
    data: &Path,
    job: u64,
    result: &ExportResult,
    vault: Option<&Vault>,
) -> Result<Download, DownloadError> {
    let kept = KeptFiles::of(data, &EXPORTS)?;
    let found = kept.find(&result.kept)?.ok_or(DownloadError::Expired)?;
    let file = std::fs::File::open(found.path()).map_err(|source| StoreError::Io {
        context: "cannot open the kept export".into(),
        source,
    })?;
    let file = std::io::BufReader::new(file);
    let reader: Box<dyn Read + Send> = match &result.sealed_key {
        None => Box::new(file),
        Some(wrapped) => {
            let vault = vault.ok_or(DownloadError::Locked)?;
            let wrapped = hex::decode(wrapped)
                .map_err(|_| StoreError::Corrupt(format!("job {job}'s export key is not hex")))?;
            let key = vault.unwrap_data_key(&key_subject(job), &wrapped)?;
            Box::new(open_file(file, &key, &sealing_context(job))?)
        }
    };
    Ok(Download {
        _found: found,
        reader,
    })
}

/// Removes the exports kept longer than [`KEPT_FOR`].
pub fn sweep(data: &Path) {
    if let Ok(kept) = KeptFiles::of(data, &EXPORTS) {
        kept.sweep();
    }
}
