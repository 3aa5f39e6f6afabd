//! API keys: tokens shown once, stored as keyed hashes, checked in constant time.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::ProblemCode;
use ward_core::{Actor, ApiKeyId, Caller, JournalDraft};
use ward_crypto::ApiToken;
use ward_store::{ApiKeyChange, ApiKeyRecord, Change, OpOutcome};

/// An API key as shown to administrators (no token, no hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub purposes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiKeyRecord> for ApiKeyView {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: r.id,
            name: r.name,
            role: r.role,
            purposes: r.purposes,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

pub(crate) struct CachedKey {
    record: ApiKeyRecord,
    fetched: OffsetDateTime,
}

/// The API keys service, reached by [`Vault::api_keys`].
#[derive(Clone, Copy)]
pub struct ApiKeys<'v>(pub(crate) &'v Vault);

impl ApiKeys<'_> {
    /// Checks a presented token. Any failure is `Unauthorized`, without saying which part
    /// was wrong.
    pub async fn authenticate(&self, presented: &str) -> VaultResult<Caller> {
        let token = ApiToken::parse(presented).ok_or(VaultError::Unauthorized)?;
        let v = self.0;
        let now = v.now();
        let cached = {
            let cache = v
                .inner
                .key_cache
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cache
                .get(token.id())
                .filter(|c| now - c.fetched < v.inner.config.api_key_cache_ttl)
                .map(|c| c.record.clone())
        };
        let record = match cached {
            Some(r) => r,
            None => {
                let r = v
                    .store()
                    .find_api_key(token.id())
                    .await?
                    .ok_or(VaultError::Unauthorized)?;
                let mut cache = v
                    .inner
                    .key_cache
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(
                    r.id.clone(),
                    CachedKey {
                        record: r.clone(),
                        fetched: now,
                    },
                );
                r
            }
        };
        if !v.inner.keys.tokens.verify(&token, &record.token_hash) || record.revoked_at.is_some() {
            return Err(VaultError::Unauthorized);
        }
        let id = ApiKeyId::parse(&record.id).ok_or(VaultError::Unauthorized)?;
        Ok(Caller {
            actor: Actor::ApiKey(id),
            role: record.role,
            purposes: record.purposes.into_iter().collect(),
        })
    }

    /// Creates a key. Returns its view and the token, which is shown once and never stored.
    pub async fn create(
        &self,
        caller: &Caller,
        name: &str,
        role: Role,
        purposes: &[String],
    ) -> VaultResult<(ApiKeyView, ApiToken)> {
        let v = self.0;
        let op = v.op(caller, Operation::KeyCreate)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidKeyName,
                "a key name is 1 to 100 characters",
            ));
        }
        let purposes: BTreeSet<String> = purposes.iter().cloned().collect();
        for p in &purposes {
            if op.policy().purpose(p).is_none() {
                return Err(ward_core::AccessRefusal::UnknownPurpose(p.clone()).into());
            }
        }
        match role {
            Role::Service if purposes.is_empty() => {
                return Err(VaultError::invalid(
                    ProblemCode::PurposesRequired,
                    "a service key needs at least one purpose",
                ));
            }
            Role::Admin | Role::Officer if !purposes.is_empty() => {
                return Err(VaultError::invalid(
                    ProblemCode::PurposesNotApplicable,
                    format!("an {role} key names the purpose in each call; list none"),
                ));
            }
            Role::Subject => {
                return Err(VaultError::Forbidden(
                    "keys for data subjects come with the portal; none is issued yet".into(),
                ));
            }
            _ => {}
        }
        let token = ApiToken::generate();
        let now = op.now;
        let record = ApiKeyRecord {
            id: token.id().to_owned(),
            name: name.to_owned(),
            role,
            purposes: purposes.into_iter().collect(),
            token_hash: v.inner.keys.tokens.hash(&token).to_vec(),
            created_at: now,
            revoked_at: None,
        };
        let entry = JournalDraft::new(now, op.actor(), AdminEvent::ApiKeyCreated)
            .detail(format!("key:{} role:{role}", record.id));
        match v
            .commit(Change::ApiKey(ApiKeyChange::Create(record.clone())), vec![entry])
            .await?
        {
            OpOutcome::Done => Ok((record.into(), token)),
            other => Err(VaultError::Internal(format!("creating an API key: {other:?}"))),
        }
    }

    pub async fn list(&self, caller: &Caller) -> VaultResult<Vec<ApiKeyView>> {
        self.0.op(caller, Operation::KeyList)?;
        Ok(self
            .0
            .store()
            .find_api_keys()
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke(&self, caller: &Caller, id: &str) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, Operation::KeyRevoke)?;
        let now = op.now;
        let entry = JournalDraft::new(now, op.actor(), AdminEvent::ApiKeyRevoked).detail(format!("key:{id}"));
        let outcome = v
            .commit(
                Change::ApiKey(ApiKeyChange::Revoke {
                    id: id.to_owned(),
                    at: now,
                }),
                vec![entry],
            )
            .await?;
        v.inner
            .key_cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
        match outcome {
            OpOutcome::Done => Ok(()),
            OpOutcome::NotFound => Err(VaultError::NotFound(
                ProblemCode::ApiKeyNotFound,
                format!("no API key `{id}`"),
            )),
            OpOutcome::Revoked => Err(VaultError::Conflict(format!("API key `{id}` is already revoked"))),
            other => Err(VaultError::Internal(format!("revoking an API key: {other:?}"))),
        }
    }
}
