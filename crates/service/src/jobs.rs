//! Background jobs: long work (linkage, exports, backups) that runs on a thread of a server,
//! never inside a request, with its progress and outcome in a table every
//! server process sharing the database reads (`DIR/jobs.sqlite` embedded,
//! the shared PostgreSQL database for a team).
//!
//! A running job holds a lease that its process renews while it lives; a
//! job whose lease lapsed (its process was killed or restarted) is shown as
//! interrupted, by every process, and may be run again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use girok_store::sql::Sql;
use girok_store::{Place, Schema, Sidecar, StoreError, run_script};

use crate::ServiceError;

static SCHEMA: Schema = Schema {
    name: "jobs",
    steps: &[|sql| run_script(sql, TABLE)],
    postgres: TABLE,
    postgres_version: 1,
    append_only: &[],
    mutable: &["job"],
};

/// One row per job; `lease_until` is in milliseconds since the epoch.
const TABLE: &str = "CREATE TABLE job (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    parameters  TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    state       TEXT NOT NULL,
    phase       TEXT NOT NULL,
    done        INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    queued_at   TEXT NOT NULL,
    started_at  TEXT,
    ended_at    TEXT,
    lease_until INTEGER NOT NULL,
    runner      TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    again_of    INTEGER
)";

/// How long a lease lasts unless renewed: a job of a killed process shows
/// as interrupted at most this long after it died.
pub const LEASE: Duration = Duration::from_secs(30);
/// How often a running job renews its lease and writes its progress.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Linkage of person records into proposals for reviewers.
    Linkage,
    /// An export of every record, kept for its download.
    Export,
    /// A backup of the whole data directory, kept for its download.
    Backup,
}

impl JobKind {
    pub fn key(self) -> &'static str {
        match self {
            JobKind::Linkage => "linkage",
            JobKind::Export => "export",
            JobKind::Backup => "backup",
        }
    }

    fn of(key: &str) -> Result<JobKind, StoreError> {
        match key {
            "linkage" => Ok(JobKind::Linkage),
            "export" => Ok(JobKind::Export),
            "backup" => Ok(JobKind::Backup),
            other => Err(StoreError::Corrupt(format!(
                "a job of an unknown kind `{other}`"
            ))),
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    /// Its process stopped before it ended (killed, restarted): its lease lapsed.
    Interrupted,
}

impl JobState {
    pub fn key(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
        }
    }

    fn of(key: &str) -> Result<JobState, StoreError> {
        Ok(match key {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "interrupted" => JobState::Interrupted,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "a job in an unknown state `{other}`"
                )));
            }
        })
    }

    /// Whether the job has not ended.
    pub fn is_live(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// The phases a job goes through, in order within its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Waiting,
    ReadingRecords,
    Blocking,
    Training,
    ComparingPairs,
    Clustering,
    StoringProposals,
    /// An export writes its records.
    Writing,
    /// An export or a backup keeps what it wrote for its download.
    Keeping,
    /// A backup copies the databases into consistent snapshots.
    Copying,
    /// A backup seals the snapshots and files into one archive.
    Sealing,
}

impl Phase {
    pub const ALL: [Phase; 11] = [
        Phase::Waiting,
        Phase::ReadingRecords,
        Phase::Blocking,
        Phase::Training,
        Phase::ComparingPairs,
        Phase::Clustering,
        Phase::StoringProposals,
        Phase::Writing,
        Phase::Keeping,
        Phase::Copying,
        Phase::Sealing,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::ReadingRecords => "reading-records",
            Phase::Blocking => "blocking",
            Phase::Training => "training",
            Phase::ComparingPairs => "comparing-pairs",
            Phase::Clustering => "clustering",
            Phase::StoringProposals => "storing-proposals",
            Phase::Writing => "writing",
            Phase::Keeping => "keeping",
            Phase::Copying => "copying",
            Phase::Sealing => "sealing",
        }
    }

    fn of(key: &str) -> Result<Phase, StoreError> {
        Phase::ALL
            .into_iter()
            .find(|phase| phase.key() == key)
            .ok_or_else(|| StoreError::Corrupt(format!("a job in an unknown phase `{key}`")))
    }
}

