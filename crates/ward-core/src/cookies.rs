//! Cookie and tracking consent of website visitors: the categories a banner asks about, the
//! visitor's identifier, and the pure decision of what a submitted choice means.
//!
//! The rules, in [`decide`]:
//! - strictly necessary cookies are always granted; a choice that denies them is refused;
//! - a category the choice does not mention is denied (no pre-ticked boxes);
//! - with Global Privacy Control (`Sec-GPC: 1`), `marketing` (sale, sharing, targeted
//!   advertising) is denied whatever the choice says, and the decision notes when GPC
//!   overrode a grant.

use crate::action::string_enum;
use crate::problem::ProblemCode;
use std::collections::BTreeMap;
use std::fmt;

string_enum! {
    /// What a cookie or tracker is for.
    CookieCategory {
        /// Strictly necessary for the site to work (session, security, load balancing, the
        /// consent choice itself). Always granted.
        Necessary => "necessary",
        /// Remembers preferences (language, region) beyond what is strictly necessary.
        Functional => "functional",
        /// Measures how the site is used.
        Analytics => "analytics",
        /// Advertising and marketing: sale or sharing of data, targeted advertising.
        Marketing => "marketing",
    }
}

string_enum! {
    /// A visitor's answer for one category.
    CookieChoice {
        Granted => "granted",
        Denied => "denied",
    }
}

impl CookieChoice {
    pub fn is_granted(self) -> bool {
        self == CookieChoice::Granted
    }
}

/// A browser's identifier, as the website keeps it in a first-party cookie: 8 to 128
/// characters of `A-Z a-z 0-9 _ -`.
///
/// It is an online identifier, so personal data: it has no `Display`, its `Debug` is
/// redacted, and Ward stores only a keyed hash of it.
#[derive(Clone, PartialEq, Eq)]
pub struct VisitorId(String);

impl VisitorId {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// `None` unless `s` is 8 to 128 characters of `[A-Za-z0-9_-]`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (Self::MIN_LEN..=Self::MAX_LEN).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    /// The identifier itself, for hashing. Never log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VisitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VisitorId(<redacted>)")
    }
}

/// Whether `s` may be a banner version: 1 to 64 characters of `A-Z a-z 0-9 . _ : + -`.
/// Narrow on purpose: the version is echoed and journaled, so it must not carry free text.
pub fn is_banner_version(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'+' | b'-'))
}

/// What a submitted choice means once the rules are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieDecision {
    /// Every category, with its answer.
    pub choices: BTreeMap<CookieCategory, CookieChoice>,
    /// The browser sent `Sec-GPC: 1`.
    pub gpc: bool,
    /// GPC turned a grant of `marketing` into a denial.
    pub gpc_overrode: bool,
}

/// Why a submitted choice is refused. The messages never repeat what was submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieChoiceError {
    #[error("strictly necessary cookies cannot be denied; omit `necessary` or grant it")]
    NecessaryDenied,
    #[error("a category is not one of: necessary, functional, analytics, marketing")]
    UnknownCategory,
    #[error("a choice is not `granted` or `denied`")]
    InvalidChoice,
}

impl CookieChoiceError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> ProblemCode {
        match self {
            CookieChoiceError::NecessaryDenied => ProblemCode::NecessaryCannotBeDenied,
            CookieChoiceError::UnknownCategory => ProblemCode::UnknownCookieCategory,
            CookieChoiceError::InvalidChoice => ProblemCode::InvalidCookieChoice,
        }
    }
}

/// Applies the rules to a submitted choice (category name → `granted` or `denied`).
pub fn decide<'a, I>(submitted: I, gpc: bool) -> Result<CookieDecision, CookieChoiceError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut choices: BTreeMap<CookieCategory, CookieChoice> =
        CookieCategory::ALL.iter().map(|c| (*c, CookieChoice::Denied)).collect();
    choices.insert(CookieCategory::Necessary, CookieChoice::Granted);
    for (category, choice) in submitted {
        let category: CookieCategory = category.parse().map_err(|_| CookieChoiceError::UnknownCategory)?;
        let choice: CookieChoice = choice.parse().map_err(|_| CookieChoiceError::InvalidChoice)?;
        if category == CookieCategory::Necessary && choice == CookieChoice::Denied {
            return Err(CookieChoiceError::NecessaryDenied);
        }
        choices.insert(category, choice);
    }
    let mut gpc_overrode = false;
    if gpc {
        let marketing = choices.entry(CookieCategory::Marketing).or_insert(CookieChoice::Denied);
        gpc_overrode = marketing.is_granted();
        *marketing = CookieChoice::Denied;
    }
    Ok(CookieDecision {
        choices,
        gpc,
        gpc_overrode,
    })
}

