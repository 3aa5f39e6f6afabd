//! The checker every section of the register reports to, and its shared checks: identifiers,
//! references between sections, enumerations, periods, placeholders.

use super::super::register::{self, Retention};
use super::PolicyDiagnostic;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// Collects the problems (which make the policy invalid) and the warnings (placeholders to
/// fill in) found while checking a policy file, each with its line.
pub(super) struct Checker<'s> {
    src: &'s str,
    pub(super) problems: Vec<PolicyDiagnostic>,
    pub(super) warnings: Vec<PolicyDiagnostic>,
}

impl<'s> Checker<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Checker {
            src,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(super) fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    pub(super) fn report(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        let line = Some(self.line_of(span));
        self.problems.push(PolicyDiagnostic { line, message, hint });
    }

    pub(super) fn warn(&mut self, span: Range<usize>, message: String) {
        let line = Some(self.line_of(span));
        self.warnings.push(PolicyDiagnostic {
            line,
            message,
            hint: None,
        });
    }

    /// Notes a `FILL IN` placeholder and passes the value through.
    pub(super) fn text(&mut self, what: &str, v: Spanned<String>) -> String {
        if register::is_placeholder(v.get_ref()) {
            self.warn(v.span(), format!("{what} is a placeholder to fill in: {}", v.get_ref()));
        }
        v.into_inner()
    }

    /// Names in `list` that must be keys of `known`.
    pub(super) fn references<V>(
        &mut self,
        owner: &str,
        what: &str,
        list: &[Spanned<String>],
        known: &BTreeMap<String, V>,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in list {
            if !known.contains_key(item.get_ref()) {
                self.report(
                    item.span(),
                    format!("{owner} names {what} `{}`, which is not declared", item.get_ref()),
                    Some(format!("use {}", one_of(known.keys().map(String::as_str)))),
                );
            }
            if !out.insert(item.get_ref().clone()) {
                self.report(
                    item.span(),
                    format!("{owner} lists {what} `{}` twice", item.get_ref()),
                    None,
                );
            }
        }
        out
    }

    pub(super) fn parse_enum<T: std::str::FromStr<Err = crate::action::UnknownName>>(
        &mut self,
        owner: &str,
        key: &str,
        v: &Spanned<String>,
    ) -> Option<T> {
        match v.get_ref().parse::<T>() {
            Ok(x) => Some(x),
            Err(e) => {
                self.report(
                    v.span(),
                    format!("{owner} has unknown {key} `{}`", v.get_ref()),
                    Some(e.to_string()),
                );
                None
            }
        }
    }

    pub(super) fn retention(&mut self, owner: &str, key: &str, v: &Spanned<String>) -> Option<Retention> {
        let r = Retention::parse(v.get_ref());
        if r.is_none() {
            self.report(
                v.span(),
                format!("{owner} has {key} `{}`, which is not a period", v.get_ref()),
                Some(
                    "write e.g. \"30 days\", \"7 months\", \"3 years\", \"until_withdrawal\" or \"until_achieved\""
                        .into(),
                ),
            );
        }
        r
    }

    pub(super) fn identifier(&mut self, what: &str, id: &Spanned<String>) {
        let s = id.get_ref();
        let ok = s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            self.report(
                id.span(),
                format!("{what} name `{s}` is not a valid identifier"),
                Some("use 1 to 64 characters of a-z, 0-9 and _, starting with a letter".into()),
            );
        }
    }
}

/// "one of: a, b, c", or that none are declared.
pub(super) fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.into_iter().collect();
    if v.is_empty() {
        "none are declared".into()
    } else {
        format!("one of: {}", v.join(", "))
    }
}
