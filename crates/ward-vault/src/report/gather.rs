//! What an access report or a copy of the data is made of, read for one subject: its record
//! and standing (consents, other legal bases, blocks), its own fields opened through the gate
//! (reason `access_request`), and the journal entries about it. Nothing of another subject is
//! read: every read here goes by this subject's id.

use crate::context::Op;
use crate::error::VaultResult;
use crate::gate::{Gate, Reason};
use crate::subjects::Loaded;
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::access::Role;
use ward_core::standing::PurposeConsent;
use ward_core::SubjectId;
use ward_store::{BlockRecord, JournalEntry, JournalFilter};

/// How many journal entries one page reads.
const PAGE: u32 = 1000;

/// One subject's report material.
pub(crate) struct Gathered {
    pub loaded: Loaded,
    /// Each consent purpose's standing (with its history in `loaded.events`).
    pub consent: BTreeMap<String, PurposeConsent>,
    /// The subject's fields, opened: name → value.
    pub fields: BTreeMap<String, String>,
    /// The journal entries about the subject, oldest first.
    pub journal: Vec<JournalEntry>,
    /// API key id → its role, to say which role acted (never the key itself).
    pub roles: BTreeMap<String, Role>,
    pub blocks: Vec<BlockRecord>,
}

impl Vault {
    /// Reads everything about subject `id` a report needs, opening its fields through a gate
    /// for `op` with reason `access_request`: the caller journals the gate's openings.
    pub(crate) async fn gather(&self, op: &Op<'_>, id: SubjectId) -> VaultResult<(Gathered, Gate)> {
        let loaded = self.load_active(op, id).await?;
        let consent = self.consent_standing(op, &loaded.events);
        let mut gate = self.gate(op, &loaded.record, Reason::AccessRequest, None)?;
        let names: Vec<String> = Vault::sealed_fields(&loaded.record)?.into_keys().collect();
        let fields = Vault::open_fields(&mut gate, &loaded.record, &names)?;
        let filter = JournalFilter {
            subject: Some(id),
            ..JournalFilter::default()
        };
        let mut journal = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store().find_journal_page(&filter, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            after = page.last().map_or(after, |e| e.seq);
            journal.extend(page);
            if !full {
                break;
            }
        }
        let roles = self
            .store()
            .find_api_keys()
            .await?
            .into_iter()
            .map(|k| (k.id, k.role))
            .collect();
        let blocks = self.store().find_blocks(id).await?;
        Ok((
            Gathered {
                loaded,
                consent,
                fields,
                journal,
                roles,
                blocks,
            },
            gate,
        ))
    }
}
