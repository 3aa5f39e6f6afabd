//! Who holds a lease: one id per process (per runner), random so that two processes never
//! share it, with a readable part so that an operator looking at `job_leases` can tell which
//! host and process holds a job.

use crate::SetupError;

/// A lease holder's id: `<host>/<pid>/<random>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder(String);

/// The host part is cut to this many characters.
const MAX_HOST: usize = 64;

impl Holder {
    /// A new id for this process: its host name, its pid, and 16 random hex digits.
    pub fn for_this_process() -> Self {
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("{}/{}/{}", host_name(), std::process::id(), &random[..16]))
    }

    /// A holder with the given id (tests, or an operator's choice). Not empty.
    pub fn named(id: impl Into<String>) -> Result<Self, SetupError> {
        let id = id.into();
        if id.trim().is_empty() {
            Err(SetupError::EmptyName)
        } else {
            Ok(Self(id))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kernel's host name, else `$HOSTNAME`, else `localhost`; without `/` so that the id
/// splits cleanly.
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().replace('/', "_"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    name.chars().take(MAX_HOST).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_readable_and_differ_per_runner() {
        let a = Holder::for_this_process();
        let b = Holder::for_this_process();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.as_str().split('/').collect();
        assert_eq!(parts.len(), 3, "{a}");
        assert!(!parts[0].is_empty());
        assert_eq!(parts[1], std::process::id().to_string());
        assert_eq!(parts[2].len(), 16);
    }

    #[test]
    fn a_named_holder_needs_a_name() {
        assert_eq!(Holder::named(" "), Err(SetupError::EmptyName));
        assert_eq!(Holder::named("a").map(|h| h.to_string()), Ok("a".to_owned()));
    }
}
