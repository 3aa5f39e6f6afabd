//! Turning stored rows back into Ward's records: the one place that knows each record's
//! columns. A backend selects a record's [`Columns::select`] list (in that order) and hands
//! the row, through its driver's [`Row`], to the record's decoder, which reads the columns by
//! position. Whatever does not parse is [`StoreError::Corrupt`] naming the table and column,
//! never a panic. Shared by the backends.

use crate::write::split_names;
use crate::{
    ApiKeyRecord, BasisEventRecord, ConsentEventRecord, IdempotencyClaim, IdempotencyRecord, JournalEntry,
    PolicyVersionRecord, SealedAnswer, StoreError, SubjectEventRecord, SubjectRecord, VisitorConsent,
    VisitorConsentRecord, WrappedKey, WrappedKeyRecord,
};
use std::str::FromStr;
use ward_core::access::SubjectState;
use ward_core::clock::from_micros;
use ward_core::cookies::parse_summary;
use ward_core::SubjectId;
use ward_crypto::{Checkpoint, Hash32};

type Result<T> = std::result::Result<T, StoreError>;

pub fn corrupt(table: &str, column: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table}.{column}: {what}"))
}

pub fn subject_id(bytes: &[u8], table: &str, column: &str) -> Result<SubjectId> {
    let b: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt(table, column, "expected 16 bytes"))?;
    Ok(SubjectId::from_bytes(b))
}

pub fn hash32(bytes: &[u8], table: &str, column: &str) -> Result<Hash32> {
    bytes
        .try_into()
        .map_err(|_| corrupt(table, column, "expected 32 bytes"))
}

/// Parses a stored name (state, role, consent kind) into its enum.
pub fn parse<T: FromStr>(s: &str, table: &str, column: &str) -> Result<T> {
    s.parse().map_err(|_| corrupt(table, column, "not a known value"))
}

/// A row as a backend's driver returns it, read by column position. `Ok(None)` is NULL; `Err`
/// is the driver's description of a value of the wrong type.
pub trait Row {
    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String>;
    fn text(&self, i: usize) -> std::result::Result<Option<String>, String>;
    fn bytes(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String>;
    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String>;
}

/// A record's table and the columns its decoder reads, in order.
#[derive(Debug)]
pub struct Columns {
    pub table: &'static str,
    /// The select list, comma-separated, in the decoder's order.
    pub select: &'static str,
    /// The columns' names, for errors (one per item of `select`).
    pub names: &'static [&'static str],
}

