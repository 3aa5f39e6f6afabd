//! Who may consent alone: per-jurisdiction age rules, and the policy's own minimum age.
//!
//! Sources: 152-FZ Art. 9 p. 6 and the Civil Code (Arts. 26, 28) for Russia; GDPR Art. 8(1)
//! and the member states' thresholds for the EU (law-checklist §B.2, marked \[S\]: verify per
//! national law); COPPA (15 U.S.C. §6501–6506, 16 CFR 312) for the US.

use crate::consent::{ConsentMethod, Evidence, Role};
use crate::violation::Violation;
use crate::ProblemCode;
use time::Date;

/// What a subject below a threshold needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A parent or guardian consents on the child's behalf.
    GuardianActs,
    /// The minor consents with a parent's written consent.
    GuardianWrittenConsent,
    /// Verifiable parental consent (COPPA), with the verification method recorded.
    VerifiableParentalConsent,
}

/// One age rule that applies to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeRule {
    pub jurisdiction: String,
    /// The rule applies below this age.
    pub below: u8,
    pub needs: Needs,
    pub citation: &'static str,
}

/// EU member states that set the Art. 8 age below 16 ([S]: verify per national law).
const EU_MEMBER_AGES: &[(&str, u8)] = &[
    ("AT", 14),
    ("BE", 13),
    ("BG", 14),
    ("CY", 14),
    ("CZ", 15),
    ("DK", 13),
    ("EE", 13),
    ("ES", 14),
    ("FI", 13),
    ("FR", 15),
    ("GR", 15),
    ("HR", 16),
    ("HU", 16),
    ("IT", 14),
    ("LT", 14),
    ("LV", 13),
    ("MT", 13),
    ("PT", 13),
    ("SE", 13),
    ("SI", 15),
];

/// The rules for these jurisdictions and the policy's minimum age.
pub fn rules(jurisdictions: &[String], majority_age: Option<u8>) -> Vec<AgeRule> {
    let mut out = Vec::new();
    for j in jurisdictions {
        match j.as_str() {
            "RU" => {
                out.push(AgeRule {
                    jurisdiction: j.clone(),
                    below: 14,
                    needs: Needs::GuardianActs,
                    citation: "Civil Code Art. 28; 152-FZ Art. 9 p. 6",
                });
                out.push(AgeRule {
                    jurisdiction: j.clone(),
                    below: 18,
                    needs: Needs::GuardianWrittenConsent,
                    citation: "Civil Code Art. 26",
                });
            }
            "US" => out.push(AgeRule {
                jurisdiction: j.clone(),
                below: 13,
                needs: Needs::VerifiableParentalConsent,
                citation: "COPPA, 16 CFR 312.5",
            }),
            eu if eu == "EU" || eu.starts_with("EU-") => {
                let state = eu.strip_prefix("EU-");
                let below = state
                    .and_then(|s| EU_MEMBER_AGES.iter().find(|(c, _)| *c == s).map(|(_, a)| *a))
                    .unwrap_or(16);
                out.push(AgeRule {
                    jurisdiction: j.clone(),
                    below,
                    needs: Needs::GuardianActs,
                    citation: "GDPR Art. 8(1)",
                });
            }
            _ => {}
        }
    }
    if let Some(age) = majority_age {
        out.push(AgeRule {
            jurisdiction: "policy".into(),
            below: age,
            needs: Needs::GuardianActs,
            citation: "the policy's own minimum age",
        });
    }
    out
}

/// Full years between `birth` and `on`.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// The rules that apply to someone born on `birth`, as of `on`.
pub fn applicable(rules: &[AgeRule], birth: Date, on: Date) -> Vec<AgeRule> {
    let age = age_on(birth, on);
    rules.iter().filter(|r| age < i32::from(r.below)).cloned().collect()
}

