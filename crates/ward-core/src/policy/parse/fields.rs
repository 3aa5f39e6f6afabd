//! `[categories.*]` and `[fields.*]`: the categories of personal data and the fields in them.

use super::super::{Category, FieldDef};
use super::checker::{one_of, Checker};
use super::raw::{RawCategory, RawField};
use crate::value::{FieldType, DEFAULT_TEXT_MAX, TEXT_MAX_LIMIT};
use std::collections::BTreeMap;
use toml::Spanned;

pub(super) fn categories(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawCategory>,
) -> BTreeMap<String, Category> {
    let mut categories = BTreeMap::new();
    for (name, cat) in raw {
        c.identifier("category", &name);
        categories.insert(
            name.into_inner(),
            Category {
                title: cat.title,
                description: cat.description,
                special: cat.special,
            },
        );
    }
    categories
}

pub(super) fn fields(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawField>,
    categories: &BTreeMap<String, Category>,
) -> BTreeMap<String, FieldDef> {
    let mut fields = BTreeMap::new();
    for (name, f) in raw {
        c.identifier("field", &name);
        if !categories.contains_key(f.category.get_ref()) {
            c.report(
                f.category.span(),
                format!(
                    "field `{}` is in category `{}`, which is not declared",
                    name.get_ref(),
                    f.category.get_ref()
                ),
                Some(format!(
                    "declare [categories.{}] or use {}",
                    f.category.get_ref(),
                    one_of(categories.keys().map(String::as_str))
                )),
            );
        }
        let field_type = field_type(c, &name, &f);
        if let (Some(m), false) = (&f.max_length, matches!(field_type, FieldType::Text { .. })) {
            c.report(
                m.span(),
                format!(
                    "max_length applies only to text fields, and `{}` is a {} field",
                    name.get_ref(),
                    field_type.name()
                ),
                Some("remove max_length".into()),
            );
        }
        if f.lookup && !matches!(field_type, FieldType::Email | FieldType::Phone | FieldType::Text { .. }) {
            c.report(
                f.ty.span(),
                format!(
                    "field `{}` cannot have lookup = true: only email, phone and text fields can be looked up",
                    name.get_ref()
                ),
                None,
            );
        }
        let title = f.title.unwrap_or_else(|| name.get_ref().clone());
        fields.insert(
            name.into_inner(),
            FieldDef {
                title,
                category: f.category.into_inner(),
                field_type,
                lookup: f.lookup,
                required: f.required,
            },
        );
    }
    fields
}

/// The field's type, with a text field's maximum length.
fn field_type(c: &mut Checker<'_>, name: &Spanned<String>, f: &RawField) -> FieldType {
    match f.ty.get_ref().as_str() {
        "email" => FieldType::Email,
        "phone" => FieldType::Phone,
        "date" => FieldType::Date,
        "ip" => FieldType::Ip,
        "text" => {
            let max = match &f.max_length {
                None => DEFAULT_TEXT_MAX,
                Some(m) => match usize::try_from(*m.get_ref()) {
                    Ok(v) if (1..=TEXT_MAX_LIMIT).contains(&v) => v,
                    _ => {
                        c.report(
                            m.span(),
                            format!("max_length {} is out of range", m.get_ref()),
                            Some(format!("use 1 to {TEXT_MAX_LIMIT}")),
                        );
                        DEFAULT_TEXT_MAX
                    }
                },
            };
            FieldType::Text { max_length: max }
        }
        other => {
            c.report(
                f.ty.span(),
                format!("field `{}` has unknown type `{other}`", name.get_ref()),
                Some("use one of: email, phone, date, text, ip".into()),
            );
            FieldType::Text {
                max_length: DEFAULT_TEXT_MAX,
            }
        }
    }
}
