//! `ward import FILE`: bulk registration from JSON Lines or CSV, with a progress bar.
//!
//! Lines are parsed as they are read and registered 512 at a time (Ward's group-commit batch)
//! with a few batches in flight, so parsing, sealing and commits overlap. A bad line is
//! reported by its number and what is wrong with it (field names, never values) and the
//! import goes on; the summary counts what was imported and what was not. Every subject
//! counted as imported is durable.

use super::with_vault;
use crate::config::Config;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use tokio::task::JoinHandle;
use ward_core::consent::Evidence;
use ward_core::{Caller, SubjectId};
use ward_vault::{NewSubjectInput, Vault, VaultError, VaultResult};

/// Subjects per batch: Ward's default group-commit batch.
const CHUNK: usize = 512;
/// Batches being registered at once.
const IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// One `POST /v1/subjects` body per line: {"purpose", "fields", "consents", "evidence"}.
    Jsonl,
    /// A header of field names, plus optional `consents` (separated by `;`), `channel` and
    /// `purpose` columns; an empty cell is an absent field.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to import (`-` for standard input).
    pub file: PathBuf,
    /// The file's format [default: `csv` for a .csv file, else `jsonl`].
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// The purpose of collection, for lines that name none.
    #[arg(long, default_value = "registration")]
    pub purpose: String,
    /// The consent evidence channel, for lines with consents but no evidence.
    #[arg(long, default_value = "import")]
    pub channel: String,
    /// Write `LINE<TAB>ID` for every imported subject to this file.
    #[arg(long)]
    pub ids: Option<PathBuf>,
}

/// A JSON Lines record: the body of `POST /v1/subjects`, with the purpose optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSubject {
    #[serde(default)]
    purpose: Option<String>,
    fields: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    consents: Vec<String>,
    #[serde(default)]
    evidence: Option<JsonEvidence>,
    /// Bases established with the registration: the contract or order that shows each.
    #[serde(default)]
    bases: Vec<JsonBasis>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBasis {
    purpose: String,
    reference: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEvidence {
    channel: String,
    #[serde(default)]
    policy_version: Option<String>,
    #[serde(default)]
    text_ref: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
}

/// A name from the input, quoted back only if it is shaped like a policy name: anything else
/// may be a value pasted into the wrong place.
fn name(s: &str) -> &str {
    let ok = s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        s
    } else {
        "(not a field name)"
    }
}

/// One input line: its number and the subject, or why it is not one.
type Parsed = (u64, Result<NewSubjectInput, String>);

fn evidence_for(consents: &[String], evidence: Option<Evidence>, channel: &str) -> Option<Evidence> {
    evidence.or_else(|| {
        (!consents.is_empty()).then(|| Evidence {
            channel: channel.to_owned(),
            ..Evidence::default()
        })
    })
}

fn parse_json_line(text: &str, args: &ImportArgs) -> Result<NewSubjectInput, String> {
    let s: JsonSubject = serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                format!("invalid_json: not valid JSON (column {})", e.column())
            }
            Category::Data => format!(
                "invalid_json: not a subject object {{\"purpose\", \"fields\", \"consents\", \"evidence\", \"bases\"}} (column {})",
                e.column()
            ),
        }
    })?;
    let mut fields = BTreeMap::new();
    let mut bad = Vec::new();
    for (k, v) in s.fields {
        match v {
            serde_json::Value::String(v) => {
                fields.insert(k, v);
            }
            _ => bad.push(name(&k).to_owned()),
        }
    }
    if !bad.is_empty() {
        return Err(format!("invalid_fields: {}: expected a string", bad.join(", ")));
    }
    let evidence = s.evidence.map(|e| Evidence {
        channel: e.channel,
        policy_version: e.policy_version,
        text_ref: e.text_ref,
        ip: e.ip,
        user_agent: e.user_agent,
        ..Evidence::default()
    });
    Ok(NewSubjectInput {
        bases: s
            .bases
            .into_iter()
            .map(|b| ward_vault::BasisInput {
                purpose: b.purpose,
                kind: ward_core::basis::BasisEventKind::Established,
                start: None,
                evidence: ward_core::basis::BasisEvidence {
                    reference: b.reference,
                    note: b.note,
                },
            })
            .collect(),
        age_band: None,
        purpose: s.purpose.unwrap_or_else(|| args.purpose.clone()),
        evidence: evidence_for(&s.consents, evidence, &args.channel),
        fields,
        consents: s.consents,
    })
}