/// The lower bound of an age band: `"16-17"` → 16, `"18+"` → 18, `"15"` → 15.
pub fn parse_age_band(band: &str) -> Result<u8, Violation> {
    let lower = band.trim().split(['-', '+']).next().unwrap_or("");
    lower.trim().parse::<u8>().ok().filter(|a| *a <= 130).ok_or_else(|| {
        Violation::new(
            ProblemCode::InvalidAgeBand,
            "age_band must look like \"16-17\" or \"18+\"",
        )
    })
}

/// The subject's birth date, from `birth_date` (`YYYY-MM-DD`) or else the latest one the
/// lower bound of `age_band` allows; `None` when neither says.
fn birth_of(birth_date: Option<&str>, age_band: Option<&str>, today: Date) -> Result<Option<Date>, Violation> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Ok(match (birth_date, age_band) {
        (Some(b), _) => Date::parse(b, &format).ok(),
        (None, Some(band)) => {
            let lower = parse_age_band(band)?;
            // The latest birth date that is still `lower` years old today.
            today.replace_year(today.year() - i32::from(lower)).ok()
        }
        (None, None) => None,
    })
}

/// Refuses a subject younger than the policy's `minimum_age`, whoever consents for them: the
/// policy promises to collect nothing from anyone that young (stricter than the law, which
/// lets a parent consent). The age comes as in [`check_consent_age`].
pub fn check_minimum_age(
    minimum_age: Option<u8>,
    birth_date: Option<&str>,
    age_band: Option<&str>,
    today: Date,
) -> Result<(), Violation> {
    let Some(minimum) = minimum_age else { return Ok(()) };
    let Some(birth) = birth_of(birth_date, age_band, today)? else {
        return Ok(());
    };
    if age_on(birth, today) >= i32::from(minimum) {
        return Ok(());
    }
    Err(Violation::new(
        ProblemCode::BelowMinimumAge,
        format!(
            "the policy admits no one under {minimum}, even with a parent's or guardian's consent (its `minimum_age`)"
        ),
    ))
}

