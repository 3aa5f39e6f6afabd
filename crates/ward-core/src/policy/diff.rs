//! What changed between two policy versions, for a privacy officer: each change with what it
//! requires before the new version may be relied on.

use super::{Policy, Purpose};
use crate::action::string_enum;
use std::collections::BTreeSet;

string_enum! {
    /// What a change obliges the operator to do.
    Requirement {
        /// Nothing beyond publishing the new text.
        Nothing => "nothing",
        /// Tell subjects before the change takes effect (152-FZ Art. 18.1 p. 2; GDPR Art. 13(3)).
        InformSubjects => "inform_subjects",
        /// Each subject's new consent before the new scope is used; Ward refuses it until then.
        NewConsent => "new_consent",
        /// Notify Roskomnadzor of the change by the 15th of the next month (152-FZ Art. 22 p. 7).
        NotifyRegulator => "notify_regulator",
        /// A cross-border transfer: notify Roskomnadzor before it starts and check the country's
        /// adequacy (152-FZ Art. 12); for EU data, a Chapter V mechanism (GDPR Art. 44–49).
        CrossBorder => "cross_border",
        /// Data that no remaining purpose needs must be destroyed (152-FZ Art. 21 p. 4, 5 p. 7).
        DestroyData => "destroy_data",
    }
}

/// One change between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChange {
    /// A stable code: `purpose_added`, `categories_widened`, `recipient_added`, ...
    pub code: &'static str,
    /// The purpose, recipient, field or document it concerns (empty for the whole policy).
    pub subject: String,
    /// In words.
    pub description: String,
    pub requires: Vec<Requirement>,
}

fn change(code: &'static str, subject: &str, description: String, requires: &[Requirement]) -> PolicyChange {
    PolicyChange {
        code,
        subject: subject.to_owned(),
        description,
        requires: requires.to_vec(),
    }
}

