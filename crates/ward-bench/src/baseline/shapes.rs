//! What Ward wrote, measured from its database in this run: the rows a registration, a
//! withdrawal and an erasure left, which the raw writer then writes again by plain SQL.

use super::{postgres, sqlite, Db, RawOp};
use anyhow::{bail, Result};

/// One journal row as Ward wrote it, but for its position and hashes.
#[derive(Debug, Clone)]
pub struct JournalShape {
    pub actor: String,
    pub action: String,
    pub purpose: Option<String>,
    pub fields: String,
    pub detail: Option<String>,
}

/// One consent event row as Ward wrote it, but for its evidence bytes.
#[derive(Debug, Clone)]
pub struct ConsentShape {
    pub purpose: String,
    pub kind: String,
    pub policy_version: String,
    pub evidence_len: Option<usize>,
}

pub(super) fn consent_shape(purpose: String, kind: String, policy_version: String, len: Option<i64>) -> ConsentShape {
    ConsentShape {
        purpose,
        kind,
        policy_version,
        evidence_len: len.map(|n| usize::try_from(n).unwrap_or(0)),
    }
}

/// A destruction act as Ward wrote it, but for its id, subject and time.
#[derive(Debug, Clone)]
pub struct ActShape {
    pub cause: String,
    pub operator: String,
    pub operator_address: Option<String>,
    pub processor: Option<String>,
    pub destroyed_by: String,
    pub position: String,
    pub categories: String,
    pub fields: String,
    pub system: String,
    pub method: String,
    pub reason: String,
    pub withheld: String,
}

/// What Ward wrote, measured from its database in this run.
#[derive(Debug, Clone)]
pub struct Shapes {
    pub kek_id: String,
    pub wrapped_len: usize,
    pub fields_len: usize,
    pub index_fields: Vec<String>,
    pub create_consents: Vec<ConsentShape>,
    pub create_journal: Vec<JournalShape>,
    pub withdraw_consent: Option<ConsentShape>,
    pub withdraw_journal: Vec<JournalShape>,
    pub erase_journal: Vec<JournalShape>,
    /// The destruction job's act, journal rows, and the sealed fields' size after it.
    pub destroy_act: Option<ActShape>,
    pub destroy_journal: Vec<JournalShape>,
    pub destroyed_fields_len: usize,
}

impl Shapes {
    /// The journal rows Ward writes for `op`.
    pub(super) fn journal_of(&self, op: &RawOp) -> &[JournalShape] {
        match op {
            RawOp::Create(_) => &self.create_journal,
            RawOp::Withdraw(_) => &self.withdraw_journal,
            RawOp::Erase(_) => &self.erase_journal,
            RawOp::Destroy(_) => &self.destroy_journal,
        }
    }
}

/// A subject's row sizes: its key-encryption key's id, the wrapped key's length, the
/// average sealed-fields length of active subjects, and its index entries' field names.
pub(super) struct SubjectSizes {
    kek_id: String,
    wrapped_len: usize,
    fields_len: usize,
    index_fields: Vec<String>,
}

impl SubjectSizes {
    pub(super) fn new(kek_id: String, wrapped_len: i64, avg_fields_len: f64, index_fields: Vec<String>) -> Self {
        Self {
            kek_id,
            wrapped_len: usize::try_from(wrapped_len).unwrap_or(0),
            fields_len: avg_fields_len.round().max(0.0) as usize,
            index_fields,
        }
    }
}

/// The journal actions of a registration: the subject's data collected, its consents given,
/// the basis its collection established. (The raw writer writes the journal rows but not the
/// `basis_events` row: one row less than Ward writes, which flatters the baseline, not Ward.)
const CREATION_ACTIONS: [&str; 3] = ["collection", "consent.given", "basis.established"];

impl Db {
    async fn journal_rows(&mut self, subject: &[u8]) -> Result<Vec<JournalShape>> {
        match self {
            Db::Sqlite(c) => sqlite::journal_rows(c, subject).await,
            Db::Pg(c) => postgres::journal_rows(c, subject).await,
        }
    }

    async fn consent_rows(&mut self, subject: &[u8]) -> Result<Vec<ConsentShape>> {
        match self {
            Db::Sqlite(c) => sqlite::consent_rows(c, subject).await,
            Db::Pg(c) => postgres::consent_rows(c, subject).await,
        }
    }

    async fn act_row(&mut self, subject: &[u8]) -> Result<Option<ActShape>> {
        match self {
            Db::Sqlite(c) => sqlite::act_row(c, subject).await,
            Db::Pg(c) => postgres::act_row(c, subject).await,
        }
    }

    /// How many destruction acts there are.
    pub async fn count_acts(&mut self) -> Result<u64> {
        match self {
            Db::Sqlite(c) => sqlite::count_acts(c).await,
            Db::Pg(c) => postgres::count_acts(c).await,
        }
    }

    async fn subject_sizes(&mut self, subject: &[u8]) -> Result<SubjectSizes> {
        match self {
            Db::Sqlite(c) => sqlite::subject_sizes(c, subject).await,
            Db::Pg(c) => postgres::subject_sizes(c, subject).await,
        }
    }

    /// Measures what Ward wrote for `created`, a subject just registered: call it before the
    /// subject is read, or its journal rows would include the reads.
    pub async fn created_shapes(&mut self, created: &[u8; 16]) -> Result<Shapes> {
        let SubjectSizes {
            kek_id,
            wrapped_len,
            fields_len,
            index_fields,
        } = self.subject_sizes(created).await?;
        let create_consents = self.consent_rows(created).await?;
        let create_journal = self.journal_rows(created).await?;
        if let Some(j) = create_journal
            .iter()
            .find(|j| !CREATION_ACTIONS.contains(&j.action.as_str()))
        {
            bail!(
                "the subject measured for the write baselines has a journal row of action {:?}: \
                 it was measured after something other than its registration",
                j.action
            );
        }
        Ok(Shapes {
            kek_id,
            wrapped_len,
            fields_len,
            index_fields,
            create_consents,
            create_journal,
            withdraw_consent: None,
            withdraw_journal: Vec::new(),
            erase_journal: Vec::new(),
            destroy_act: None,
            destroy_journal: Vec::new(),
            destroyed_fields_len: 0,
        })
    }

    /// Adds to `shapes` what Ward wrote for `erased`, a subject whose consent was withdrawn and
    /// who was then erased.
    pub async fn add_erasure(&mut self, shapes: &mut Shapes, erased: &[u8; 16]) -> Result<()> {
        let consents = self.consent_rows(erased).await?;
        shapes.withdraw_consent = consents.into_iter().find(|c| c.kind == "withdrawn");
        for j in self.journal_rows(erased).await? {
            match j.action.as_str() {
                "consent.withdrawn" => shapes.withdraw_journal.push(j),
                "destruction" => shapes.erase_journal.push(j),
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds to `shapes` what the destruction job wrote for `destroyed`: its act, its journal
    /// rows, and the sealed fields' size left (the average over active subjects, every one of
    /// which the job has just been through).
    pub async fn add_destruction(&mut self, shapes: &mut Shapes, destroyed: &[u8; 16]) -> Result<()> {
        shapes.destroy_act = self.act_row(destroyed).await?;
        if shapes.destroy_act.is_none() {
            bail!("the subject measured for the destruction baseline has no act");
        }
        shapes.destroy_journal = self
            .journal_rows(destroyed)
            .await?
            .into_iter()
            .filter(|j| j.action == "destruction")
            .collect();
        shapes.destroyed_fields_len = self.subject_sizes(destroyed).await?.fields_len;
        Ok(())
    }
}