/// A job as every server process reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    /// The job's parameters as its kind encodes them (JSON).
    pub parameters: String,
    pub started_by: String,
    pub state: JobState,
    pub phase: Phase,
    pub done: u64,
    /// Units of work of the phase; 0 when they are not counted.
    pub total: u64,
    /// UTC times, RFC 3339.
    pub queued_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// What the job found (JSON, its kind's), once done.
    pub result: Option<String>,
    /// Why it failed, written for people.
    pub error: Option<String>,
    /// The job this one runs again.
    pub again_of: Option<u64>,
}

/// A job could not be started.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("a {} job is running already (job {running}): one at a time per database", .kind.key())]
    Busy { kind: JobKind, running: u64 },
    #[error("there is no job {0}")]
    NoSuchJob(u64),
    #[error("job {id} is {}: only an interrupted or failed job is run again", .state.key())]
    NotEnded { id: u64, state: JobState },
    #[error("job {0} is a backup: its passphrase was never kept, so start a new backup instead")]
    NeedsSecret(u64),
}

/// The jobs of an installation.
pub struct Jobs {
    sidecar: Sidecar,
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn now_text() -> String {
    girok_journal::format_time(chrono::Utc::now())
}

fn lease_from_now() -> i64 {
    now_millis() + LEASE.as_millis() as i64
}

const COLUMNS: &str = "id, kind, parameters, started_by, state, phase, done, total, queued_at, \
                       started_at, ended_at, result, error, again_of, lease_until";

fn job_of(mut row: girok_store::sql::Row, now: i64) -> Result<Job, StoreError> {
    let mut job = Job {
        id: row.count(0)?,
        kind: JobKind::of(&row.text(1)?)?,
        parameters: row.text(2)?,
        started_by: row.text(3)?,
        state: JobState::of(&row.text(4)?)?,
        phase: Phase::of(&row.text(5)?)?,
        done: row.count(6)?,
        total: row.count(7)?,
        queued_at: row.text(8)?,
        started_at: row.opt_text(9)?,
        ended_at: row.opt_text(10)?,
        result: row.opt_text(11)?,
        error: row.opt_text(12)?,
        again_of: row.opt_integer(13)?.map(|id| id as u64),
    };
    // A lease that lapsed is a process that is gone.
    if job.state.is_live() && row.integer(14)? < now {
        job.state = JobState::Interrupted;
    }
    Ok(job)
}

impl Jobs {
    pub fn open(place: &Place) -> Result<Jobs, StoreError> {
        Ok(Jobs {
            sidecar: Sidecar::open(place, &SCHEMA)?,
        })
    }

    /// Lets a PostgreSQL role run jobs as a server does.
    pub fn grant_to(&self, role: &str) -> Result<(), StoreError> {
        self.sidecar.grant_to(role)
    }

    /// Whether the jobs are in the shared PostgreSQL database.
    pub fn is_shared(&self) -> bool {
        self.sidecar.is_shared()
    }

    /// Queues a job of `kind`, held by `runner` (a token of the process that
    /// will run it), unless one of its kind is live: one at a time per
    /// database, whichever server started it.
    pub fn start(
        &self,
        kind: JobKind,
        parameters: &str,
        by: &str,
        runner: &str,
        again_of: Option<u64>,
    ) -> Result<Result<u64, Refused>, StoreError> {
        self.sidecar.write(|sql: &dyn Sql| {
            let now = now_millis();
            sql.execute(
                "UPDATE job SET state = 'interrupted', ended_at = ?1 \
                 WHERE state IN ('queued', 'running') AND lease_until < ?2",
                &[now_text().as_str().into(), now.into()],
            )?;
            if let Some(mut row) = sql.row(
                "SELECT id FROM job WHERE kind = ?1 AND state IN ('queued', 'running') \
                 ORDER BY id LIMIT 1",
                &[kind.key().into()],
            )? {
                return Ok(Err(Refused::Busy {
                    kind,
                    running: row.count(0)?,
                }));
            }
            let id = sql.number("SELECT COALESCE(MAX(id), 0) + 1 FROM job", &[])?;
            sql.execute(
                "INSERT INTO job (id, kind, parameters, started_by, state, phase, done, total, \
                 queued_at, lease_until, runner, again_of) \
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, 0, 0, ?6, ?7, ?8, ?9)",
                &[
                    id.into(),
                    kind.key().into(),
                    parameters.into(),
                    by.into(),
                    Phase::Waiting.key().into(),
                    now_text().as_str().into(),
                    lease_from_now().into(),
                    runner.into(),
                    again_of.into(),
                ],
            )?;
            Ok(Ok(id))
        })
    }