fn list(set: &BTreeSet<impl AsRef<str> + Ord>) -> String {
    set.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

/// The changes from `old` to `new`, in a stable order. A version that only rewords the text
/// yields one `text_only` change that requires nothing.
pub fn diff(old: &Policy, new: &Policy) -> Vec<PolicyChange> {
    use Requirement::*;
    let mut out = Vec::new();

    if old.operator != new.operator {
        out.push(change(
            "operator_changed",
            "",
            "the operator's identity or contact details changed".into(),
            &[InformSubjects, NotifyRegulator],
        ));
    }
    for (name, p) in &new.purposes {
        match old.purposes.get(name) {
            None => {
                let consent = p.legal_basis.needs_consent();
                let requires: &[Requirement] = if consent {
                    &[NewConsent, NotifyRegulator]
                } else {
                    &[InformSubjects, NotifyRegulator]
                };
                out.push(change(
                    "purpose_added",
                    name,
                    format!("new purpose `{name}` ({}) using {}", p.legal_basis, list(&p.categories)),
                    requires,
                ));
            }
            Some(o) => purpose_changes(name, o, p, new, &mut out),
        }
    }
    for name in old.purposes.keys().filter(|n| !new.purposes.contains_key(*n)) {
        out.push(change(
            "purpose_removed",
            name,
            format!("purpose `{name}` ends"),
            &[DestroyData, NotifyRegulator],
        ));
    }
    for (name, r) in &new.recipients {
        if let Some(o) = old.recipients.get(name) {
            if o.country != r.country {
                let abroad = r.country != new.operator.country;
                let requires: &[Requirement] = if abroad {
                    &[InformSubjects, CrossBorder]
                } else {
                    &[InformSubjects]
                };
                out.push(change(
                    "recipient_country_changed",
                    name,
                    format!("recipient `{name}` moves from {} to {}", o.country, r.country),
                    requires,
                ));
            }
        }
    }
    for name in new.fields.keys().filter(|n| !old.fields.contains_key(*n)) {
        out.push(change(
            "field_added",
            name,
            format!("new field `{name}` in category `{}`", new.fields[name].category),
            &[InformSubjects],
        ));
    }
    for name in old.fields.keys().filter(|n| !new.fields.contains_key(*n)) {
        out.push(change(
            "field_removed",
            name,
            format!("field `{name}` is no longer collected"),
            &[DestroyData],
        ));
    }
    for (name, f) in &new.fields {
        if old.fields.get(name).is_some_and(|o| o.unique != f.unique) {
            let now = if f.unique {
                "is now unique: a value another live subject holds is refused from now on (subjects registered before keep theirs)"
            } else {
                "is no longer unique"
            };
            out.push(change(
                "field_unique_changed",
                name,
                format!("field `{name}` {now}"),
                &[Nothing],
            ));
        }
    }
    for (name, d) in &new.consent_documents {
        match old.consent_documents.get(name) {
            Some(o) if o.text != d.text || o.withdrawal != d.withdrawal => out.push(change(
                "consent_text_changed",
                name,
                format!("consent document `{name}` is reworded; consents given before keep their scope"),
                &[Nothing],
            )),
            Some(o) if o.term != d.term => {
                out.push(change(
                    "consent_term_changed",
                    name,
                    format!("consent document `{name}` has a new term"),
                    &[InformSubjects],
                ));
            }
            _ => {}
        }
    }
    if out.is_empty() {
        out.push(change(
            "text_only",
            "",
            "the register is unchanged: only the label or the text differs".into(),
            &[Nothing],
        ));
    }
    out
}

fn purpose_changes(name: &str, o: &Purpose, p: &Purpose, new: &Policy, out: &mut Vec<PolicyChange>) {
    use Requirement::*;
    let consent = p.legal_basis.needs_consent();
    if o.legal_basis != p.legal_basis {
        let requires: &[Requirement] = if consent {
            &[NewConsent, NotifyRegulator]
        } else {
            &[InformSubjects, NotifyRegulator]
        };
        out.push(change(
            "legal_basis_changed",
            name,
            format!(
                "purpose `{name}` now rests on {} instead of {}",
                p.legal_basis, o.legal_basis
            ),
            requires,
        ));
    }
    if !consent && (o.established_by, &o.basis_of, &o.assessment) != (p.established_by, &p.basis_of, &p.assessment) {
        let was = o.basis_of.as_ref().map_or(o.established_by.as_str(), |b| b.as_str());
        let now = p.basis_of.as_ref().map_or(p.established_by.as_str(), |b| b.as_str());
        out.push(change(
            "establishment_changed",
            name,
            format!("what establishes purpose `{name}` for a subject changes ({was} → {now}, or its assessment)"),
            &[InformSubjects],
        ));
    }
    let added: BTreeSet<&String> = p.categories.difference(&o.categories).collect();
    if !added.is_empty() {
        let requires: &[Requirement] = if consent {
            &[NewConsent, NotifyRegulator]
        } else {
            &[InformSubjects, NotifyRegulator]
        };
        out.push(change(
            "categories_widened",
            name,
            format!("purpose `{name}` now also uses {}", list(&added)),
            requires,
        ));
    }
    let removed: BTreeSet<&String> = o.categories.difference(&p.categories).collect();
    if !removed.is_empty() {
        out.push(change(
            "categories_narrowed",
            name,
            format!("purpose `{name}` no longer uses {}", list(&removed)),
            &[DestroyData],
        ));
    }
    let actions: BTreeSet<&str> = p.actions.difference(&o.actions).map(|a| a.as_str()).collect();
    if !actions.is_empty() {
        let requires: &[Requirement] = if consent { &[NewConsent] } else { &[InformSubjects] };
        out.push(change(
            "actions_added",
            name,
            format!("purpose `{name}` now also covers {}", list(&actions)),
            requires,
        ));
    }
    if o.retention != p.retention || o.retention_after != p.retention_after {
        let show = |x: &Purpose| {
            x.retention
                .map_or_else(|| "unstated".to_owned(), |r| format!("{r} after {}", x.retention_after))
        };
        out.push(change(
            "retention_changed",
            name,
            format!("purpose `{name}` keeps data {} (was {})", show(p), show(o)),
            &[InformSubjects],
        ));
    }
    for r in p.recipients.difference(&o.recipients) {
        let Some(rec) = new.recipients.get(r) else { continue };
        let mut requires = vec![InformSubjects];
        if consent {
            requires.push(NewConsent);
        }
        if rec.country != new.operator.country {
            requires.push(CrossBorder);
        }
        out.push(PolicyChange {
            code: "recipient_added",
            subject: name.to_owned(),
            description: format!(
                "purpose `{name}` now passes data to `{r}` ({}, {})",
                rec.role, rec.country
            ),
            requires,
        });
    }
    for r in o.recipients.difference(&p.recipients) {
        out.push(change(
            "recipient_removed",
            name,
            format!("purpose `{name}` no longer passes data to `{r}`"),
            &[Nothing],
        ));
    }
    if o.methods != p.methods {
        out.push(change(
            "methods_changed",
            name,
            format!(
                "purpose `{name}` is now processed {}",
                list(&p.methods.iter().map(|m| m.as_str()).collect())
            ),
            &[InformSubjects],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;

    fn codes(old: &str, new: &str) -> Vec<(String, String, Vec<&'static str>)> {
        let (o, n) = (Policy::parse(old).unwrap(), Policy::parse(new).unwrap());
        diff(&o, &n)
            .into_iter()
            .map(|c| {
                (
                    c.code.to_owned(),
                    c.subject,
                    c.requires.iter().map(|r| r.as_str()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn rewording_requires_nothing() {
        let reworded = DEFAULT_POLICY
            .replace("version = \"1\"", "version = \"1.1\"")
            .replace("Sending news and offers", "Sending our news");
        assert_eq!(
            codes(DEFAULT_POLICY, &reworded),
            [("text_only".into(), String::new(), vec!["nothing"])]
        );
    }

    #[test]
    fn what_establishes_a_purpose_is_a_change() {
        let new = DEFAULT_POLICY.replace(
            "established_by = \"collection\"  # registering",
            "established_by = \"event\"  # registering",
        );
        assert_eq!(
            codes(DEFAULT_POLICY, &new),
            [(
                "establishment_changed".into(),
                "registration".into(),
                vec!["inform_subjects"]
            )]
        );
    }

    #[test]
    fn a_new_consent_purpose_requires_new_consent() {
        let added = format!(
            "{DEFAULT_POLICY}\n[purposes.profiling]\ntitle = \"Personal recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\", \"technical\"]\nactions = [\"use\"]\n"
        );
        let got = codes(
            DEFAULT_POLICY,
            &added.replace(
                "purposes = [\"marketing\"]",
                "purposes = [\"marketing\", \"profiling\"]",
            ),
        );
        assert_eq!(
            got,
            [(
                "purpose_added".into(),
                "profiling".into(),
                vec!["new_consent", "notify_regulator"]
            )]
        );
    }

    #[test]
    fn widening_and_recipients_and_retention_are_each_reported() {
        let new = DEFAULT_POLICY
            .replace(
                "categories = [\"technical\"]\nactions",
                "categories = [\"technical\", \"contact\"]\nactions",
            )
            .replace("retention = \"7 months\"", "retention = \"13 months\"")
            .replace(
                "country = \"RU\"\naddress = \"FILL IN: the payment processor's address\"",
                "country = \"US\"\naddress = \"FILL IN: the payment processor's address\"",
            );
        let got = codes(DEFAULT_POLICY, &new);
        assert!(
            got.contains(&(
                "categories_widened".into(),
                "analytics".into(),
                vec!["new_consent", "notify_regulator"]
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&("retention_changed".into(), "analytics".into(), vec!["inform_subjects"])),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                "recipient_country_changed".into(),
                "payment_processor".into(),
                vec!["inform_subjects", "cross_border"]
            )),
            "{got:?}"
        );
    }

    #[test]
    fn removals_require_destruction() {
        let new = DEFAULT_POLICY.replace("categories = [\"identity\", \"contact\"]\nactions = [\"collection\", \"recording\", \"storage\", \"retrieval\", \"use\", \"deletion\", \"destruction\"]", "categories = [\"contact\"]\nactions = [\"collection\", \"recording\", \"storage\", \"retrieval\", \"use\", \"deletion\", \"destruction\"]");
        let got = codes(DEFAULT_POLICY, &new);
        assert_eq!(
            got,
            [("categories_narrowed".into(), "marketing".into(), vec!["destroy_data"])]
        );
    }
}
