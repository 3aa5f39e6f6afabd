//! `[categories.*]` and `[fields.*]`: the categories of personal data and the fields in them.

use super::super::{Category, FieldDef, Purpose};
use super::checker::{one_of, Checker};
use super::raw::{RawCategory, RawField, RawRequired};
use crate::action::ProcessingAction;
use crate::value::{FieldType, DEFAULT_TEXT_MAX, TEXT_MAX_LIMIT};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Where each field is declared, for diagnostics found once the purposes are known.
pub(super) type FieldSpans = BTreeMap<String, Range<usize>>;

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
) -> (BTreeMap<String, FieldDef>, FieldSpans) {
    let mut fields = BTreeMap::new();
    let mut spans = FieldSpans::new();
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
        let unique = f.unique.as_ref().is_some_and(|u| *u.get_ref());
        if let (Some(u), true, false) = (&f.unique, unique, f.lookup) {
            c.report(
                u.span(),
                format!(
                    "field `{}` cannot be unique without a blind index: Ward finds a value's holders through it",
                    name.get_ref()
                ),
                Some("add lookup = true to the field".into()),
            );
        }
        let title = f.title.unwrap_or_else(|| name.get_ref().clone());
        let (required, required_for) = match f.required {
            None | Some(RawRequired::All(false)) => (false, Default::default()),
            Some(RawRequired::All(true)) => (true, Default::default()),
            Some(RawRequired::Purposes(list)) => (true, list.into_iter().collect()),
        };
        spans.insert(name.get_ref().clone(), name.span());
        fields.insert(
            name.into_inner(),
            FieldDef {
                title,
                category: f.category.into_inner(),
                field_type,
                lookup: f.lookup,
                unique,
                required,
                required_for,
            },
        );
    }
    (fields, spans)
}

/// `required = [...]` names purposes that collect the field: each is declared, uses the
/// field's category and covers `collection`.
pub(super) fn check_required(
    c: &mut Checker<'_>,
    fields: &BTreeMap<String, FieldDef>,
    spans: &FieldSpans,
    purposes: &BTreeMap<String, Purpose>,
) {
    for (name, f) in fields {
        for p in &f.required_for {
            let problem = match purposes.get(p) {
                None => format!("field `{name}` is required for purpose `{p}`, which is not declared"),
                Some(def) if !def.categories.contains(&f.category) => format!(
                    "field `{name}` is required for purpose `{p}`, which does not use its category `{}`",
                    f.category
                ),
                Some(def) if !def.actions.contains(&ProcessingAction::Collection) => {
                    format!("field `{name}` is required for purpose `{p}`, which does not cover `collection`")
                }
                Some(_) => continue,
            };
            let hint = Some(format!(
                "name purposes that collect it: {}",
                one_of(
                    purposes
                        .iter()
                        .filter(|(_, d)| d.categories.contains(&f.category)
                            && d.actions.contains(&ProcessingAction::Collection))
                        .map(|(n, _)| n.as_str())
                )
            ));
            c.report(spans.get(name).cloned().unwrap_or(0..0), problem, hint);
        }
    }
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