    /// Job `id`, as it stands now.
    pub fn get(&self, id: u64) -> Result<Option<Job>, StoreError> {
        let now = now_millis();
        self.sidecar
            .sql()
            .row(
                &format!("SELECT {COLUMNS} FROM job WHERE id = ?1"),
                &[id.into()],
            )?
            .map(|row| job_of(row, now))
            .transpose()
    }

    /// The latest `limit` jobs, newest first.
    pub fn recent(&self, limit: u64) -> Result<Vec<Job>, StoreError> {
        let now = now_millis();
        self.sidecar
            .sql()
            .rows(
                &format!("SELECT {COLUMNS} FROM job ORDER BY id DESC LIMIT ?1"),
                &[limit.into()],
            )?
            .into_iter()
            .map(|row| job_of(row, now))
            .collect()
    }

    /// The latest `limit` jobs of `kind` that `by` started, newest first.
    pub fn recent_of(&self, kind: JobKind, by: &str, limit: u64) -> Result<Vec<Job>, StoreError> {
        let now = now_millis();
        self.sidecar
            .sql()
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM job WHERE kind = ?1 AND started_by = ?2 \
                     ORDER BY id DESC LIMIT ?3"
                ),
                &[kind.key().into(), by.into(), limit.into()],
            )?
            .into_iter()
            .map(|row| job_of(row, now))
            .collect()
    }

    /// The live job of `kind`, if one runs.
    pub fn live(&self, kind: JobKind) -> Result<Option<Job>, StoreError> {
        let now = now_millis();
        Ok(self
            .sidecar
            .sql()
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM job WHERE kind = ?1 AND state IN ('queued', 'running') \
                     ORDER BY id"
                ),
                &[kind.key().into()],
            )?
            .into_iter()
            .map(|row| job_of(row, now))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .find(|job| job.state.is_live()))
    }

    /// Queues job `id` again, as a new job, if it was interrupted or failed.
    pub fn again(
        &self,
        id: u64,
        by: &str,
        runner: &str,
    ) -> Result<Result<(u64, JobKind, String), Refused>, StoreError> {
        let Some(job) = self.get(id)? else {
            return Ok(Err(Refused::NoSuchJob(id)));
        };
        if job.kind == JobKind::Backup {
            return Ok(Err(Refused::NeedsSecret(id)));
        }
        if !matches!(job.state, JobState::Interrupted | JobState::Failed) {
            return Ok(Err(Refused::NotEnded {
                id,
                state: job.state,
            }));
        }
        Ok(self
            .start(job.kind, &job.parameters, by, runner, Some(id))?
            .map(|new| (new, job.kind, job.parameters)))
    }

    /// The runner of job `id` renews its lease and writes how far it is;
    /// `false` once the job is not its own (its lease lapsed and another
    /// process found it interrupted).
    fn renew(&self, id: u64, runner: &str, progress: &Progress) -> Result<bool, StoreError> {
        let (phase, done, total) = progress.now();
        self.sidecar.write(|sql: &dyn Sql| {
            let held = sql.exists(
                "SELECT 1 FROM job WHERE id = ?1 AND runner = ?2 AND state IN ('queued', 'running')",
                &[id.into(), runner.into()],
            )?;
            if held {
                sql.execute(
                    "UPDATE job SET state = 'running', started_at = COALESCE(started_at, ?1), \
                     phase = ?2, done = ?3, total = ?4, lease_until = ?5 WHERE id = ?6",
                    &[
                        now_text().as_str().into(),
                        phase.key().into(),
                        done.into(),
                        total.into(),
                        lease_from_now().into(),
                        id.into(),
                    ],
                )?;
            }
            Ok(held)
        })
    }

    /// Writes the outcome of job `id`: its result, or why it failed.
    pub fn finish(
        &self,
        id: u64,
        runner: &str,
        outcome: &Result<String, String>,
    ) -> Result<(), StoreError> {
        let (state, result, error) = match outcome {
            Ok(result) => (JobState::Done, Some(result.as_str()), None),
            Err(error) => (JobState::Failed, None, Some(error.as_str())),
        };
        self.sidecar.write(|sql: &dyn Sql| {
            sql.execute(
                "UPDATE job SET state = ?1, ended_at = ?2, result = ?3, error = ?4 \
                 WHERE id = ?5 AND runner = ?6",
                &[
                    state.key().into(),
                    now_text().as_str().into(),
                    result.into(),
                    error.into(),
                    id.into(),
                    runner.into(),
                ],
            )
        })
    }
}

