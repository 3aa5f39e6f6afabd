//! The command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod requests;
pub use requests::{RequestsCommand, VerifyCommand};

/// Ward keeps a privacy policy's promises: an encrypted personal-data vault with
/// purpose-bound access and a tamper-evident journal of every processing action.
#[derive(Debug, Parser)]
#[command(name = "ward", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Data directory: configuration, key files, policy and (by default) the SQLite database.
    #[arg(long, global = true, env = "WARD_DATA_DIR", default_value = "./ward-data")]
    pub data_dir: PathBuf,
    /// Use PostgreSQL instead of the embedded SQLite (postgres://user@host/db).
    #[arg(long, global = true, env = "WARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of key files (default: <data-dir>/keys).
    #[arg(long, global = true, env = "WARD_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Initialise a data directory: configuration, keys, default policy, database, admin key.
    Init,
    /// Run the HTTP server (initialises the data directory on first start).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WARD_LISTEN")]
        listen: Option<String>,
    },
    /// API keys and key-encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The processing journal.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Destruction acts (RKN Order No. 179) with their journal extracts.
    #[command(subcommand)]
    Acts(ActsCommand),
    /// Data subjects (as the operator, journaled as `cli`). Also `ward subjects` (as in
    /// `ward subjects list`).
    #[command(subcommand, alias = "subjects")]
    Subject(SubjectCommand),
    /// Data-subject requests: their legal deadlines.
    #[command(subcommand)]
    Requests(RequestsCommand),
    /// Production calendars: the working days deadlines are counted on.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// The outbox: messages to subjects and their delivery (ids and states, never content).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Identity verification of data-subject requests: the officer reads a verification and
    /// its scanned document, and accepts or rejects the document.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Back up the database without any data key, and export the keys separately (SQLite).
    /// Erasure reaches backups: a data backup can be read only with a key export, and a
    /// subject erased before the export has no key in it.
    Backup {
        /// Where to write the data backup (a new file).
        #[arg(long, required_unless_present = "keys_out")]
        out: Option<PathBuf>,
        /// Where to write the export of live subjects' wrapped data keys (a new file).
        #[arg(long)]
        keys_out: Option<PathBuf>,
    },
    /// Restore a data backup into a data directory that has the original key files (keys/)
    /// but no database yet, taking data keys from a key export; subjects erased since the
    /// backup stay erased. Without a policy.toml there, the policy in force in the backup is
    /// written. The restore is built and checked (integrity, every data key opens, the journal
    /// verifies, counts add up) in a temporary directory and moved into place only on
    /// success: a failed restore changes nothing and can be run again.
    Restore {
        /// The data backup (`ward backup --out`).
        #[arg(long)]
        from: PathBuf,
        /// The key export (`ward backup --keys-out`), taken after the backup.
        #[arg(long)]
        keys: PathBuf,
    },
    /// Register subjects in bulk from a JSON Lines or CSV file, with a progress bar. Bad
    /// lines are reported by number (never by value) and skipped.
    Import(crate::cmd::import::ImportArgs),
    /// Measure throughput and latency against raw baselines in the same run (BENCHMARKS.md).
    /// Starts its own servers in a temporary directory; with --database-url, uses fresh
    /// databases on that PostgreSQL server. Needs a build with the benchmarks:
    /// `cargo run --release --features bench -- bench`.
    Bench(crate::cmd::bench::BenchArgs),
    /// Developers' tools: regenerate the generated parts of the documentation.
    #[command(subcommand, hide = true)]
    Docs(DocsCommand),
    /// The bare-HTTP server `ward bench` measures reads against.
    #[command(hide = true)]
    BenchEcho {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        #[arg(long)]
        read_bytes: usize,
        #[arg(long)]
        lookup_bytes: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Rewrite docs/api.md's generated tables (routes and roles from the OpenAPI document,
    /// problem codes, the authorization table) between their markers; the prose stays.
    Api {
        /// The file to rewrite (docs/api.md).
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Keys, policy, configuration, and everything else.
    Admin,
    /// The privacy officer: requests, registers, journal, destruction (no purposes).
    Officer,
    /// The website: subject operations for the key's purposes only.
    Service,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key; prints the token once.
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "service")]
        role: RoleArg,
        /// A purpose the (service) key may use; repeat for several.
        #[arg(long = "purpose")]
        purposes: Vec<String>,
    },
    /// List API keys (never their tokens).
    List,
    /// Revoke an API key by id.
    Revoke { id: String },
    /// Start a new key epoch: destroy the key-encryption keys (KEKs) of earlier epochs whose
    /// grace period is over (2 checkpoint intervals + 60 s after the next KEK was recorded,
    /// and only if no data key is still wrapped under them), then make a new KEK and re-wrap
    /// every subject's data key under it, without decrypting any field data. Running servers
    /// load the new key within a checkpoint interval. `ward serve` does this itself every
    /// `kek_rotation_interval_secs`; without a server, run this from cron as often.
    Rotate {
        /// Do not make a new key: re-wrap what is still under older keys (after an
        /// interrupted rotation, or once every server has loaded the new key).
        #[arg(long, conflicts_with = "destroy_old")]
        resume: bool,
        /// Do not make a new key: only destroy the KEKs of earlier epochs (refused within
        /// their grace period, or while a data key is still wrapped under them).
        #[arg(long)]
        destroy_old: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Check the whole hash chain, every signed checkpoint and the head; name the first
    /// tampered entry, and count the entries no checkpoint covers yet.
    Verify {
        /// Also check the chain against a checkpoint kept apart (written by
        /// `ward journal checkpoint --export`).
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
    },
    /// Sign a checkpoint of the current head now.
    Checkpoint {
        /// Also write the newest signed checkpoint to FILE (a new file, mode 0600), with the
        /// public key that verifies it, to send to a witness kept apart from this store.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
    },
    /// List journal entries by subject ("who accessed my data"), actor ("what did this key
    /// do"), action, purpose and time, oldest first: one JSON object a line; the cursor of the
    /// next page goes to stderr. Journaled as `journal.read`.
    List(JournalListArgs),
}

