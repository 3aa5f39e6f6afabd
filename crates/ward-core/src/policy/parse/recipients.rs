//! `[recipients.*]`: those the operator passes data to.

use super::super::register::{self, Recipient, RecipientRole};
use super::super::Category;
use super::checker::Checker;
use super::raw::RawRecipient;
use std::collections::BTreeMap;
use toml::Spanned;

pub(super) fn recipients(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawRecipient>,
    categories: &BTreeMap<String, Category>,
) -> BTreeMap<String, Recipient> {
    let mut recipients = BTreeMap::new();
    for (name, r) in raw {
        c.identifier("recipient", &name);
        let owner = format!("recipient `{}`", name.get_ref());
        let role = c
            .parse_enum::<RecipientRole>(&owner, "role", &r.role)
            .unwrap_or(RecipientRole::Processor);
        if !register::valid_country(r.country.get_ref()) {
            c.report(
                r.country.span(),
                format!(
                    "{owner} has country `{}`, which is not an ISO 3166 code",
                    r.country.get_ref()
                ),
                Some("two capital letters, e.g. \"RU\", \"DE\", \"US\"".into()),
            );
        }
        let cats = c.references(&owner, "category", r.categories.get_ref(), categories);
        let address = r.address.map(|a| c.text(&format!("{owner}'s address"), a));
        recipients.insert(
            name.into_inner(),
            Recipient {
                title: r.title,
                role,
                country: r.country.into_inner(),
                address,
                categories: cats,
            },
        );
    }
    recipients
}