/// How far a running job is: written by its work from any thread, read by
/// its heartbeat.
pub struct Progress {
    phase: Mutex<(Phase, u64)>,
    done: AtomicU64,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            phase: Mutex::new((Phase::Waiting, 0)),
            done: AtomicU64::new(0),
        }
    }
}

impl Progress {
    /// The work enters `phase`, of `total` units (0 when not counted).
    pub fn enter(&self, phase: Phase, total: u64) {
        *self
            .phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = (phase, total);
        self.done.store(0, Ordering::Relaxed);
    }

    /// `units` more units of the phase are done.
    pub fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Phase, units done and units in all.
    pub fn now(&self) -> (Phase, u64, u64) {
        let (phase, total) = *self
            .phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let done = self.done.load(Ordering::Relaxed);
        (phase, if total > 0 { done.min(total) } else { done }, total)
    }
}

impl girok_linkage::Progress for Progress {
    fn stage(&self, stage: girok_linkage::Stage, total: u64) {
        let phase = match stage {
            girok_linkage::Stage::Blocking => Phase::Blocking,
            girok_linkage::Stage::Training => Phase::Training,
            girok_linkage::Stage::Scoring => Phase::ComparingPairs,
            girok_linkage::Stage::Clustering => Phase::Clustering,
        };
        self.enter(phase, total);
    }

    fn advance(&self, units: u64) {
        Progress::advance(self, units);
    }
}

/// A token naming one run of a job by this process.
pub fn runner_token() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Random(e.to_string()))?;
    Ok(format!("{}-{}", std::process::id(), hex::encode(bytes)))
}

/// Runs job `id` (queued with `runner`) on a thread of its own: renews its
/// lease and writes its progress every [`HEARTBEAT`] while `work` runs, then
/// writes what it returned. `work` returns its result (JSON of its kind) or
/// why it failed, written for people.
pub fn spawn(
    place: Place,
    id: u64,
    runner: String,
    work: impl FnOnce(&Progress) -> Result<String, String> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        // The job's own connection: a heartbeat never waits on a request's.
        let jobs = match Jobs::open(&place) {
            Ok(jobs) => jobs,
            // Its lease lapses and every process shows it interrupted.
            Err(_) => return,
        };
        let progress = Progress::default();
        let (finished, ended) = mpsc::channel();
        std::thread::scope(|scope| {
            let progress = &progress;
            scope.spawn(move || {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(progress)))
                        .unwrap_or_else(
                            |_| Err("the job stopped on an internal error".to_string()),
                        );
                let _ = finished.send(outcome);
            });
            let mut ours = true;
            loop {
                // A failed renewal is retried at the next beat; the lease outlasts several.
                if ours {
                    ours = jobs.renew(id, &runner, progress).unwrap_or(true);
                }
                match ended.recv_timeout(HEARTBEAT) {
                    Ok(outcome) => {
                        if ours {
                            let _ = jobs.renew(id, &runner, progress);
                            let _ = jobs.finish(id, &runner, &outcome);
                        }
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        });
    })
}