impl Columns {
    /// The select list with every column qualified by `alias` (e.g. `s.id, s.state, …`), for
    /// joins. Only for records whose select list is plain column names.
    pub fn qualified(&self, alias: &str) -> String {
        self.names
            .iter()
            .map(|n| format!("{alias}.{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How many columns the record takes, e.g. to find the next record's in a joined row.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Reads the columns of one record from a row, starting at column `base`.
struct Cols<'r, R: Row + ?Sized> {
    row: &'r R,
    base: usize,
    of: &'static Columns,
}

impl<'r, R: Row + ?Sized> Cols<'r, R> {
    fn new(row: &'r R, base: usize, of: &'static Columns) -> Self {
        Self { row, base, of }
    }

    fn name(&self, k: usize) -> &'static str {
        self.of.names.get(k).copied().unwrap_or("?")
    }

    fn wrong(&self, k: usize, e: String) -> StoreError {
        corrupt(self.of.table, self.name(k), e)
    }

    fn required<T>(&self, k: usize, v: Option<T>) -> Result<T> {
        v.ok_or_else(|| corrupt(self.of.table, self.name(k), "unexpected NULL"))
    }

    fn opt_int(&self, k: usize) -> Result<Option<i64>> {
        self.row.int(self.base + k).map_err(|e| self.wrong(k, e))
    }
    fn int(&self, k: usize) -> Result<i64> {
        self.required(k, self.opt_int(k)?)
    }
    fn opt_text(&self, k: usize) -> Result<Option<String>> {
        self.row.text(self.base + k).map_err(|e| self.wrong(k, e))
    }
    fn text(&self, k: usize) -> Result<String> {
        self.required(k, self.opt_text(k)?)
    }
    fn opt_bytes(&self, k: usize) -> Result<Option<Vec<u8>>> {
        self.row.bytes(self.base + k).map_err(|e| self.wrong(k, e))
    }
    fn bytes(&self, k: usize) -> Result<Vec<u8>> {
        self.required(k, self.opt_bytes(k)?)
    }
    fn boolean(&self, k: usize) -> Result<bool> {
        let v = self.row.boolean(self.base + k).map_err(|e| self.wrong(k, e))?;
        self.required(k, v)
    }
    fn parse<T: FromStr>(&self, k: usize) -> Result<T> {
        parse(&self.text(k)?, self.of.table, self.name(k))
    }
    fn subject_id(&self, k: usize) -> Result<SubjectId> {
        subject_id(&self.bytes(k)?, self.of.table, self.name(k))
    }
    fn opt_subject_id(&self, k: usize) -> Result<Option<SubjectId>> {
        self.opt_bytes(k)?
            .map(|b| subject_id(&b, self.of.table, self.name(k)))
            .transpose()
    }
    fn hash32(&self, k: usize) -> Result<Hash32> {
        hash32(&self.bytes(k)?, self.of.table, self.name(k))
    }
    /// A column that only an active subject has.
    fn active<T>(&self, k: usize, v: Option<T>) -> Result<T> {
        v.ok_or_else(|| corrupt(self.of.table, self.name(k), "missing for an active subject"))
    }
}

pub static SUBJECT: Columns = Columns {
    table: "subjects",
    select: "id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields",
    names: &[
        "id",
        "state",
        "revision",
        "created_at",
        "updated_at",
        "erased_at",
        "kek_id",
        "wrapped_key",
        "fields",
    ],
};

/// A subject from the [`SUBJECT`] columns at `base`.
pub fn subject(row: &(impl Row + ?Sized), base: usize) -> Result<SubjectRecord> {
    let c = Cols::new(row, base, &SUBJECT);
    let state: SubjectState = c.parse(1)?;
    let (key, fields) = match state {
        SubjectState::Active => {
            let kek_id = c.active(6, c.opt_text(6)?)?;
            let wrapped = c.active(7, c.opt_bytes(7)?)?;
            let fields = c.active(8, c.opt_bytes(8)?)?;
            (Some(WrappedKey { kek_id, wrapped }), Some(fields))
        }
        SubjectState::Erased => (None, None),
    };
    Ok(SubjectRecord {
        id: c.subject_id(0)?,
        state,
        revision: c.int(2)?,
        created_at: from_micros(c.int(3)?),
        updated_at: from_micros(c.int(4)?),
        erased_at: c.opt_int(5)?.map(from_micros),
        key,
        fields,
    })
}

pub static WRAPPED_KEY: Columns = Columns {
    table: "subjects",
    select: "id, kek_id, wrapped_key",
    names: &["id", "kek_id", "wrapped_key"],
};

/// A live subject's wrapped key from the [`WRAPPED_KEY`] columns.
pub fn wrapped_key(row: &(impl Row + ?Sized)) -> Result<WrappedKeyRecord> {
    let c = Cols::new(row, 0, &WRAPPED_KEY);
    Ok(WrappedKeyRecord {
        subject: c.subject_id(0)?,
        key: WrappedKey {
            kek_id: c.active(1, c.opt_text(1)?)?,
            wrapped: c.active(2, c.opt_bytes(2)?)?,
        },
    })
}

pub static CONSENT_EVENT: Columns = Columns {
    table: "consent_events",
    select: "purpose, kind, at, policy_version, evidence",
    names: &["purpose", "kind", "at", "policy_version", "evidence"],
};

/// A consent event from the [`CONSENT_EVENT`] columns at `base`.
pub fn consent_event(row: &(impl Row + ?Sized), base: usize) -> Result<ConsentEventRecord> {
    let c = Cols::new(row, base, &CONSENT_EVENT);
    Ok(ConsentEventRecord {
        purpose: c.text(0)?,
        kind: c.parse(1)?,
        at: from_micros(c.int(2)?),
        policy_version: c.text(3)?,
        evidence: c.opt_bytes(4)?,
    })
}

/// Whether the [`CONSENT_EVENT`] columns at `base` hold an event (not the NULLs of an outer
/// join that found none).
pub fn has_consent_event(row: &(impl Row + ?Sized), base: usize) -> Result<bool> {
    Ok(Cols::new(row, base, &CONSENT_EVENT).opt_text(0)?.is_some())
}

pub static BASIS_EVENT: Columns = Columns {
    table: "basis_events",
    select: "purpose, kind, at, start, policy_version, evidence",
    names: &["purpose", "kind", "at", "start", "policy_version", "evidence"],
};

/// A basis event from the [`BASIS_EVENT`] columns.
pub fn basis_event(row: &(impl Row + ?Sized)) -> Result<BasisEventRecord> {
    let c = Cols::new(row, 0, &BASIS_EVENT);
    Ok(BasisEventRecord {
        purpose: c.text(0)?,
        kind: c.parse(1)?,
        at: from_micros(c.int(2)?),
        start: from_micros(c.int(3)?),
        policy_version: c.text(4)?,
        evidence: c.opt_bytes(5)?,
    })
}

pub static SUBJECT_EVENT: Columns = Columns {
    table: "subject_events",
    select: "kind, at, policy_version, evidence",
    names: &["kind", "at", "policy_version", "evidence"],
};

pub fn subject_event(row: &(impl Row + ?Sized)) -> Result<SubjectEventRecord> {
    let c = Cols::new(row, 0, &SUBJECT_EVENT);
    Ok(SubjectEventRecord {
        kind: c.parse(0)?,
        at: from_micros(c.int(1)?),
        policy_version: c.opt_text(2)?,
        evidence: c.opt_bytes(3)?,
    })
}

pub static JOURNAL_ENTRY: Columns = Columns {
    table: "journal",
    select: "seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash",
    names: &[
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "purpose",
        "fields",
        "detail",
        "prev_hash",
        "hash",
    ],
};

pub fn journal_entry(row: &(impl Row + ?Sized)) -> Result<JournalEntry> {
    let c = Cols::new(row, 0, &JOURNAL_ENTRY);
    Ok(JournalEntry {
        seq: c.int(0)?,
        at: from_micros(c.int(1)?),
        actor: c.text(2)?,
        action: c.text(3)?,
        subject: c.opt_subject_id(4)?,
        purpose: c.opt_text(5)?,
        fields: split_names(&c.text(6)?),
        detail: c.opt_text(7)?,
        prev_hash: c.hash32(8)?,
        hash: c.hash32(9)?,
    })
}

pub static CHECKPOINT: Columns = Columns {
    table: "journal_checkpoints",
    select: "seq, head, at, key_id, signature",
    names: &["seq", "head", "at", "key_id", "signature"],
};

pub fn checkpoint(row: &(impl Row + ?Sized)) -> Result<Checkpoint> {
    let c = Cols::new(row, 0, &CHECKPOINT);
    Ok(Checkpoint {
        seq: c.int(0)?,
        head: c.hash32(1)?,
        at_micros: c.int(2)?,
        key_id: c.text(3)?,
        signature: c.bytes(4)?,
    })
}

pub static API_KEY: Columns = Columns {
    table: "api_keys",
    select: "id, name, role, purposes, token_hash, created_at, revoked_at",
    names: &[
        "id",
        "name",
        "role",
        "purposes",
        "token_hash",
        "created_at",
        "revoked_at",
    ],
};

pub fn api_key(row: &(impl Row + ?Sized)) -> Result<ApiKeyRecord> {
    let c = Cols::new(row, 0, &API_KEY);
    Ok(ApiKeyRecord {
        id: c.text(0)?,
        name: c.text(1)?,
        role: c.parse(2)?,
        purposes: split_names(&c.text(3)?),
        token_hash: c.bytes(4)?,
        created_at: from_micros(c.int(5)?),
        revoked_at: c.opt_int(6)?.map(from_micros),
    })
}

pub static POLICY_VERSION: Columns = Columns {
    table: "policy_versions",
    // Versions recorded before `effective_at` existed are in force from when they were recorded.
    select: "hash, policy_id, version, source, text, COALESCE(effective_at, recorded_at), recorded_at",
    names: &[
        "hash",
        "policy_id",
        "version",
        "source",
        "text",
        "effective_at",
        "recorded_at",
    ],
};

pub fn policy_version(row: &(impl Row + ?Sized)) -> Result<PolicyVersionRecord> {
    let c = Cols::new(row, 0, &POLICY_VERSION);
    Ok(PolicyVersionRecord {
        hash: c.text(0)?,
        policy_id: c.text(1)?,
        version: c.text(2)?,
        source: c.text(3)?,
        text: c.opt_text(4)?,
        effective_at: from_micros(c.int(5)?),
        recorded_at: from_micros(c.int(6)?),
    })
}

pub static VISITOR_CONSENT: Columns = Columns {
    table: "visitor_consents",
    select: "visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id",
    names: &[
        "visitor",
        "banner_version",
        "choices",
        "gpc",
        "gpc_overrode",
        "at",
        "subject_id",
    ],
};

pub fn visitor_consent(row: &(impl Row + ?Sized)) -> Result<VisitorConsentRecord> {
    let c = Cols::new(row, 0, &VISITOR_CONSENT);
    let choices = parse_summary(&c.text(2)?)
        .ok_or_else(|| corrupt(VISITOR_CONSENT.table, "choices", "not a list of category=choice"))?;
    Ok(VisitorConsentRecord {
        consent: VisitorConsent {
            visitor: c.hash32(0)?,
            banner_version: c.text(1)?,
            choices,
            gpc: c.boolean(3)?,
            gpc_overrode: c.boolean(4)?,
            at: from_micros(c.int(5)?),
        },
        subject: c.opt_subject_id(6)?,
    })
}

pub static IDEMPOTENCY: Columns = Columns {
    table: "idempotency_keys",
    select: "key, fingerprint, created_at, expires_at, status, kek_id, wrapped_key, answer",
    names: &[
        "key",
        "fingerprint",
        "created_at",
        "expires_at",
        "status",
        "kek_id",
        "wrapped_key",
        "answer",
    ],
};

pub fn idempotency(row: &(impl Row + ?Sized)) -> Result<IdempotencyRecord> {
    let c = Cols::new(row, 0, &IDEMPOTENCY);
    let answer = match c.opt_int(4)? {
        None => None,
        Some(status) => Some(SealedAnswer {
            status: u16::try_from(status).map_err(|_| corrupt(IDEMPOTENCY.table, "status", "out of range"))?,
            kek_id: c.text(5)?,
            wrapped_key: c.bytes(6)?,
            body: c.bytes(7)?,
        }),
    };
    Ok(IdempotencyRecord {
        claim: IdempotencyClaim {
            key: c.hash32(0)?,
            fingerprint: c.hash32(1)?,
            created_at: from_micros(c.int(2)?),
            expires_at: from_micros(c.int(3)?),
        },
        answer,
    })
}

pub static ACT: Columns = Columns {
    table: "destruction_acts",
    select: "id, subject_id, cause, at, operator, operator_address, processor, destroyed_by, position, \
             categories, fields, system, method, reason, withheld",
    names: &[
        "id",
        "subject_id",
        "cause",
        "at",
        "operator",
        "operator_address",
        "processor",
        "destroyed_by",
        "position",
        "categories",
        "fields",
        "system",
        "method",
        "reason",
        "withheld",
    ],
};

/// A destruction act from the [`ACT`] columns.
pub fn act(row: &(impl Row + ?Sized)) -> Result<crate::DestructionActRecord> {
    let c = Cols::new(row, 0, &ACT);
    Ok(crate::DestructionActRecord {
        id: c.parse(0)?,
        subject: c.subject_id(1)?,
        cause: c.text(2)?,
        at: from_micros(c.int(3)?),
        operator: c.text(4)?,
        operator_address: c.opt_text(5)?,
        processor: c.opt_text(6)?,
        destroyed_by: c.text(7)?,
        position: c.text(8)?,
        categories: crate::write::split_names(&c.text(9)?),
        fields: crate::write::split_names(&c.text(10)?),
        system: c.text(11)?,
        method: c.text(12)?,
        reason: c.text(13)?,
        withheld: crate::write::split_names(&c.text(14)?),
    })
}

pub static BLOCK: Columns = Columns {
    table: "subject_blocks",
    select: "id, subject_id, categories, reason, at, lifted_at, erase_after",
    names: &[
        "id",
        "subject_id",
        "categories",
        "reason",
        "at",
        "lifted_at",
        "erase_after",
    ],
};

/// A block from the [`BLOCK`] columns.
pub fn block(row: &(impl Row + ?Sized)) -> Result<crate::BlockRecord> {
    let c = Cols::new(row, 0, &BLOCK);
    Ok(crate::BlockRecord {
        id: c.parse(0)?,
        subject: c.subject_id(1)?,
        categories: split_names(&c.text(2)?),
        reason: c.text(3)?,
        at: from_micros(c.int(4)?),
        lifted_at: c.opt_int(5)?.map(from_micros),
        erase_after: c.boolean(6)?,
    })
}

pub static MESSAGE: Columns = Columns {
    table: "outbox",
    select: "id, subject_id, template, language, payload, state, attempts, next_attempt_at, \
             claimed_by, claimed_until, created_at, sent_at",
    names: &[
        "id",
        "subject_id",
        "template",
        "language",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "claimed_until",
        "created_at",
        "sent_at",
    ],
};

/// A message from the [`MESSAGE`] columns.
pub fn message(row: &(impl Row + ?Sized)) -> Result<crate::MessageRecord> {
    let c = Cols::new(row, 0, &MESSAGE);
    let id: [u8; 16] = c
        .bytes(0)?
        .try_into()
        .map_err(|_| corrupt(MESSAGE.table, "id", "expected 16 bytes"))?;
    Ok(crate::MessageRecord {
        id: ward_core::MessageId::from_bytes(id),
        subject: c.subject_id(1)?,
        template: c.text(2)?,
        language: c.text(3)?,
        payload: c.bytes(4)?,
        state: c.parse(5)?,
        attempts: u32::try_from(c.int(6)?).map_err(|_| corrupt(MESSAGE.table, "attempts", "out of range"))?,
        next_attempt_at: from_micros(c.int(7)?),
        claimed_by: c.opt_text(8)?,
        claimed_until: c.opt_int(9)?.map(from_micros),
        created_at: from_micros(c.int(10)?),
        sent_at: c.opt_int(11)?.map(from_micros),
    })
}

mod requests;
pub use requests::{download, request, request_values, verification, DOWNLOAD, REQUEST, VERIFICATION};