fn parse_csv_record(headers: &csv::StringRecord, record: &csv::StringRecord, args: &ImportArgs) -> NewSubjectInput {
    let mut fields = BTreeMap::new();
    let mut consents = Vec::new();
    let mut channel = None;
    let mut purpose = None;
    for (h, v) in headers.iter().zip(record.iter()) {
        match h.trim() {
            "consents" => consents.extend(v.split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned)),
            "channel" if !v.trim().is_empty() => channel = Some(v.trim().to_owned()),
            "purpose" if !v.trim().is_empty() => purpose = Some(v.trim().to_owned()),
            "channel" | "purpose" => {}
            field if !v.is_empty() => {
                fields.insert(field.to_owned(), v.to_owned());
            }
            _ => {}
        }
    }
    let evidence = channel.map(|channel| Evidence {
        channel,
        ..Evidence::default()
    });
    NewSubjectInput {
        bases: Vec::new(),
        age_band: None,
        purpose: purpose.unwrap_or_else(|| args.purpose.clone()),
        evidence: evidence_for(&consents, evidence, &args.channel),
        fields,
        consents,
    }
}

/// What went wrong with one subject, without its values.
fn describe(e: &VaultError) -> String {
    let mut s = format!("{}: {e}", e.code());
    if let VaultError::InvalidFields(problems) = e {
        let list: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", name(&p.field), p.message))
            .collect();
        s = format!("{}: {}", e.code(), list.join("; "));
    }
    s
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

struct Tally {
    imported: u64,
    rejected: u64,
    /// A failure of storage, not of the line: stop.
    fatal: Option<String>,
    ids: Option<std::io::BufWriter<std::fs::File>>,
}

type Pending = JoinHandle<(Vec<u64>, VaultResult<Vec<VaultResult<SubjectId>>>)>;

impl Tally {
    fn reject(&mut self, bar: &ProgressBar, line: u64, why: &str) {
        self.rejected += 1;
        bar.suspend(|| eprintln!("line {line}: {why}"));
    }

    async fn settle(&mut self, bar: &ProgressBar, pending: Pending) -> Result<()> {
        let (lines, results) = pending.await.context("an import batch failed")?;
        let results = match results {
            Ok(r) => r,
            Err(e) => lines.iter().map(|_| Err(e.clone())).collect(),
        };
        for (line, r) in lines.into_iter().zip(results) {
            match r {
                Ok(id) => {
                    self.imported += 1;
                    if let Some(w) = &mut self.ids {
                        writeln!(w, "{line}\t{id}").context("writing the ids file")?;
                    }
                }
                Err(e) => {
                    if matches!(e, VaultError::Unavailable(_) | VaultError::Internal(_)) && self.fatal.is_none() {
                        self.fatal = Some(describe(&e));
                    }
                    self.reject(bar, line, &describe(&e));
                }
            }
        }
        bar.set_message(format!("{} imported, {} rejected", self.imported, self.rejected));
        Ok(())
    }
}

fn submit(vault: &Vault, chunk: Vec<(u64, NewSubjectInput)>) -> Pending {
    let vault = vault.clone();
    tokio::spawn(async move {
        let (lines, inputs): (Vec<u64>, Vec<NewSubjectInput>) = chunk.into_iter().unzip();
        let results = vault.subjects().create_many(&Caller::cli(), inputs).await;
        (lines, results)
    })
}

pub async fn run(args: ImportArgs, cfg: &Config) -> Result<ExitCode> {
    let format = args.format.unwrap_or_else(|| {
        if args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            ImportFormat::Csv
        } else {
            ImportFormat::Jsonl
        }
    });
    let stdin = args.file.as_os_str() == "-";
    let (reader, total): (Box<dyn Read + Send>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let ids = match &args.ids {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let bar = match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
            )
            .context("the progress bar's template")?,
        ),
        None => ProgressBar::new_spinner(),
    };
    let reader = Counting {
        inner: reader,
        bar: bar.clone(),
    };
    // Lines are read and parsed on a thread of their own and handed over in chunks.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Parsed>>(IN_FLIGHT * 2);
    let parse_args = ImportArgs {
        file: args.file.clone(),
        format: Some(format),
        purpose: args.purpose.clone(),
        channel: args.channel.clone(),
        ids: None,
    };
    let reader_thread = std::thread::spawn(move || -> Result<()> {
        let mut chunk = Vec::with_capacity(CHUNK);
        let send = |chunk: &mut Vec<Parsed>| -> bool {
            let full = std::mem::replace(chunk, Vec::with_capacity(CHUNK));
            tx.blocking_send(full).is_ok()
        };
        match format {
            ImportFormat::Jsonl => {
                for (i, line) in BufReader::new(reader).lines().enumerate() {
                    let line = line.context("reading the file")?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    chunk.push((i as u64 + 1, parse_json_line(&line, &parse_args)));
                    if chunk.len() >= CHUNK && !send(&mut chunk) {
                        return Ok(());
                    }
                }
            }
            ImportFormat::Csv => {
                let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
                let headers = r.headers().context("reading the CSV header")?.clone();
                let mut record = csv::StringRecord::new();
                loop {
                    let line = r.position().line() + 1;
                    match r.read_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {
                            let line = record.position().map_or(line, |p| p.line());
                            chunk.push((line, Ok(parse_csv_record(&headers, &record, &parse_args))));
                        }
                        Err(e) => {
                            let line = e.position().map_or(line, |p| p.line());
                            if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                                return Err(anyhow::Error::new(e).context("reading the file"));
                            }
                            chunk.push((
                                line,
                                Err("invalid_csv: not a well-formed record of the header's columns".into()),
                            ));
                        }
                    }
                    if chunk.len() >= CHUNK && !send(&mut chunk) {
                        return Ok(());
                    }
                }
            }
        }
        if !chunk.is_empty() {
            send(&mut chunk);
        }
        Ok(())
    });

    let started = Instant::now();
    let bar2 = bar.clone();
    let code = with_vault(cfg, |vault| async move {
        let bar = bar2;
        let mut tally = Tally {
            imported: 0,
            rejected: 0,
            fatal: None,
            ids,
        };
        let mut pending: VecDeque<Pending> = VecDeque::new();
        let mut valid: Vec<(u64, NewSubjectInput)> = Vec::with_capacity(CHUNK);
        let mut last_line = 0;
        while let Some(parsed) = rx.recv().await {
            for (line, p) in parsed {
                last_line = line;
                match p {
                    Ok(input) => valid.push((line, input)),
                    Err(why) => tally.reject(&bar, line, &why),
                }
            }
            if valid.len() >= CHUNK {
                pending.push_back(submit(&vault, std::mem::replace(&mut valid, Vec::with_capacity(CHUNK))));
            }
            while pending.len() >= IN_FLIGHT {
                if let Some(p) = pending.pop_front() {
                    tally.settle(&bar, p).await?;
                }
            }
            if tally.fatal.is_some() {
                break;
            }
        }
        if tally.fatal.is_none() && !valid.is_empty() {
            pending.push_back(submit(&vault, valid));
        }
        while let Some(p) = pending.pop_front() {
            tally.settle(&bar, p).await?;
        }
        if let Some(w) = &mut tally.ids {
            w.flush().context("writing the ids file")?;
        }
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "imported {} subjects, {} lines rejected, in {secs:.1}s ({:.0} subjects/s)",
            tally.imported,
            tally.rejected,
            tally.imported as f64 / secs.max(1e-9)
        );
        if let Some(f) = &tally.fatal {
            eprintln!("stopped after line {last_line}: {f}; the lines after it were not imported");
        }
        Ok(if tally.rejected == 0 && tally.fatal.is_none() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
    .await?;
    match reader_thread.join() {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the file reader failed"),
    }
    Ok(code)
}
