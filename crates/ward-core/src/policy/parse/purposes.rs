//! `[purposes.*]`: what the data is for, on which legal basis, which categories and actions
//! each purpose covers, how long it keeps the data, and to whom it passes them.

use super::super::register::{ProcessingMethod, Recipient, RetentionStart};
use super::super::{Category, EstablishedBy, Purpose};
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
    let mut shared = Vec::new();
    for (name, p) in raw {
        c.identifier("purpose", &name);
        if let Some(of) = &p.basis_of {
            shared.push((name.get_ref().clone(), of.clone(), p.established_by.is_some()));
        }
        let purpose = purpose(c, &name, p, categories, recipients);
        purposes.insert(name.into_inner(), purpose);
    }
    for (name, of, own) in shared {
        check_basis_of(c, &purposes, &name, &of, own);
    }
    purposes
}

/// `basis_of` names another declared purpose on the same legal basis (not consent), which
/// does not itself rest on a third; the purpose then has no `established_by` of its own.
fn check_basis_of(
    c: &mut Checker<'_>,
    purposes: &BTreeMap<String, Purpose>,
    name: &str,
    of: &Spanned<String>,
    own: bool,
) {
    let owner = format!("purpose `{name}`");
    let me = &purposes[name];
    let problem = match purposes.get(of.get_ref()) {
        _ if own => Some("it follows another purpose's basis; `established_by` does not apply".to_owned()),
        None => Some(format!("`basis_of` names `{}`, which is not declared", of.get_ref())),
        Some(_) if of.get_ref() == name => Some("`basis_of` names the purpose itself".to_owned()),
        Some(o) if o.legal_basis != me.legal_basis || me.legal_basis.needs_consent() => Some(format!(
            "`basis_of` names `{}`, which rests on `{}`, not on `{}` (consent purposes have no basis_of)",
            of.get_ref(),
            o.legal_basis,
            me.legal_basis
        )),
        Some(o) if o.basis_of.is_some() => Some(format!(
            "`basis_of` names `{}`, which itself follows another purpose; name that one",
            of.get_ref()
        )),
        Some(_) => None,
    };
    if let Some(p) = problem {
        c.report(of.span(), format!("{owner}: {p}"), None);
    }
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
    let (established_by, assessment) = establishment(c, &owner, &p, legal_basis);
    if established_by == EstablishedBy::Collection
        && !legal_basis.needs_consent()
        && !actions.contains(&ProcessingAction::Collection)
        && !actions.contains(&ProcessingAction::Rectification)
    {
        if let Some(e) = &p.established_by {
            c.report(
                e.span(),
                format!("{owner} is established by collection but covers neither `collection` nor `rectification`: nothing could establish it"),
                Some("add the action, or use established_by = \"event\"".into()),
            );
        }
    }
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
        established_by,
        assessment,
        basis_of: p.basis_of.map(Spanned::into_inner),
    }
}

/// What establishes a non-consent purpose for a subject (default `event`: nothing is assumed),
/// and a legitimate interest's assessment. A consent purpose is established by consent alone.
fn establishment(
    c: &mut Checker<'_>,
    owner: &str,
    p: &RawPurpose,
    basis: LegalBasis,
) -> (EstablishedBy, Option<String>) {
    if basis.needs_consent() {
        if let Some(e) = &p.established_by {
            c.report(
                e.span(),
                format!("{owner} rests on consent, which alone establishes it; `established_by` does not apply"),
                Some("remove `established_by`".into()),
            );
        }
    }
    let established_by = p
        .established_by
        .as_ref()
        .and_then(|e| c.parse_enum::<EstablishedBy>(owner, "established_by", e))
        .unwrap_or(EstablishedBy::Event);
    if let Some(a) = &p.assessment {
        if basis != LegalBasis::LegitimateInterests {
            c.report(
                a.span(),
                format!("{owner} rests on `{basis}`: only a legitimate interest names an assessment"),
                Some("remove `assessment`".into()),
            );
        }
    }
    let assessment = p
        .assessment
        .clone()
        .map(|a| c.text(&format!("{owner}'s assessment"), a));
    (established_by, assessment)
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