#[derive(Debug, Args)]
pub struct JournalListArgs {
    /// Entries about this subject (its id).
    #[arg(long)]
    pub subject: Option<String>,
    /// Entries by this actor: `key:<id>`, `cli` or `system`.
    #[arg(long)]
    pub actor: Option<String>,
    /// Entries of this action (`retrieval`, `consent.given`, ...).
    #[arg(long)]
    pub action: Option<String>,
    /// Entries for this purpose.
    #[arg(long)]
    pub purpose: Option<String>,
    /// At or after (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Before (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    /// Go on from the cursor a previous page printed.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Items per page, 1 to 1000.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct SubjectListArgs {
    /// `active`, `deceased` or `erased`.
    #[arg(long, value_parser = ["active", "deceased", "erased"])]
    pub state: Option<String>,
    /// Consents now to this consent-based purpose.
    #[arg(long)]
    pub consent_to: Option<String>,
    /// Does not consent now to this consent-based purpose.
    #[arg(long)]
    pub no_consent_to: Option<String>,
    /// Consented under a version whose change to the purpose requires a new consent.
    #[arg(long)]
    pub must_consent_again: bool,
    /// Has data due for destruction before this date (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    pub destruction_due_before: Option<String>,
    /// Accepted this policy version (hash or a prefix of 8+ characters).
    #[arg(long)]
    pub accepted_version: Option<String>,
    /// Has not accepted the policy version in force.
    #[arg(long)]
    pub not_accepted_in_force: bool,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Subcommand)]