/// `necessary=granted,functional=denied,…` in category order: a compact summary for the
/// journal and for storage.
pub fn summary(choices: &BTreeMap<CookieCategory, CookieChoice>) -> String {
    choices
        .iter()
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The inverse of [`summary`]; `None` if `s` is not one.
pub fn parse_summary(s: &str) -> Option<BTreeMap<CookieCategory, CookieChoice>> {
    let mut out = BTreeMap::new();
    if s.is_empty() {
        return Some(out);
    }
    for pair in s.split(',') {
        let (c, v) = pair.split_once('=')?;
        if out.insert(c.parse().ok()?, v.parse().ok()?).is_some() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CookieCategory::*;
    use CookieChoice::*;

    fn get(d: &CookieDecision, c: CookieCategory) -> CookieChoice {
        d.choices[&c]
    }

    #[test]
    fn unmentioned_categories_are_denied_and_necessary_is_granted() {
        let d = decide([], false).unwrap();
        assert_eq!(
            d.choices,
            BTreeMap::from([
                (Necessary, Granted),
                (Functional, Denied),
                (Analytics, Denied),
                (Marketing, Denied)
            ])
        );
        assert!(!d.gpc && !d.gpc_overrode);
        let d = decide([("analytics", "granted")], false).unwrap();
        assert_eq!(get(&d, Analytics), Granted);
        assert_eq!(get(&d, Functional), Denied);
        assert_eq!(get(&d, Necessary), Granted);
    }

    #[test]
    fn necessary_cannot_be_denied_but_may_be_granted() {
        assert_eq!(
            decide([("necessary", "denied")], false).unwrap_err(),
            CookieChoiceError::NecessaryDenied
        );
        assert_eq!(
            decide([("necessary", "denied")], false).unwrap_err().code(),
            "necessary_cannot_be_denied"
        );
        let d = decide([("necessary", "granted"), ("marketing", "granted")], false).unwrap();
        assert_eq!(get(&d, Necessary), Granted);
        assert_eq!(get(&d, Marketing), Granted);
    }

    #[test]
    fn gpc_denies_marketing_and_says_when_it_overrode_a_grant() {
        let d = decide([("marketing", "granted"), ("analytics", "granted")], true).unwrap();
        assert_eq!(get(&d, Marketing), Denied);
        assert_eq!(get(&d, Analytics), Granted, "GPC is about sale/sharing, not analytics");
        assert!(d.gpc && d.gpc_overrode);

        let d = decide([("marketing", "denied")], true).unwrap();
        assert_eq!(get(&d, Marketing), Denied);
        assert!(d.gpc && !d.gpc_overrode);

        let d = decide([], true).unwrap();
        assert_eq!(get(&d, Marketing), Denied);
        assert!(d.gpc && !d.gpc_overrode);
    }

    #[test]
    fn unknown_names_are_refused_without_echoing_them() {
        let e = decide([("anna@example.org", "granted")], false).unwrap_err();
        assert_eq!(e.code(), "unknown_cookie_category");
        assert!(!e.to_string().contains("anna"));
        let e = decide([("advertising", "granted")], false).unwrap_err();
        assert_eq!(e, CookieChoiceError::UnknownCategory);
        let e = decide([("analytics", "yes-anna")], false).unwrap_err();
        assert_eq!(e.code(), "invalid_cookie_choice");
        assert!(!e.to_string().contains("anna"));
        assert_eq!(
            decide([("Analytics", "granted")], false).unwrap_err(),
            CookieChoiceError::UnknownCategory
        );
    }

    #[test]
    fn visitor_ids() {
        assert!(VisitorId::parse("abcdefgh").is_some());
        assert!(VisitorId::parse("Ab0_-xyz").is_some());
        assert!(VisitorId::parse(&"a".repeat(128)).is_some());
        assert!(VisitorId::parse(&"a".repeat(129)).is_none());
        assert!(VisitorId::parse("abcdefg").is_none());
        assert!(VisitorId::parse("").is_none());
        assert!(VisitorId::parse("abcd efgh").is_none());
        assert!(VisitorId::parse("anna@example.org").is_none());
        assert!(VisitorId::parse("абвгдежз").is_none());
        let v = VisitorId::parse("visitor-secret-42").unwrap();
        assert_eq!(v.expose(), "visitor-secret-42");
        assert!(!format!("{v:?}").contains("secret"));
    }

    #[test]
    fn banner_versions() {
        for ok in ["1", "2026-11", "v3.2.1", "banner:2026-11+eu", "a_b"] {
            assert!(is_banner_version(ok), "{ok}");
        }
        for bad in ["", "two words", "anna@example.org", "x\n", &"9".repeat(65), "версия"] {
            assert!(!is_banner_version(bad), "{bad}");
        }
    }

    #[test]
    fn summaries_round_trip() {
        let d = decide([("functional", "granted")], true).unwrap();
        let s = summary(&d.choices);
        assert_eq!(
            s,
            "necessary=granted,functional=granted,analytics=denied,marketing=denied"
        );
        assert_eq!(parse_summary(&s), Some(d.choices));
        assert_eq!(parse_summary(""), Some(BTreeMap::new()));
        assert_eq!(parse_summary("necessary=maybe"), None);
        assert_eq!(parse_summary("nope=granted"), None);
        assert_eq!(parse_summary("analytics=granted,analytics=denied"), None);
        assert_eq!(parse_summary("analytics"), None);
    }
}
