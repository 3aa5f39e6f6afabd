//! Who may consent alone: per-jurisdiction age rules, and the policy's own minimum age.
//!
//! Sources: 152-FZ Art. 9 p. 6 and the Civil Code (Arts. 26, 28) for Russia; GDPR Art. 8(1)
//! and the member states' thresholds for the EU (law-checklist §B.2, marked [S]: verify per
//! national law); COPPA (15 U.S.C. §6501–6506, 16 CFR 312) for the US.

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
}
