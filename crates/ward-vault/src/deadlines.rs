//! Deadlines: the core's pure deadline engine (`ward_core::deadline`) behind the
//! authorization table, on the calendars and the time zone the vault was opened with. No
//! personal data goes in or comes out, so nothing is journaled.

use crate::error::{VaultError, VaultResult};
use crate::kernel::Vault;
use ward_core::authz::Operation;
use ward_core::calendar::Calendars;
use ward_core::deadline::{self, DeadlineError, DeadlineQuery, Due, Zone};
use ward_core::Caller;

/// The deadline service.
pub struct Deadlines<'v>(pub(crate) &'v Vault);

impl Deadlines<'_> {
    /// When `query` falls due (officer, admin).
    pub fn due(&self, caller: &Caller, query: &DeadlineQuery) -> VaultResult<Due> {
        self.0.op(caller, Operation::DeadlineCompute)?;
        deadline::due(query, self.calendars(), self.zone()).map_err(refusal)
    }

    /// The calendars in force.
    pub fn calendars(&self) -> &Calendars {
        &self.0.inner.config.calendars
    }

    /// The operator's time zone.
    pub fn zone(&self) -> &Zone {
        &self.0.inner.config.zone
    }
}

/// The problem a deadline that cannot be computed is reported as.
fn refusal(e: DeadlineError) -> VaultError {
    VaultError::invalid(e.code(), e.to_string())
}
