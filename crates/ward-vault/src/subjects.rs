//! Subjects: collection, purpose-bound reads and lookups, rectification, erasure.

use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::sealed::{self, SealedFields};
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::access::{AccessRequest, SubjectState};
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::journal::AdminEvent;
use ward_core::policy::Purpose;
use ward_core::{AccessRefusal, Caller, FieldValue, JournalDraft, Policy, ProcessingAction, SubjectId};
use ward_crypto::DataKey;
use ward_store::{Change, ConsentEventRecord, IndexEntry, NewSubject, OpOutcome, SubjectChange, SubjectRecord};

/// What a caller sends to register a subject.
#[derive(Debug, Clone)]
pub struct NewSubjectInput {
    /// The purpose of collection (e.g. `registration`).
    pub purpose: String,
    /// Field name → raw value, parsed by the field's type.
    pub fields: BTreeMap<String, String>,
    /// Consent-based purposes the subject consents to, given at collection.
    pub consents: Vec<String>,
    /// An age band the subject declared instead of a birth date: `"16-17"`, `"18+"`. Ward
    /// applies the age rules to its lower bound.
    pub age_band: Option<String>,
    /// How the data and consents were obtained. Required when `consents` is not empty;
    /// otherwise defaults to channel `api`.
    pub evidence: Option<Evidence>,
}

/// What a purpose-bound read returns.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectView {
    pub id: SubjectId,
    pub purpose: String,
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for SubjectView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectView")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A subject record loaded with its key and current consents.
pub(crate) struct Loaded {
    pub record: SubjectRecord,
    /// Consent-based purposes consented to now → the categories each consent covers.
    pub consents: BTreeMap<String, BTreeSet<String>>,
    /// The consent events those were derived from, oldest first.
    pub events: Vec<ConsentEventRecord>,
}

impl Vault {
    /// Parses every field, reporting all problems at once.
    fn parse_fields(&self, raw: &BTreeMap<String, String>) -> VaultResult<BTreeMap<String, FieldValue>> {
        let policy = self.policy();
        let mut out = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, value) in raw {
            match policy.field(name) {
                None => problems.push(FieldProblem {
                    field: name.clone(),
                    message: "this field is not declared in the policy".into(),
                }),
                Some(def) => match def.field_type.parse(value, &policy.default_region) {
                    Ok(v) => {
                        out.insert(name.clone(), v);
                    }
                    Err(e) => problems.push(FieldProblem {
                        field: name.clone(),
                        message: e.to_string(),
                    }),
                },
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(VaultError::InvalidFields(problems))
        }
    }

    pub(crate) fn seal_evidence(
        &self,
        key: &DataKey,
        id: SubjectId,
        purpose: &str,
        evidence: &Evidence,
    ) -> VaultResult<Vec<u8>> {
        let json = serde_json::to_vec(evidence).map_err(|e| VaultError::Internal(e.to_string()))?;
        Ok(key.seal(&sealed::evidence_aad(id, purpose), &json))
    }

