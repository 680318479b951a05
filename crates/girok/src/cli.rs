//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "girok",
    version,
    about = "Girok (기록): tamper-evident documentation of human-rights violations from testimonies",
    long_about = "Girok records testimonies and the persons, events and acts in them. Every change goes \
                  through one journaled write path: validated, appended to a hash-chained journal and applied \
                  to the state tables in one transaction."
)]
pub struct Cli {
    /// Directory of the database (created by `girok init`).
    #[arg(long, global = true, env = "GIROK_DATA", default_value = "girok-data")]
    pub data: PathBuf,

    /// Who is making the changes; recorded in the journal.
    #[arg(long, global = true, env = "GIROK_ACTOR")]
    pub actor: Option<String>,

    /// Why identifying data is read (recorded in the audit log with every
    /// read of decrypted names, birth, origin or notes).
    #[arg(
        long,
        global = true,
        env = "GIROK_PURPOSE",
        default_value = "not stated"
    )]
    pub purpose: String,

    /// Key file that unlocks an encrypted database (else GIROK_PASSPHRASE,
    /// else a prompt on the terminal; without either it stays locked).
    #[arg(long, global = true, env = "GIROK_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// A new PostgreSQL database to make the data directory's.
#[derive(Debug, Args)]
pub struct PostgresTarget {
    /// Keep the database in this new, empty PostgreSQL database (a URL such
    /// as postgresql://girok@db.example/girok, or key=value settings),
    /// shared by several servers, instead of a file in --data; --data
    /// then holds the checkpoint key and the URL, readable by you only.
    /// Give it in GIROK_POSTGRES_URL to keep a password out of the
    /// command line.
    #[arg(
        id = "postgres",
        long = "postgres",
        env = "GIROK_POSTGRES_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty database in --data.
    Init {
        /// Seal identifying data before it is journaled, under a passphrase
        /// (GIROK_PASSPHRASE or typed twice) or --key-file (created if absent).
        #[arg(long)]
        encrypt: bool,
        /// With --postgres --encrypt: where to make the key store that holds
        /// the data keys apart from PostgreSQL (a file on this host, which
        /// every server that reads names shares; default DIR/keys.sqlite).
        #[arg(long, value_name = "FILE", requires = "encrypt", requires = "postgres")]
        key_store: Option<PathBuf>,
        #[command(flatten)]
        postgres: PostgresTarget,
    },
    /// Let a PostgreSQL role run Girok servers on this data directory's
    /// database without owning it: it may add to the journal and the audit
    /// log but never change them, and read and write the rest (run as the
    /// database's owner; servers then connect as the role).
    Grant {
        /// The role's name (lower-case letters, digits and _).
        role: String,
    },
    /// Check the passphrase or key file of an encrypted database and report its keys.
    Unlock,
    /// Key rotation: a new master key for a new passphrase (GIROK_NEW_PASSPHRASE
    /// or typed twice) or --new-key-file; every data key is rewrapped.
    Rekey {
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
    /// Write the whole data directory (database, users, keys, evidence files)
    /// to one encrypted file, under a passphrase (GIROK_PASSPHRASE or typed
    /// twice) or --key-file.
    Backup {
        /// The backup file to create.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Restore a backup into --data (which must not exist), after checking
    /// that it authenticates and that its journal verifies.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        postgres: PostgresTarget,
    },
    /// The audit log of reads of decrypted identifying data (who, what, when,
    /// why), with a check of its hash chain.
    Audit {
        /// Only the last N entries.
        #[arg(long)]
        last: Option<usize>,
        /// Print the log's head (entry count and last hash) signed with the
        /// checkpoint key, to keep away from this machine.
        #[arg(long)]
        sign: bool,
        /// Check that the log still extends a head signed earlier.
        #[arg(long, value_name = "SIGNED-HEAD-FILE")]
        against: Option<PathBuf>,
    },
    /// Crypto-shredding: destroy the data key of a person, source, event or
    /// evidence file. Its identifying data and free text (a person's also the
    /// descriptions of acts against them) become unreadable for good;
    /// statistics keep its de-identified facts and the journal still verifies.
    Forget {
        /// The person, source, event or evidence file.
        id: String,
        /// Why (recorded in the journal).
        #[arg(long)]
        reason: String,
    },
    /// Create a demo database from the UN testimonies of 20 May 2025, report
    /// on it, and start the web application on it with demo users.
    Demo {
        /// Where to put the demo database.
        #[arg(long, default_value = "girok-demo")]
        dir: PathBuf,
        /// Where the web application listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Build and verify the database, but do not start the server.
        #[arg(long)]
        no_serve: bool,
    },
    /// Start the web application and JSON API on the database in --data.
    Serve {
        /// Address to listen on (loopback by default; put a TLS proxy in front
        /// before exposing it).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The address of a reverse proxy in front (repeatable): only from
        /// these is X-Forwarded-For taken as the client's address, which
        /// sign-in failures are counted against.
        #[arg(long = "trusted-proxy", value_name = "ADDR")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// The largest evidence file accepted by upload in the browser, in MiB.
        #[arg(long, value_name = "MIB", default_value_t = 256)]
        max_upload_mib: u64,
    },
    /// Users of the web application and API (kept in DIR/access.sqlite).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Import files (.csv, .json, .jsonl) in one transaction: all of them or nothing.
    #[command(after_long_help = crate::CSV_HELP.as_str())]
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Export every record (json, jsonl) or one row per attested act (csv).
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Output file; standard output when absent.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Korean column headers in CSV.
        #[arg(long)]
        korean_headers: bool,
        /// Who the export is for: partners and public exports hold only what
        /// consent allows, pseudonymised (stable per audience), with dates as
        /// years, places as provinces and rare acts generalised or withheld.
        #[arg(long, value_enum, default_value_t = AudienceArg::Internal)]
        audience: AudienceArg,
        /// Smallest group of alike acts published (partners and public).
        #[arg(long, default_value_t = 5)]
        min_cell: u64,
    },
    /// List records of one kind.
    List {
        #[arg(value_enum)]
        kind: KindArg,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one record with its revision and authors.
    Show { id: String },
    /// The journal entries of one record, oldest first.
    History { id: String },
    /// Counts and percentages of victims (or acts): the standard breakdowns,
    /// or one dimension, or two (rows,columns) as a cross-tabulation.
    #[command(after_help = STATS_HELP)]
    Stats {
        /// One or two of: act-type, category, agency, agency-class, inside,
        /// province, country, place, year, period, sex, age-group, relation,
        /// relation-class, consent, corroboration, organisation.
        #[arg(long, value_delimiter = ',')]
        by: Vec<girok_tabulate::Dimension>,
        /// Conditions such as year=2019..2023, period=covid-border-closure,
        /// place=회령, act-type=execution|arrest (all must hold).
        #[arg(long = "where", value_name = "CONDITIONS")]
        conditions: Vec<String>,
        /// What a cell counts.
        #[arg(long, value_enum, default_value_t = CountArg::Victims)]
        count: CountArg,
        /// Who the table is for: partners and public tables only count acts
        /// whose sources' consent allows it, suppress small cells, and are
        /// the published tables only (no conditions or two-way tables).
        #[arg(long, value_enum, default_value_t = AudienceArg::Internal)]
        audience: AudienceArg,
        /// Suppress counts below this (default: 5 for partners and public).
        #[arg(long)]
        min_cell: Option<u64>,
        /// Age bands of the age-group breakdown, such as 0-9,10-19,20-39,40-
        /// (an age known only as an interval counts in a band when the whole
        /// interval lies inside it, else in a "spans bands" row).
        #[arg(long, value_name = "BANDS", default_value_t = girok_tabulate::AgeBands::default())]
        age_bands: girok_tabulate::AgeBands,
        /// Also treat the unreviewed proposals of `girok link` as the same person.
        #[arg(long)]
        with_proposals: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// How many victims no list recorded: Multiple Systems Estimation with
    /// documenting organisations as lists (latent-class model, decomposable
    /// model averaging, log-linear models).
    #[command(after_help = ESTIMATE_HELP)]
    Estimate {
        #[command(flatten)]
        model: EstimateArgs,
        /// Estimate from a capture-pattern file (pattern<TAB>count) instead of the database.
        #[arg(long, value_name = "FILE")]
        table: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// A self-contained HTML report (bilingual, SVG charts): breakdowns,
    /// acts over time, estimates with intervals, and how they were made.
    Report {
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        model: EstimateArgs,
        /// Who the report is for: partners and public reports only count
        /// acts whose sources' consent allows it, suppress small cells, and
        /// show the published tables only (no conditions).
        #[arg(long, value_enum, default_value_t = AudienceArg::Internal)]
        audience: AudienceArg,
        /// Suppress counts below this (default: 5 for partners and public).
        #[arg(long)]
        min_cell: Option<u64>,
        /// Leave out the estimates (they take seconds to minutes).
        #[arg(long)]
        no_estimate: bool,
    },
    /// Replay the journal into a scratch store and compare it with the state tables.
    Check,
    /// The journal's Merkle tree: size and RFC 6962 root; with --entry, an inclusion proof.
    Tree {
        /// A journal sequence number whose inclusion to prove.
        #[arg(long)]
        entry: Option<u64>,
    },
    /// Store an evidence file for a source: read-only, by its SHA-256, with an intake custody event.
    Attach {
        source: String,
        file: PathBuf,
        /// When the file was captured (fuzzy date).
        #[arg(long)]
        captured_at: Option<String>,
        /// Who captured or collected it.
        #[arg(long)]
        collector: Option<String>,
        #[arg(long)]
        media_type: Option<String>,
        /// The file identifies people and needs protection.
        #[arg(long)]
        sensitive: bool,
        /// Record id; default ev- followed by the start of the hash.
        #[arg(long)]
        id: Option<String>,
    },
    /// The chain of custody of an evidence file (by SHA-256).
    Custody { sha256: String },
    /// Copy an evidence file out to a recipient; the export is a custody event.
    ExportEvidence {
        sha256: String,
        #[arg(long, short)]
        out: PathBuf,
        /// Who receives the copy.
        #[arg(long)]
        recipient: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Write a proof bundle for a record: its journal entries with inclusion proofs, a signed
    /// checkpoint, the verifier key and its evidence files' hashes (and bytes, with --with-files-for).
    Prove {
        record: String,
        #[arg(long, short)]
        out: PathBuf,
        /// Include the evidence bytes, copied to this recipient (a custody event).
        #[arg(long)]
        with_files_for: Option<String>,
    },
    /// Check a proof bundle with nothing but the bundle and a verifier key.
    VerifyBundle {
        dir: PathBuf,
        /// The verifier key you trust (from `girok key`), not the one inside the bundle.
        #[arg(long)]
        key: String,
    },
    /// Print the installation's public checkpoint key, for partners and courts.
    Key,
    /// Sign and keep a checkpoint of the journal's tree, and print it.
    Checkpoint,
    /// Verify everything: hash chain, replay, Merkle tree, every checkpoint; --against a checkpoint kept earlier.
    Verify {
        /// A checkpoint received earlier: the database must extend it.
        #[arg(long)]
        against: Option<PathBuf>,
        /// The verifier key to check signatures with (default: this installation's).
        #[arg(long)]
        key: Option<String>,
    },
    /// Generate realistic synthetic testimonies (JSON Lines) and their ground truth.
    Synth {
        #[arg(long)]
        testimonies: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Records file (.jsonl).
        #[arg(long, short)]
        out: PathBuf,
        /// Ground truth file (TSV: person record, hidden person); defaults to OUT with .truth.tsv.
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// Find person records that describe the same person; proposals go to `girok review`.
    Link {
        /// Match probability at which a pair is proposed.
        #[arg(long, default_value_t = girok_linkage::Settings::default().link_probability)]
        link_probability: f64,
        /// How many proposals to print.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Review linkage proposals: show them with the weight of every comparison, and record
    /// decisions (journal changes that later `girok link` runs respect).
    Review {
        /// Show one proposal in full.
        #[arg(long, value_name = "N", conflicts_with_all = ["confirm", "reject", "split", "unmerge"])]
        show: Option<usize>,
        /// The persons of proposal N are one person.
        #[arg(long, value_name = "N")]
        confirm: Option<usize>,
        /// The persons of proposal N are different people.
        #[arg(long, value_name = "N")]
        reject: Option<usize>,
        /// Proposal N is partly right: the persons in --keep are one person, the rest are not them.
        #[arg(long, value_name = "N", requires = "keep")]
        split: Option<usize>,
        /// Person ids (comma separated) that are one person, for --split.
        #[arg(long, value_delimiter = ',')]
        keep: Vec<String>,
        /// Withdraw every decision about a person (undo a merge or a rejection).
        #[arg(long, value_name = "PERSON")]
        unmerge: Option<String>,
        /// Why; recorded in the journal.
        #[arg(long, default_value = "reviewed with girok review")]
        reason: String,
    },
    /// Change the consent scope of a source. Narrowing is always allowed; widening needs --widen and a reason.
    SetConsent {
        source: String,
        #[arg(value_enum)]
        scope: ScopeArg,
        #[arg(long)]
        widen: bool,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// List vocabularies and their terms, or add a term.
    Terms {
        /// A vocabulary name (act-types, agencies, places...); all when absent.
        vocabulary: Option<String>,
        #[command(subcommand)]
        action: Option<TermsAction>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TermsAction {
    /// Add a term to a vocabulary (journaled like any change).
    Add {
        vocabulary: String,
        key: String,
        #[arg(long)]
        en: String,
        #[arg(long)]
        ko: String,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        class: Option<String>,
    },
    /// Merge a spelling of a documenting organisation (as sources have it,
    /// e.g. "NKDB 서울") into an organisation of the `organisations`
    /// vocabulary, so estimates and tables count its sources in one list.
    MergeOrganisation {
        spelling: String,
        /// The key of the organisation it names.
        #[arg(long)]
        into: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Jsonl,
    Csv,
    /// One row per person record with the resolved person it belongs to (after review).
    ResolvedPersons,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// What an estimate is of and how its models run.
#[derive(Debug, Clone, Args)]
pub struct EstimateArgs {
    /// Count victims of acts meeting these conditions (as in `stats`).
    #[arg(long = "where", value_name = "CONDITIONS")]
    pub conditions: Vec<String>,
    /// Also estimate separately per value of this dimension (a victim
    /// belongs to the stratum of their earliest dated act).
    #[arg(long)]
    pub strata: Option<girok_tabulate::Dimension>,
    /// Organisations to use as lists, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub lists: Vec<String>,
    /// Latent classes K of the LCMCR model.
    #[arg(long, default_value_t = girok_estimate::defaults::CLASSES)]
    pub classes: usize,
    /// Kept draws per chain.
    #[arg(long, default_value_t = girok_estimate::defaults::SAMPLES)]
    pub samples: usize,
    #[arg(long, default_value_t = girok_estimate::defaults::BURN_IN)]
    pub burn_in: usize,
    /// Iterations between kept draws.
    #[arg(long, default_value_t = girok_estimate::defaults::THIN)]
    pub thin: usize,
    /// Chains run in parallel, for R-hat.
    #[arg(long, default_value_t = girok_estimate::defaults::CHAINS)]
    pub chains: usize,
    /// Random seed: the same seed gives the same estimate.
    #[arg(long, default_value_t = girok_estimate::defaults::SEED)]
    pub seed: u64,
    /// Prior cell count of decomposable model averaging (default 2^-lists).
    #[arg(long)]
    pub delta: Option<f64>,
    /// Also treat the unreviewed proposals of `girok link` as the same person.
    #[arg(long)]
    pub with_proposals: bool,
    /// Also estimate with the uncertainty of who is the same person: over
    /// this many clusterings drawn from the linkage model of the unreviewed
    /// proposals (reviewers' decisions kept), pooled, beside the estimate
    /// that takes the proposals as confirmed (implies --with-proposals).
    /// Experimental: not yet validated (see the README's benchmark).
    #[arg(long, value_name = "DRAWS", value_parser = clap::value_parser!(u16).range(2..=1000))]
    pub linkage_draws: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user; the password is read from standard input (one line, at least 12 characters).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List users and their roles.
    List,
    /// A new API key for a user (shown once; store it safely).
    Key {
        name: String,
        /// What the key is for ("partner import script").
        #[arg(long)]
        label: String,
        /// What the key may do (at most what the user's role allows).
        #[arg(long, value_enum)]
        scope: KeyScopeArg,
        /// The day (YYYY-MM-DD, UTC) from which the key is refused; without it the key does not expire.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Remove a user's second factor (a lost device): they set up a new one
    /// at their next sign-in, and their open sessions end.
    ResetSecondFactor { name: String },
    /// Whether documenters must sign in with a second factor (admins always do).
    SecondFactorForDocumenters {
        #[arg(value_enum)]
        setting: OnOff,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyScopeArg {
    /// Records and statistics.
    Read,
    /// Also typed changes and testimonies.
    Write,
    /// Also forgetting records and widening consent (admins' keys only).
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

impl From<KeyScopeArg> for girok_server::access::Scope {
    fn from(scope: KeyScopeArg) -> Self {
        use girok_server::access::Scope;
        match scope {
            KeyScopeArg::Read => Scope::Read,
            KeyScopeArg::Write => Scope::Write,
            KeyScopeArg::Admin => Scope::Admin,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Manages users and keys, and everything a documenter does.
    Admin,
    /// Reads everything and records testimonies.
    Documenter,
    /// Reads without witnesses' identifying data; runs statistics.
    Analyst,
    /// Sees public statistics only.
    Viewer,
}

impl From<RoleArg> for girok_server::access::Role {
    fn from(role: RoleArg) -> Self {
        use girok_server::access::Role;
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Documenter => Role::Documenter,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountArg {
    /// Distinct victims after linkage decisions.
    Victims,
    /// Act records.
    Acts,
    /// Cases: the events acts belong to (an act without an event is a case of its own).
    Cases,
}

/// Who an output is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudienceArg {
    Internal,
    Partners,
    Public,
}

impl From<AudienceArg> for girok_tabulate::Audience {
    fn from(audience: AudienceArg) -> Self {
        match audience {
            AudienceArg::Internal => girok_tabulate::Audience::Internal,
            AudienceArg::Partners => girok_tabulate::Audience::Partners,
            AudienceArg::Public => girok_tabulate::Audience::Public,
        }
    }
}

const ESTIMATE_HELP: &str = "\
Each model makes assumptions the data cannot check; read the warnings, and \
report the models' intervals, not only a point. Estimates need at least 3 \
lists that overlap.

Examples:
  girok estimate
  girok estimate --where act-type=enforced-disappearance --strata inside
  girok estimate --table ../shared/data/kosovo-1999.tsv --samples 20000";

const STATS_HELP: &str = "\
Dates in conditions keep acts whose whole date lies inside (an act dated \
'2010s' is not counted under year=2015); places keep acts at the place or \
inside it (place=north-hamgyong includes Hoeryong). 'unknown' is always a \
row of its own.

Partners and the public get the published tables only: one-way tables of \
victims by act-type, agency-class, inside, year, sex, age-group, \
relation-class or corroboration, with no conditions and the standard age \
groups (differences of restricted tables would reveal suppressed counts).

Examples:
  girok stats --by agency-class
  girok stats --by agency,inside --where year=2000..2019
  girok stats --by act-type --where period=covid-border-closure
  girok stats --audience public --format csv";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Sources,
    Persons,
    Events,
    Acts,
    Involvements,
    Information,
    Relations,
    Evidence,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Internal,
    Partners,
    PublicAnonymised,
    Public,
}
