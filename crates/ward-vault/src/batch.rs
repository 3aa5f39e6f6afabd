//! Bulk registration: many subjects at once, sharing group-commit transactions.

use crate::error::{VaultError, VaultResult};
use crate::subjects::NewSubjectInput;
use crate::Vault;
use std::sync::Arc;
use ward_core::{Caller, SubjectId};

impl Vault {
    /// Registers many subjects. Each input is checked, sealed and journaled exactly as
    /// [`Vault::create_subject`] does it; all of them are prepared concurrently (on every
    /// core) and handed to the group committer together, so they share a few transactions
    /// instead of paying one commit each.
    ///
    /// Returns one result per input, in input order: an input that is invalid or refused fails
    /// alone, and every `Ok` is durable. The outer error is for a failure of the whole call.
    /// Callers bound the batch (the API takes at most 1,000; `ward import` sends 512 at a
    /// time): every input is in memory, sealed, until its transaction commits.
    pub async fn create_subjects(
        &self,
        caller: &Caller,
        inputs: Vec<NewSubjectInput>,
    ) -> VaultResult<Vec<VaultResult<SubjectId>>> {
        let caller = Arc::new(caller.clone());
        let handles: Vec<_> = inputs
            .into_iter()
            .map(|input| {
                let (vault, caller) = (self.clone(), caller.clone());
                tokio::spawn(async move { vault.create_subject(&caller, input).await })
            })
            .collect();
        let mut results = Vec::with_capacity(handles.len());
        for h in handles {
            results.push(
                h.await
                    .unwrap_or_else(|e| Err(VaultError::Internal(format!("registering a subject of a batch: {e}")))),
            );
        }
        Ok(results)
    }
}
