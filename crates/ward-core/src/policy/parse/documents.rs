//! `[consent_documents.*]`: the consents a subject gives, each covering consent-based
//! purposes; one implied per such purpose when the policy declares none.

use super::super::register::{self, ConsentDocument, ConsentForm, ConsentKind, MarketingChannel, Retention};
use super::super::Purpose;
use super::checker::Checker;
use super::raw::RawDocument;
use super::PolicyDiagnostic;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// Consent documents, and the implied one-per-purpose documents when none are declared.
pub(super) fn documents(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawDocument>,
    purposes: &BTreeMap<String, Purpose>,
) -> BTreeMap<String, ConsentDocument> {
    let mut docs = BTreeMap::new();
    let declared = !raw.is_empty();
    for (name, d) in raw {
        c.identifier("consent document", &name);
        let owner = format!("consent document `{}`", name.get_ref());
        let kind = c
            .parse_enum::<ConsentKind>(&owner, "kind", &d.kind)
            .unwrap_or(ConsentKind::Processing);
        let covered = c.references(&owner, "purpose", d.purposes.get_ref(), purposes);
        for p in d.purposes.get_ref() {
            if purposes
                .get(p.get_ref())
                .is_some_and(|x| !x.legal_basis.needs_consent())
            {
                c.report(
                    p.span(),
                    format!(
                        "{owner} covers purpose `{}`, whose legal basis is not consent",
                        p.get_ref()
                    ),
                    Some("only consent-based purposes belong in a consent document".into()),
                );
            }
        }
        if covered.is_empty() {
            c.report(d.purposes.span(), format!("{owner} covers no purposes"), None);
        }
        let channel = d
            .channel
            .as_ref()
            .and_then(|ch| c.parse_enum::<MarketingChannel>(&owner, "channel", ch));
        match (kind, &d.channel) {
            (ConsentKind::Marketing, None) => c.report(
                d.kind.span(),
                format!("{owner} is a marketing consent but names no channel"),
                Some("each channel is consented to separately: add channel = \"email\" (or sms, calls, push)".into()),
            ),
            (k, Some(ch)) if k != ConsentKind::Marketing => c.report(
                ch.span(),
                format!("{owner} has a channel but is not a marketing consent"),
                Some("remove channel, or set kind = \"marketing\"".into()),
            ),
            _ => {}
        }
        match (kind, &d.cookie_category) {
            (ConsentKind::Cookies, None) => c.report(
                d.kind.span(),
                format!("{owner} is a cookie consent but names no cookie_category"),
                Some(format!("use one of: {}", register::COOKIE_CATEGORIES.join(", "))),
            ),
            (ConsentKind::Cookies, Some(cat)) if !register::COOKIE_CATEGORIES.contains(&cat.get_ref().as_str()) => c
                .report(
                    cat.span(),
                    format!("{owner} has unknown cookie_category `{}`", cat.get_ref()),
                    Some(format!(
                        "use one of: {} (strictly necessary cookies need no consent)",
                        register::COOKIE_CATEGORIES.join(", ")
                    )),
                ),
            (k, Some(cat)) if k != ConsentKind::Cookies => c.report(
                cat.span(),
                format!("{owner} has a cookie_category but is not a cookie consent"),
                None,
            ),
            _ => {}
        }
        let term = d.term.as_ref().and_then(|t| c.retention(&owner, "term", t));
        if let (Some(t), Some(Retention::UntilAchieved | Retention::UntilWithdrawal)) = (&d.term, term) {
            c.report(
                t.span(),
                format!("{owner}'s term must be a period"),
                Some("e.g. term = \"3 years\"; leave it out for consent until withdrawn".into()),
            );
        }
        for (key, v) in [("withdrawal", &d.withdrawal), ("text", &d.text)] {
            if v.get_ref().trim().is_empty() {
                c.report(v.span(), format!("{owner} has an empty {key}"), None);
            }
        }
        let form = d
            .form
            .as_ref()
            .and_then(|f| c.parse_enum::<ConsentForm>(&owner, "form", f))
            .unwrap_or(ConsentForm::Any);
        let withdrawal = c.text(&format!("{owner}'s withdrawal"), d.withdrawal);
        let text = c.text(&format!("{owner}'s text"), d.text);
        docs.insert(
            name.into_inner(),
            ConsentDocument {
                title: d.title,
                kind,
                purposes: covered,
                channel,
                cookie_category: d.cookie_category.map(Spanned::into_inner),
                term,
                withdrawal,
                text,
                version: d.version.unwrap_or_else(|| "1".to_owned()),
                form,
                implied: false,
            },
        );
    }
    for (name, p) in purposes.iter().filter(|(_, p)| p.legal_basis.needs_consent()) {
        if docs.values().any(|d: &ConsentDocument| d.purposes.contains(name)) {
            continue;
        }
        if declared {
            c.problems.push(PolicyDiagnostic {
                line: None,
                message: format!("consent-based purpose `{name}` is covered by no consent document"),
                hint: Some(format!("add `{name}` to the purposes of a [consent_documents.*] table")),
            });
        } else if !docs.contains_key(name) {
            docs.insert(
                name.clone(),
                ConsentDocument {
                    title: format!("Consent: {}", p.title),
                    kind: ConsentKind::Processing,
                    purposes: BTreeSet::from([name.clone()]),
                    channel: None,
                    cookie_category: None,
                    term: None,
                    withdrawal: "Withdraw at any time through the operator; processing for this purpose stops at once."
                        .into(),
                    text: format!("I consent to the processing of my personal data for: {}.", p.title),
                    version: "1".into(),
                    form: ConsentForm::Any,
                    implied: true,
                },
            );
        }
    }
    docs
}
