//! `[purposes.*]`: what the data is for, on which legal basis, which categories and actions
//! each purpose covers, how long it keeps the data, and to whom it passes them.

use super::super::register::{ProcessingMethod, Recipient, RetentionStart};
use super::super::{Category, Purpose};
use super::checker::{one_of, Checker};
use super::raw::RawPurpose;
use crate::action::{LegalBasis, ProcessingAction};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

pub(super) fn purposes(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawPurpose>,
    categories: &BTreeMap<String, Category>,
    recipients: &BTreeMap<String, Recipient>,
) -> BTreeMap<String, Purpose> {
    let mut purposes = BTreeMap::new();
    for (name, p) in raw {
        c.identifier("purpose", &name);
        let purpose = purpose(c, &name, p, categories, recipients);
        purposes.insert(name.into_inner(), purpose);
    }
    purposes
}

fn purpose(
    c: &mut Checker<'_>,
    name: &Spanned<String>,
    p: RawPurpose,
    categories: &BTreeMap<String, Category>,
    recipients: &BTreeMap<String, Recipient>,
) -> Purpose {
    let (legal_basis, fz152_item) = legal_basis(c, name, &p);
    let cats = purpose_categories(c, name, &p, categories);
    let actions = actions(c, name, &p);
    let owner = format!("purpose `{}`", name.get_ref());
    let methods: BTreeSet<ProcessingMethod> = match &p.methods {
        None => BTreeSet::from([ProcessingMethod::Automated]),
        Some(list) => list
            .iter()
            .filter_map(|m| c.parse_enum::<ProcessingMethod>(&owner, "method", m))
            .collect(),
    };
    let retention = p.retention.as_ref().and_then(|r| c.retention(&owner, "retention", r));
    let retention_after = p
        .retention_after
        .as_ref()
        .and_then(|r| c.parse_enum::<RetentionStart>(&owner, "retention_after", r))
        .unwrap_or(RetentionStart::Collection);
    let purpose_recipients = c.references(&owner, "recipient", &p.recipients, recipients);
    check_transfers(c, &owner, &p, &actions, &cats, &purpose_recipients, recipients);
    Purpose {
        title: p.title,
        description: p.description,
        legal_basis,
        fz152_item,
        categories: cats,
        actions,
        methods,
        retention,
        retention_after,
        recipients: purpose_recipients,
        service_notices: p.service_notices,
    }
}

/// The legal basis, and the item of 152-FZ Art. 6 p. 1 it cites.
fn legal_basis(c: &mut Checker<'_>, name: &Spanned<String>, p: &RawPurpose) -> (LegalBasis, String) {
    let legal_basis = match p.legal_basis.get_ref().parse::<LegalBasis>() {
        Ok(b) => b,
        Err(e) => {
            c.report(
                p.legal_basis.span(),
                format!(
                    "purpose `{}` has unknown legal_basis `{}`",
                    name.get_ref(),
                    p.legal_basis.get_ref()
                ),
                Some(e.to_string()),
            );
            LegalBasis::Consent
        }
    };
    let fz152_item = match &p.fz152_item {
        Some(item) => {
            if !legal_basis.fz152_items().contains(&item.get_ref().as_str()) {
                c.report(
                    item.span(),
                    format!(
                        "purpose `{}`: 152-FZ Art. 6 p. 1 item {} does not match legal_basis `{legal_basis}`",
                        name.get_ref(),
                        item.get_ref()
                    ),
                    Some(format!(
                        "for `{legal_basis}` cite item {}",
                        legal_basis.fz152_items().join(" or ")
                    )),
                );
            }
            item.get_ref().clone()
        }
        None => legal_basis.fz152_items()[0].to_owned(),
    };
    (legal_basis, fz152_item)
}

/// The categories of data the purpose uses: declared, each once, at least one.
fn purpose_categories(
    c: &mut Checker<'_>,
    name: &Spanned<String>,
    p: &RawPurpose,
    categories: &BTreeMap<String, Category>,
) -> BTreeSet<String> {
    let mut cats = BTreeSet::new();
    for cat in p.categories.get_ref() {
        if !categories.contains_key(cat.get_ref()) {
            c.report(
                cat.span(),
                format!(
                    "purpose `{}` uses category `{}`, which is not declared",
                    name.get_ref(),
                    cat.get_ref()
                ),
                Some(format!("use {}", one_of(categories.keys().map(String::as_str)))),
            );
        }
        if !cats.insert(cat.get_ref().clone()) {
            c.report(
                cat.span(),
                format!("purpose `{}` lists category `{}` twice", name.get_ref(), cat.get_ref()),
                None,
            );
        }
    }
    if cats.is_empty() {
        c.report(
            p.categories.span(),
            format!("purpose `{}` uses no categories of data", name.get_ref()),
            Some("list the categories it needs, e.g. categories = [\"contact\"]".into()),
        );
    }
    cats
}

/// The processing actions the purpose covers: known, each once, at least one.
fn actions(c: &mut Checker<'_>, name: &Spanned<String>, p: &RawPurpose) -> BTreeSet<ProcessingAction> {
    let mut actions = BTreeSet::new();
    for a in p.actions.get_ref() {
        match a.get_ref().parse::<ProcessingAction>() {
            Ok(act) => {
                if !actions.insert(act) {
                    c.report(
                        a.span(),
                        format!("purpose `{}` lists action `{act}` twice", name.get_ref()),
                        None,
                    );
                }
            }
            Err(e) => c.report(
                a.span(),
                format!("purpose `{}` has unknown action `{}`", name.get_ref(), a.get_ref()),
                Some(e.to_string()),
            ),
        }
    }
    if actions.is_empty() {
        c.report(
            p.actions.span(),
            format!("purpose `{}` covers no processing actions", name.get_ref()),
            Some("e.g. actions = [\"collection\", \"storage\", \"use\"]".into()),
        );
    }
    actions
}

/// A purpose that passes data to recipients covers a transfer action, and shares a category
/// of data with each recipient.
fn check_transfers(
    c: &mut Checker<'_>,
    owner: &str,
    p: &RawPurpose,
    actions: &BTreeSet<ProcessingAction>,
    cats: &BTreeSet<String>,
    purpose_recipients: &BTreeSet<String>,
    recipients: &BTreeMap<String, Recipient>,
) {
    let passes_on = [
        ProcessingAction::Provision,
        ProcessingAction::Access,
        ProcessingAction::Distribution,
    ];
    if !purpose_recipients.is_empty() && !passes_on.iter().any(|a| actions.contains(a)) {
        c.report(
            p.actions.span(),
            format!("{owner} passes data to recipients but covers none of the transfer actions"),
            Some("add \"provision\" (to a defined recipient) to its actions".into()),
        );
    }
    for r in purpose_recipients {
        // A purpose passes a recipient the categories both name; none in common is a mistake.
        if let Some(rec) = recipients.get(r) {
            if rec.categories.is_disjoint(cats) {
                c.report(
                    p.actions.span(),
                    format!("{owner} passes data to `{r}`, but they have no category of data in common"),
                    Some("add one of the recipient's categories to the purpose, or the other way round".into()),
                );
            }
        }
    }
}
