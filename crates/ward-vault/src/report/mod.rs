//! The access report (152-FZ Art. 14 p. 7 items 1–11; GDPR Art. 15), the copy of the data
//! (GDPR Art. 20) and the single-use links that release them (issue 19).
//!
//! A report is built for one subject from the policy in force, the subject's standing, its
//! own fields (opened through the gate, reason `access_request`) and the journal entries about
//! it (`gather.rs`); every read goes by that subject's id, so a report never holds another
//! subject's data. `sections.rs` lays out the legal items, `render.rs` the formats, and
//! `downloads.rs` seals a document under the subject's key behind a link whose token is shown
//! once and stored only as its SHA-256.

mod downloads;
mod gather;
mod render;
mod sections;

pub use downloads::{DownloadState, DownloadView, Issued, Served, DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS};
pub use render::ExportFormat;

use crate::context::Op;
use crate::error::VaultResult;
use crate::Vault;
use gather::Gathered;
use sections::rfc3339;
use serde::Serialize;
use ward_core::authz::Operation;
use ward_core::{Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_store::Change;

/// The policy version a document was made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    pub id: String,
    pub version: String,
    pub hash: String,
}

/// One section of the access report: the legal item it answers and its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The item of 152-FZ Art. 14 p. 7, `1` to `11`.
    pub item: String,
    pub law: String,
    /// The GDPR provision the section also serves.
    pub gdpr: String,
    pub title: String,
    pub title_ru: String,
    pub content: serde_json::Value,
}

/// The access report (`ward.access_report.v1`): see docs/access-report.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessReport {
    pub document: &'static str,
    pub subject: String,
    pub generated_at: String,
    pub operator: String,
    pub policy: PolicyRef,
    pub sections: Vec<Section>,
}

impl AccessReport {
    /// The report as a readable HTML page.
    pub fn html(&self) -> String {
        render::report_html(self)
    }
}

/// One field of the copy of the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyField {
    pub category: String,
    pub field: String,
    pub title: String,
    pub value: String,
}

/// The copy of the data (`ward.data_copy.v1`): see docs/access-report.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataCopy {
    pub document: &'static str,
    pub subject: String,
    pub generated_at: String,
    pub operator: String,
    pub policy: PolicyRef,
    pub fields: Vec<CopyField>,
}

/// The reports service, reached by [`Vault::reports`].
#[derive(Clone, Copy)]
pub struct Reports<'v>(pub(crate) &'v Vault);

fn policy_ref(op: &Op<'_>) -> PolicyRef {
    let p = op.policy();
    PolicyRef {
        id: p.id.clone(),
        version: p.version.clone(),
        hash: op.hash().to_owned(),
    }
}

pub(crate) fn report_of(op: &Op<'_>, id: SubjectId, g: &Gathered) -> AccessReport {
    let policy = op.policy();
    AccessReport {
        document: "ward.access_report.v1",
        subject: id.to_string(),
        generated_at: rfc3339(op.now),
        operator: policy.operator.name.clone(),
        policy: policy_ref(op),
        sections: sections::sections(policy, g, op.now),
    }
}

pub(crate) fn copy_of(op: &Op<'_>, id: SubjectId, g: &Gathered) -> DataCopy {
    let policy = op.policy();
    let fields = g
        .fields
        .iter()
        .map(|(name, value)| {
            let def = policy.field(name);
            CopyField {
                category: def.map(|d| d.category.clone()).unwrap_or_default(),
                field: name.clone(),
                title: def.map(|d| d.title.clone()).unwrap_or_default(),
                value: value.clone(),
            }
        })
        .collect();
    DataCopy {
        document: "ward.data_copy.v1",
        subject: id.to_string(),
        generated_at: rfc3339(op.now),
        operator: policy.operator.name.clone(),
        policy: policy_ref(op),
        fields,
    }
}

impl Reports<'_> {
    /// The subject's access report, for the officer to review before release. Its fields are
    /// opened through the gate (reason `access_request`), journaled as a retrieval before the
    /// report is answered.
    pub async fn access_report(&self, caller: &Caller, id: SubjectId) -> VaultResult<AccessReport> {
        let v = self.0;
        let op = v.op(caller, Operation::AccessReport)?;
        let (g, gate) = v.gather(&op, id).await?;
        let report = report_of(&op, id, &g);
        let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
            .subject(id)
            .detail("opened:access_request document:access_report");
        v.commit(Change::JournalOnly, vec![g.loaded.stamp(gate.stamp(entry))])
            .await?;
        Ok(report)
    }
}