pub enum ActsCommand {
    /// List destruction acts, newest first: id, date, subject, reason, categories.
    List {
        /// Only this subject's acts.
        #[arg(long)]
        subject: Option<String>,
        /// Acts at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Acts before this time (RFC 3339).
        #[arg(long)]
        to: Option<String>,
    },
    /// Print one act with its journal extract.
    Show {
        id: String,
        /// The printable page (HTML, Russian field names with English alongside).
        #[arg(long)]
        html: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List messages, oldest first: id, subject, template, language, state, attempts.
    List {
        /// Only messages in this state: queued, sending, sent or dead.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Put a dead-lettered message back in the queue, due now.
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file and explain every problem (line, what is wrong, what would be right).
    Validate { file: PathBuf },
    /// Print the policy version in force (its register), from the store.
    Show {
        /// Print the data directory's policy file instead (which is not in force until it is
        /// published).
        #[arg(long)]
        file: bool,
    },
    /// Publish a policy version (register and, if it names one, its text file). A version's
    /// content is immutable: the same content again changes nothing; asked to take effect at
    /// another time, it reschedules a version not yet in force and is refused for one that
    /// has taken effect; a policy with another `id` is refused. Only this command (or
    /// the API) publishes: other commands use the version in force, whatever the file says.
    Publish {
        file: PathBuf,
        /// When it comes into force (RFC 3339, e.g. 2026-12-01T00:00:00Z); default now.
        #[arg(long)]
        effective_at: Option<String>,
    },
    /// List the published versions; the one in force is marked.
    Versions,
    /// What changed between two versions (hashes or prefixes of 8+ characters), and what
    /// each change requires.
    Diff { from: String, to: String },
}

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// List subjects by state, consent standing, destruction due and policy acceptance, in id
    /// order: ids and standing facts only, one JSON object a line; the cursor of the next page
    /// goes to stderr. Journaled as `subjects.listed`.
    List(SubjectListArgs),
    /// Register a subject.
    Create {
        /// Purpose of collection.
        #[arg(long)]
        purpose: String,
        /// A field as NAME=VALUE; repeat.
        #[arg(long = "field", value_parser = parse_kv)]
        fields: Vec<(String, String)>,
        /// A consent-based purpose the subject consents to; repeat.
        #[arg(long = "consent")]
        consents: Vec<String>,
        /// How the data and consent were obtained (evidence channel).
        #[arg(long, default_value = "cli")]
        channel: String,
        /// A basis established with the registration, as PURPOSE=REFERENCE (the contract or
        /// order number that shows it), recorded in the same transaction; repeat.
        #[arg(long = "basis", value_parser = parse_kv)]
        bases: Vec<(String, String)>,
    },
    /// Show a subject's data for a purpose (only what that purpose may see).
    Show {
        id: String,
        #[arg(long)]
        purpose: String,
        /// Only these fields (comma-separated).
        #[arg(long, value_delimiter = ',')]
        fields: Option<Vec<String>>,
    },
    /// Find subjects by email or phone (blind index), for a purpose.
    Find {
        #[arg(long, conflicts_with_all = ["phone", "field"])]
        email: Option<String>,
        #[arg(long, conflicts_with = "field")]
        phone: Option<String>,
        /// Another lookup field, with --value.
        #[arg(long, requires = "value")]
        field: Option<String>,
        #[arg(long)]
        value: Option<String>,
        #[arg(long)]
        purpose: String,
    },
    /// Show where a subject stands on each purpose (no personal data), with expiry and any
    /// destruction deadline.
    Consents { id: String },
    /// Withdraw a subject's consent to a purpose: it stops at once; prints what goes on, on
    /// which legal basis, and what must be destroyed by when.
    Withdraw {
        id: String,
        #[arg(long)]
        purpose: String,
    },
    /// Record a legal basis other than consent for a subject: a contract concluded or ended,
    /// an obligation triggered (retention runs from --start), an objection to a legitimate
    /// interest, or the officer's overriding grounds.
    Basis {
        id: String,
        /// A purpose whose legal basis is not consent.
        #[arg(long)]
        purpose: String,
        /// `established`, `ended`, `objected` or `overridden`.
        #[arg(long, value_parser = ["established", "ended", "objected", "overridden"])]
        kind: String,
        /// For `established`: when it began, RFC 3339 (default now).
        #[arg(long)]
        start: Option<String>,
        /// What shows it: a contract or order number, a transaction id.
        #[arg(long)]
        reference: String,
        /// Free text: what ended it, the overriding grounds.
        #[arg(long)]
        note: Option<String>,
    },
    /// Show where a subject stands on each purpose not resting on consent (no personal
    /// data), with what an ended basis leaves due for destruction.
    Bases { id: String },
    /// Record that a subject was told of a policy version, or accepted it (never consent).
    PolicyNotice {
        id: String,
        /// `notified` or `accepted`.
        #[arg(long, value_parser = ["notified", "accepted"])]
        kind: String,
        /// How: email, sms, banner, letter, continued_use, ...
        #[arg(long)]
        channel: String,
        /// The version's hash or a unique prefix (default: the version in force).
        #[arg(long)]
        policy_version: Option<String>,
        /// What was sent or shown (a message id).
        #[arg(long)]
        reference: Option<String>,
    },
    /// Show the policy versions a subject was told of and accepted.
    PolicyNotices { id: String },
    /// Record a subject's death (152-FZ Art. 9 p. 7: new consents then come from heirs).
    Death {
        id: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The death certificate: number, date, issuer.
        #[arg(long)]
        document: String,
    },
    /// Block a subject's data (152-FZ Art. 21): every category, or those given. Reads of it
    /// are refused but for verification; prints the block as JSON. A
    /// `destruction_impossible` block six months old is executed by the destruction job.
    Block {
        id: String,
        /// inaccuracy_claimed, unlawful_processing_claimed, legal_hold or
        /// destruction_impossible.
        #[arg(long)]
        reason: String,
        /// A category of the policy; repeat or comma-separate (none: the whole subject).
        #[arg(long = "category", value_delimiter = ',')]
        categories: Vec<String>,
    },
    /// The subject's access report (152-FZ Art. 14 p. 7 items 1-11; GDPR Art. 15), for the
    /// officer to review before release: JSON, or the readable page with `--html`. Journaled.
    Report {
        id: String,
        #[arg(long)]
        html: bool,
    },
    /// Seal the access report (`report`) or a copy of the data (`json`, `csv`, `html`) under
    /// the subject's key behind a single-use link; prints its path and token once, as JSON.
    Export {
        id: String,
        /// json, csv, html or report.
        #[arg(long)]
        format: String,
        /// How many days the link lives (1 to 30; 7 if not given).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Lift a block in force (its id as `ward subject blocks` prints it).
    Unblock { id: String, block: String },
    /// List a subject's blocks, lifted ones too, oldest first: one JSON object a line.
    Blocks { id: String },
    /// Erase a subject by destroying its data key (crypto-shredding), for a reason.
    Erase {
        id: String,
        /// Why: subject_request, consent_withdrawn, purpose_achieved, retention_expired,
        /// unlawful_processing or authority_order (journaled as it is).
        #[arg(long)]
        reason: String,
    },
    /// Destroy categories (or fields) of a subject who stays, for a reason: the fields leave
    /// the sealed record and the lookup index together, journaled as destruction.
    Destroy {
        id: String,
        /// A category of the policy (e.g. technical); comma-separated or repeated.
        #[arg(long = "categories", value_delimiter = ',')]
        categories: Vec<String>,
        /// A single field; comma-separated or repeated.
        #[arg(long = "fields", value_delimiter = ',')]
        fields: Vec<String>,
        /// Why, as for `erase`.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print a year's non-working days (holidays, transferred days off) and its working
    /// weekend days, each with the act behind it, and the count of working days.
    Show { year: i32 },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| "expected NAME=VALUE".to_owned())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Clap checks argument names, conflicts and requirements only when a command runs;
    /// this checks every subcommand at once.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// The README's paragraph "The same binary is the CLI" lists the commands as
    /// `` `ward GROUP a|b [--flag]|c` `` and `` `ward COMMAND` ``: it names every visible command
    /// and subcommand, and none that does not exist.
    #[test]
    fn the_readme_lists_every_command() {
        let readme = include_str!("../../../../README.md");
        let start = readme.find("The same binary is the CLI").expect("the CLI paragraph");
        let end = readme[start..].find("\n\n").map_or(readme.len(), |n| start + n);
        let para = readme[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
        // Every `ward …` code span, its square-bracketed options removed.
        let spans: Vec<String> = para
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|span| span.strip_prefix("ward "))
            .filter(|span| !span.starts_with('-'))
            .map(|span| {
                let mut out = String::new();
                let mut depth = 0;
                for c in span.chars() {
                    match c {
                        '[' => depth += 1,
                        ']' => depth -= 1,
                        c if depth == 0 => out.push(c),
                        _ => {}
                    }
                }
                out
            })
            .collect();
        let listed = |group: &str| -> Vec<String> {
            spans
                .iter()
                .filter_map(|s| s.strip_prefix(group).and_then(|r| r.strip_prefix(' ')))
                .flat_map(|r| {
                    r.split('|')
                        .map(|w| w.split_whitespace().next().unwrap_or("").to_owned())
                })
                .collect()
        };
        let cli = Cli::command();
        let mut named = Vec::new();
        for sub in cli.get_subcommands().filter(|c| !c.is_hide_set()) {
            let name = sub.get_name();
            if sub.has_subcommands() {
                let mut want: Vec<String> = sub.get_subcommands().map(|c| c.get_name().to_owned()).collect();
                let mut got = listed(name);
                want.sort();
                got.sort();
                assert_eq!(got, want, "README: the subcommands of `ward {name}`");
            } else {
                assert!(
                    spans.iter().any(|s| s.split_whitespace().next() == Some(name)),
                    "README does not name `ward {name}`: {spans:?}"
                );
            }
            named.push(name);
        }
        for s in &spans {
            let first = s.split_whitespace().next().unwrap_or_default();
            assert!(
                named.contains(&first),
                "README names `ward {first}`, which is no command"
            );
        }
    }
}