    pub(crate) fn check_evidence(&self, evidence: &mut Evidence) -> VaultResult<()> {
        let ok = |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
        if evidence.channel.trim().is_empty() || !ok(&evidence.channel, 64) {
            return Err(VaultError::invalid(
                "invalid_evidence",
                "evidence.channel must be 1 to 64 characters (e.g. \"web_form\")",
            ));
        }
        for (name, v, max) in [
            ("policy_version", &evidence.policy_version, 128),
            ("text_ref", &evidence.text_ref, 512),
            ("ip", &evidence.ip, 64),
            ("user_agent", &evidence.user_agent, 1024),
        ] {
            if v.as_deref().is_some_and(|s| !ok(s, max)) {
                return Err(VaultError::invalid(
                    "invalid_evidence",
                    format!("evidence.{name} must be at most {max} characters, without control characters"),
                ));
            }
        }
        if let Some(ip) = &evidence.ip {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(VaultError::invalid(
                    "invalid_evidence",
                    "evidence.ip is not an IP address",
                ));
            }
        }
        if let Some(g) = &evidence.given_by {
            for (name, v, max) in [
                ("name", Some(&g.name), 300),
                ("identity_document", Some(&g.identity_document), 500),
                ("authority", Some(&g.authority), 500),
                ("verification", g.verification.as_ref(), 500),
            ] {
                if v.is_some_and(|s| s.trim().is_empty() || !ok(s, max)) {
                    return Err(VaultError::invalid(
                        "invalid_evidence",
                        format!("evidence.given_by.{name} must be 1 to {max} characters, without control characters"),
                    ));
                }
            }
        }
        if evidence.policy_version.is_none() {
            evidence.policy_version = Some(self.policy().version.clone());
        }
        Ok(())
    }

    /// Refuses a subject below an age threshold unless a parent or guardian consents as the
    /// rule requires (written for Russian minors of 14–17, verified for COPPA).
    fn check_age(
        &self,
        policy: &Policy,
        values: &BTreeMap<String, FieldValue>,
        age_band: Option<&str>,
        evidence: &Evidence,
    ) -> VaultResult<()> {
        let today = self.now().date();
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let birth = match (values.get("birth_date"), age_band) {
            (Some(b), _) => time::Date::parse(b.as_str(), &format).ok(),
            (None, Some(band)) => {
                let lower = parse_age_band(band)?;
                // The latest birth date that is still `lower` years old today.
                today.replace_year(today.year() - i32::from(lower)).ok()
            }
            (None, None) => None,
        };
        let Some(birth) = birth else { return Ok(()) };
        let rules = ward_core::age::rules(&policy.jurisdictions, policy.majority_age);
        let applicable = ward_core::age::applicable(&rules, birth, today);
        if applicable.is_empty() {
            return Ok(());
        }
        use ward_core::age::Needs;
        use ward_core::consent::{ConsentMethod, Role};
        let guardian = evidence
            .given_by
            .as_ref()
            .filter(|g| matches!(g.role, Role::Parent | Role::Guardian));
        let written = matches!(
            evidence.method,
            Some(ConsentMethod::Written | ConsentMethod::ESignature)
        );
        let unmet: Vec<String> = applicable
            .iter()
            .filter(|r| match r.needs {
                Needs::GuardianActs => guardian.is_none(),
                Needs::GuardianWrittenConsent => guardian.is_none() || !written,
                Needs::VerifiableParentalConsent => guardian.is_none_or(|g| g.verification.is_none()),
            })
            .map(|r| {
                let what = match r.needs {
                    Needs::GuardianActs => "a parent or guardian consents on the subject's behalf",
                    Needs::GuardianWrittenConsent => {
                        "a parent's or guardian's written consent (method `written` or `e_signature`)"
                    }
                    Needs::VerifiableParentalConsent => {
                        "verifiable parental consent (evidence.given_by.verification says how it was verified)"
                    }
                };
                format!("under {} ({}, {}): {what}", r.below, r.jurisdiction, r.citation)
            })
            .collect();
        if unmet.is_empty() {
            return Ok(());
        }
        Err(VaultError::invalid(
            "guardian_consent_required",
            format!(
                "the subject is below the age to consent alone; needed: {}. Give evidence.given_by with role `parent` or `guardian`, their name, identity document and the document showing their authority",
                unmet.join("; ")
            ),
        ))
    }

    /// A consent-based purpose the caller may record consent for.
    pub(crate) fn consent_purpose<'p>(policy: &'p Policy, caller: &Caller, purpose: &str) -> VaultResult<&'p Purpose> {
        let p = policy
            .purpose(purpose)
            .ok_or_else(|| AccessRefusal::UnknownPurpose(purpose.to_owned()))?;
        if !caller.may_use(purpose) {
            return Err(AccessRefusal::PurposeNotAllowedForKey(purpose.to_owned()).into());
        }
        if !p.legal_basis.needs_consent() {
            return Err(VaultError::invalid(
                "consent_not_applicable",
                format!(
                    "purpose `{purpose}` rests on `{}`, not on consent; there is no consent to record or withdraw",
                    p.legal_basis
                ),
            ));
        }
        Ok(p)
    }

    /// Registers a subject: collection for `input.purpose`, plus the consents given.
    pub async fn create_subject(&self, caller: &Caller, input: NewSubjectInput) -> VaultResult<SubjectId> {
        let policy = self.policy().clone();
        let purpose = AccessRequest::check_purpose(&policy, caller, &input.purpose, ProcessingAction::Collection)?;
        let mut evidence = match input.evidence {
            Some(e) => e,
            None if input.consents.is_empty() => Evidence {
                channel: "api".into(),
                ..Evidence::default()
            },
            None => {
                return Err(VaultError::invalid(
                    "invalid_evidence",
                    "evidence is required when consents are given",
                ))
            }
        };
        self.check_evidence(&mut evidence)?;
        let consents: BTreeSet<String> = input.consents.iter().cloned().collect();
        let mut allowed: BTreeSet<&String> = purpose.categories.iter().collect();
        for c in &consents {
            let p = Self::consent_purpose(&policy, caller, c)?;
            allowed.extend(p.categories.iter());
            if consents.len() > 1 && crate::forms::is_distribution(&policy, c) {
                return Err(VaultError::invalid(
                    "separate_consent_required",
                    format!("consent to purpose `{c}` makes data public and is a separate document (152-FZ Art. 10.1 p. 1): give it on its own, through the subject's consents"),
                ));
            }
            self.check_consent_form(&policy, c, &mut evidence, false)?;
        }
        if purpose.legal_basis.needs_consent() && !consents.contains(&input.purpose) {
            return Err(AccessRefusal::ConsentMissing(input.purpose.clone()).into());
        }
        let values = self.parse_fields(&input.fields)?;
        self.check_age(&policy, &values, input.age_band.as_deref(), &evidence)?;
        let mut problems: Vec<FieldProblem> = policy
            .fields
            .iter()
            .filter(|(n, f)| f.required && !values.contains_key(*n))
            .map(|(n, _)| FieldProblem {
                field: n.clone(),
                message: "this field is required".into(),
            })
            .collect();
        for name in values.keys() {
            let cat = &policy.fields[name].category;
            if !allowed.contains(cat) {
                problems.push(FieldProblem {
                    field: name.clone(),
                    message: format!("category `{cat}` is not used by purpose `{}` or by a purpose consented to; it may not be collected", input.purpose),
                });
            }
        }
        if !problems.is_empty() {
            return Err(VaultError::InvalidFields(problems));
        }

        let id = SubjectId::random();
        let now = self.now();
        let keys = self.keys();
        let dek = DataKey::generate();
        let mut sealed_fields = SealedFields::new();
        let mut index = Vec::new();
        for (name, v) in &values {
            sealed_fields.insert(name.clone(), sealed::seal_value(&dek, id, name, v.as_str()));
            if policy.fields[name].lookup {
                index.push(IndexEntry {
                    field: name.clone(),
                    hash: keys.blind_index.compute(name, v.as_str()),
                });
            }
        }
        // Consent is bound to the version in force: its scope is that version's purpose.
        let policy_version = self.policy_hash();
        let mut consent_events = Vec::new();
        let mut journal = vec![JournalDraft::new(now, &caller.actor, ProcessingAction::Collection)
            .subject(id)
            .purpose(input.purpose.clone())
            .fields(values.keys().cloned())
            .detail(format!("channel:{}", evidence.channel))];
        for c in &consents {
            consent_events.push(ConsentEventRecord {
                purpose: c.clone(),
                kind: ConsentEventKind::Given,
                at: now,
                policy_version: policy_version.clone(),
                evidence: Some(self.seal_evidence(&dek, id, c, &evidence)?),
            });
            journal.push(
                JournalDraft::new(now, &caller.actor, AdminEvent::ConsentGiven)
                    .subject(id)
                    .purpose(c.clone())
                    .detail(format!("channel:{}", evidence.channel)),
            );
        }
        let (kek_id, wrapped) = self.keyring().wrap(id.as_bytes(), &dek);
        let new = NewSubject {
            id,
            created_at: now,
            key: ward_store::WrappedKey { kek_id, wrapped },
            fields: sealed::encode(&sealed_fields),
            index,
            consents: consent_events,
        };
        match self
            .commit(Change::Subject(SubjectChange::Create(new)), journal)
            .await?
        {
            OpOutcome::Done => Ok(id),
            other => Err(VaultError::Internal(format!("creating a subject: {other:?}"))),
        }
    }

    /// Loads a subject and its current consents; `SubjectNotFound` if there is none.
    pub(crate) async fn load(&self, id: SubjectId) -> VaultResult<Loaded> {
        let (record, events) = self.store().find_subject_with_consents(id).await?;
        self.loaded(record.ok_or(VaultError::SubjectNotFound)?, events)
    }

    /// A subject's record with the consents that stand, from its consent events.
    fn loaded(&self, record: SubjectRecord, events: Vec<ConsentEventRecord>) -> VaultResult<Loaded> {
        let mut consents = self
            .consent_standing(&events)
            .into_iter()
            .filter(|(_, c)| c.state == crate::consents::ConsentState::Given)
            .map(|(p, c)| (p, c.scope))
            .collect();
        self.narrow_distribution(&record, &events, &mut consents)?;
        Ok(Loaded {
            record,
            consents,
            events,
        })
    }

    pub(crate) fn data_key(&self, record: &SubjectRecord) -> VaultResult<DataKey> {
        let key = record
            .key
            .as_ref()
            .ok_or_else(|| VaultError::Internal("active subject without a data key".into()))?;
        let unwrap = || self.keyring().unwrap(record.id.as_bytes(), &key.kek_id, &key.wrapped);
        match unwrap() {
            // Re-wrapped under a KEK this process has not loaded yet: reload once and retry.
            Err(ward_crypto::CryptoError::UnknownKek(_)) if self.reload_keys()? => Ok(unwrap()?),
            other => Ok(other?),
        }
    }

    fn sealed_fields(record: &SubjectRecord) -> VaultResult<SealedFields> {
        let bytes = record
            .fields
            .as_deref()
            .ok_or_else(|| VaultError::Internal("active subject without fields".into()))?;
        Ok(sealed::decode(bytes)?)
    }

    /// Decides access and decrypts the allowed fields the subject has.
    fn open_allowed(
        &self,
        caller: &Caller,
        loaded: &Loaded,
        purpose: &str,
        action: ProcessingAction,
        requested: Option<&[String]>,
    ) -> VaultResult<BTreeMap<String, String>> {
        let allowed = AccessRequest {
            policy: &self.policy(),
            caller,
            purpose,
            action,
            state: loaded.record.state,
            consents: &loaded.consents,
            requested,
        }
        .decide()?;
        self.open_fields(&loaded.record, &allowed)
    }

    /// Decrypts the named fields the subject has. The caller has decided access.
    pub(crate) fn open_fields(
        &self,
        record: &SubjectRecord,
        names: &[impl AsRef<str>],
    ) -> VaultResult<BTreeMap<String, String>> {
        let sealed_fields = Self::sealed_fields(record)?;
        let key = self.data_key(record)?;
        let mut out = BTreeMap::new();
        for name in names {
            if let Some(ct) = sealed_fields.get(name.as_ref()) {
                let v = sealed::open_value(&key, record.id, name.as_ref(), ct)?;
                out.insert(name.as_ref().to_owned(), v);
            }
        }
        Ok(out)
    }

    /// A purpose-bound read. Answers only after the read's journal entry is durable.
    pub async fn read_subject(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        requested: Option<&[String]>,
    ) -> VaultResult<SubjectView> {
        AccessRequest::check_purpose(&self.policy(), caller, purpose, ProcessingAction::Retrieval)?;
        let loaded = self.load(id).await?;
        let fields = self.open_allowed(caller, &loaded, purpose, ProcessingAction::Retrieval, requested)?;
        let entry = JournalDraft::new(self.now(), &caller.actor, ProcessingAction::Retrieval)
            .subject(id)
            .purpose(purpose)
            .fields(fields.keys().cloned());
        self.commit(Change::JournalOnly, vec![entry]).await?;
        Ok(SubjectView {
            id,
            purpose: purpose.to_owned(),
            fields,
        })
    }

    /// Finds subjects by a lookup field's value through the blind index, for `purpose`.
    /// Returns the matches the caller may see for that purpose; if there are matches but
    /// every one is refused, returns the first refusal.
    pub async fn find_subjects(
        &self,
        caller: &Caller,
        field: &str,
        value: &str,
        purpose: &str,
    ) -> VaultResult<Vec<SubjectView>> {
        let policy = self.policy().clone();
        AccessRequest::check_purpose(&policy, caller, purpose, ProcessingAction::Retrieval)?;
        let def = policy
            .field(field)
            .ok_or_else(|| AccessRefusal::UnknownField(field.to_owned()))?;
        if !def.lookup {
            return Err(VaultError::invalid(
                "field_not_searchable",
                format!("field `{field}` has no blind index (set lookup = true in the policy)"),
            ));
        }
        let wanted = def.field_type.parse(value, &policy.default_region).map_err(|e| {
            VaultError::InvalidFields(vec![FieldProblem {
                field: field.to_owned(),
                message: e.to_string(),
            }])
        })?;
        let hash = self.keys().blind_index.compute(field, wanted.as_str());
        let candidates = self.store().find_subjects_by_index_with_consents(field, hash).await?;
        let mut found = Vec::new();
        let mut refusal = None;
        for (record, events) in candidates {
            if record.state != SubjectState::Active {
                continue;
            }
            let id = record.id;
            let loaded = self.loaded(record, events)?;
            let key = self.data_key(&loaded.record)?;
            let sealed_fields = Self::sealed_fields(&loaded.record)?;
            let Some(ct) = sealed_fields.get(field) else { continue };
            if sealed::open_value(&key, id, field, ct)? != wanted.as_str() {
                continue; // a false candidate of the truncated index
            }
            match self.open_allowed(caller, &loaded, purpose, ProcessingAction::Retrieval, None) {
                Ok(fields) => found.push(SubjectView {
                    id,
                    purpose: purpose.to_owned(),
                    fields,
                }),
                Err(VaultError::Refused(r)) => {
                    refusal.get_or_insert(r);
                }
                Err(e) => return Err(e),
            }
        }
        if found.is_empty() {
            if let Some(r) = refusal {
                return Err(r.into());
            }
            return Ok(found);
        }
        let now = self.now();
        let entries = found
            .iter()
            .map(|v| {
                JournalDraft::new(now, &caller.actor, ProcessingAction::Retrieval)
                    .subject(v.id)
                    .purpose(purpose)
                    .fields(v.fields.keys().cloned())
                    .detail(format!("lookup:{field}"))
            })
            .collect();
        self.commit(Change::JournalOnly, entries).await?;
        Ok(found)
    }

    /// Rectifies fields for `purpose`: `Some(v)` sets, `None` removes. Retries on concurrent
    /// updates.
    pub async fn rectify_subject(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        changes: &BTreeMap<String, Option<String>>,
    ) -> VaultResult<()> {
        if changes.is_empty() {
            return Err(VaultError::invalid("empty_change", "no fields to change"));
        }
        let policy = self.policy().clone();
        AccessRequest::check_purpose(&policy, caller, purpose, ProcessingAction::Rectification)?;
        let sets: BTreeMap<String, String> = changes
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        let values = self.parse_fields(&sets)?;
        let mut problems = Vec::new();
        for (name, v) in changes {
            match policy.field(name) {
                None => problems.push(FieldProblem {
                    field: name.clone(),
                    message: "this field is not declared in the policy".into(),
                }),
                Some(def) if v.is_none() && def.required => problems.push(FieldProblem {
                    field: name.clone(),
                    message: "this field is required and cannot be removed".into(),
                }),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(VaultError::InvalidFields(problems));
        }
        let names: Vec<String> = changes.keys().cloned().collect();
        for _attempt in 0..5 {
            let loaded = self.load(id).await?;
            AccessRequest {
                policy: &policy,
                caller,
                purpose,
                action: ProcessingAction::Rectification,
                state: loaded.record.state,
                consents: &loaded.consents,
                requested: Some(&names),
            }
            .decide()?;
            let key = self.data_key(&loaded.record)?;
            let mut sealed_fields = Self::sealed_fields(&loaded.record)?;
            let mut reindex = Vec::new();
            for (name, change) in changes {
                let lookup = policy.fields[name].lookup;
                match change {
                    Some(_) => {
                        let v = values.get(name).map(FieldValue::as_str).unwrap_or_default();
                        sealed_fields.insert(name.clone(), sealed::seal_value(&key, id, name, v));
                        if lookup {
                            reindex.push((name.clone(), Some(self.keys().blind_index.compute(name, v))));
                        }
                    }
                    None => {
                        sealed_fields.remove(name);
                        if lookup {
                            reindex.push((name.clone(), None));
                        }
                    }
                }
            }
            let now = self.now();
            let change = Change::Subject(SubjectChange::Update {
                id,
                expected_revision: loaded.record.revision,
                fields: sealed::encode(&sealed_fields),
                reindex,
                at: now,
            });
            let entry = JournalDraft::new(now, &caller.actor, ProcessingAction::Rectification)
                .subject(id)
                .purpose(purpose)
                .fields(names.clone());
            match self.commit(change, vec![entry]).await? {
                OpOutcome::Done => return Ok(()),
                OpOutcome::Conflict => continue,
                OpOutcome::Erased => return Err(AccessRefusal::SubjectErased.into()),
                OpOutcome::NotFound => return Err(VaultError::SubjectNotFound),
                other => return Err(VaultError::Internal(format!("updating a subject: {other:?}"))),
            }
        }
        Err(VaultError::Conflict(
            "the subject kept changing while it was being updated; try again".into(),
        ))
    }

    /// Erases a subject by crypto-shredding: its data key, ciphertexts, index entries and
    /// consent evidence are destroyed in one transaction with the journal entry.
    ///
    /// Allowed to admins, and to service keys with a purpose that covers destruction.
    pub async fn erase_subject(&self, caller: &Caller, id: SubjectId) -> VaultResult<()> {
        let policy = self.policy();
        let may_destroy = caller.is_admin()
            || caller
                .purposes
                .iter()
                .filter_map(|p| policy.purpose(p))
                .any(|p| p.covers(ProcessingAction::Destruction));
        if !may_destroy {
            return Err(VaultError::Forbidden(
                "none of this key's purposes covers destruction of personal data".into(),
            ));
        }
        let loaded = self.load(id).await?;
        if loaded.record.state == SubjectState::Erased {
            return Err(AccessRefusal::SubjectErased.into());
        }
        let names: Vec<String> = Self::sealed_fields(&loaded.record)?.into_keys().collect();
        let now = self.now();
        let entry = JournalDraft::new(now, &caller.actor, ProcessingAction::Destruction)
            .subject(id)
            .fields(names)
            .detail("crypto-shredding: data key destroyed");
        match self
            .commit(Change::Subject(SubjectChange::Erase { id, at: now }), vec![entry])
            .await?
        {
            OpOutcome::Done => Ok(()),
            OpOutcome::Erased => Err(AccessRefusal::SubjectErased.into()),
            OpOutcome::NotFound => Err(VaultError::SubjectNotFound),
            other => Err(VaultError::Internal(format!("erasing a subject: {other:?}"))),
        }
    }
}

/// The lower bound of an age band: `"16-17"` → 16, `"18+"` → 18, `"15"` → 15.
fn parse_age_band(band: &str) -> VaultResult<u8> {
    let lower = band.trim().split(['-', '+']).next().unwrap_or("");
    lower
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|a| *a <= 130)
        .ok_or_else(|| VaultError::invalid("invalid_age_band", "age_band must look like \"16-17\" or \"18+\""))
}