/// Refuses a subject below an age threshold unless a parent or guardian consents as the rule
/// requires (written for Russian minors of 14–17, verified for COPPA). The age comes from
/// `birth_date` (`YYYY-MM-DD`) or else the lower bound of `age_band`; with neither, no rule
/// applies. `rules` are the policy's ([`rules`]).
pub fn check_consent_age(
    rules: &[AgeRule],
    birth_date: Option<&str>,
    age_band: Option<&str>,
    evidence: &Evidence,
    today: Date,
) -> Result<(), Violation> {
    let Some(birth) = birth_of(birth_date, age_band, today)? else {
        return Ok(());
    };
    let applicable = applicable(rules, birth, today);
    if applicable.is_empty() {
        return Ok(());
    }
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
    Err(Violation::new(
        ProblemCode::GuardianConsentRequired,
        format!(
            "the subject is below the age to consent alone; needed: {}. Give evidence.given_by with role `parent` or `guardian`, their name, identity document and the document showing their authority",
            unmet.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(date!(2010 - 11 - 22), date!(2026 - 11 - 21)), 15);
        assert_eq!(age_on(date!(2010 - 11 - 21), date!(2026 - 11 - 21)), 16);
        assert_eq!(age_on(date!(2012 - 02 - 29), date!(2026 - 02 - 28)), 13);
    }

    #[test]
    fn below_the_minimum_age_no_consent_admits() {
        let today = date!(2026 - 11 - 21);
        let refused = check_minimum_age(Some(18), Some("2009-01-01"), None, today).unwrap_err();
        assert_eq!(refused.code, ProblemCode::BelowMinimumAge);
        assert_eq!(
            check_minimum_age(Some(18), None, Some("16-17"), today)
                .unwrap_err()
                .code,
            ProblemCode::BelowMinimumAge
        );
        assert!(check_minimum_age(Some(18), None, Some("18+"), today).is_ok());
        assert!(
            check_minimum_age(Some(18), None, None, today).is_ok(),
            "no age known: nothing to check"
        );
        assert!(check_minimum_age(None, Some("2020-01-01"), None, today).is_ok());
    }

    #[test]
    fn the_rules_per_jurisdiction() {
        let today = date!(2026 - 11 - 21);
        let ru = rules(&["RU".into()], None);
        assert_eq!(
            applicable(&ru, date!(2015 - 01 - 01), today)
                .iter()
                .map(|r| r.needs)
                .collect::<Vec<_>>(),
            [Needs::GuardianActs, Needs::GuardianWrittenConsent]
        );
        assert_eq!(
            applicable(&ru, date!(2010 - 01 - 01), today)
                .iter()
                .map(|r| r.needs)
                .collect::<Vec<_>>(),
            [Needs::GuardianWrittenConsent]
        );
        assert!(applicable(&ru, date!(2000 - 01 - 01), today).is_empty());
        let eu = rules(&["EU".into(), "EU-FR".into()], None);
        let fifteen = applicable(&eu, date!(2011 - 06 - 01), today);
        assert_eq!(
            fifteen.iter().map(|r| r.jurisdiction.as_str()).collect::<Vec<_>>(),
            ["EU"],
            "France's 15 does not apply at 15"
        );
        let us = rules(&["US".into()], Some(16));
        assert_eq!(
            applicable(&us, date!(2014 - 01 - 01), today).len(),
            2,
            "COPPA and the policy's 16"
        );
        assert_eq!(
            applicable(&us, date!(2012 - 01 - 01), today).len(),
            1,
            "14: only the policy's own rule"
        );
    }

    fn guardian(verification: Option<&str>) -> crate::consent::GivenBy {
        crate::consent::GivenBy {
            role: Role::Parent,
            name: "Maria".into(),
            identity_document: "passport 1234".into(),
            authority: "birth certificate".into(),
            verification: verification.map(Into::into),
        }
    }

    #[test]
    fn age_bands_name_their_lower_bound() {
        assert_eq!(parse_age_band("16-17"), Ok(16));
        assert_eq!(parse_age_band(" 18+ "), Ok(18));
        assert_eq!(parse_age_band("15"), Ok(15));
        for bad in ["", "adult", "200", "-3"] {
            assert_eq!(parse_age_band(bad).unwrap_err().code, "invalid_age_band");
        }
    }

    #[test]
    fn a_minor_needs_the_consent_the_rule_asks_for() {
        let today = date!(2026 - 11 - 21);
        let ru = rules(&["RU".into()], None);
        let alone = Evidence::default();
        assert!(check_consent_age(&ru, Some("2000-01-01"), None, &alone, today).is_ok());
        assert!(check_consent_age(&ru, None, None, &alone, today).is_ok());
        assert!(check_consent_age(&ru, None, Some("18+"), &alone, today).is_ok());
        let v = check_consent_age(&ru, None, Some("16-17"), &alone, today).unwrap_err();
        assert_eq!(v.code, "guardian_consent_required");
        assert!(v.message.contains("Civil Code Art. 26"), "{}", v.message);
        // A parent who consents, but not in writing, is not enough at 16 in Russia.
        let parent = Evidence {
            given_by: Some(guardian(None)),
            ..Evidence::default()
        };
        assert!(check_consent_age(&ru, Some("2010-01-01"), None, &parent, today).is_err());
        let written = Evidence {
            method: Some(ConsentMethod::Written),
            ..parent.clone()
        };
        assert!(check_consent_age(&ru, Some("2010-01-01"), None, &written, today).is_ok());
        // COPPA wants the verification recorded.
        let us = rules(&["US".into()], None);
        assert!(check_consent_age(&us, Some("2016-01-01"), None, &parent, today).is_err());
        let verified = Evidence {
            given_by: Some(guardian(Some("signed form"))),
            ..Evidence::default()
        };
        assert!(check_consent_age(&us, Some("2016-01-01"), None, &verified, today).is_ok());
        assert_eq!(
            check_consent_age(&us, None, Some("teen"), &verified, today)
                .unwrap_err()
                .code,
            "invalid_age_band"
        );
    }
}
