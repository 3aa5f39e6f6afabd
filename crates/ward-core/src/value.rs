//! Field values, parsed at the boundary ("parse, don't validate"). A [`FieldValue`] can only
//! hold a valid, normalised value of its type; nothing downstream checks again.
//!
//! Architecture Invariant: a [`ValueError`] never contains the rejected input, so an error
//! message cannot leak personal data into logs or HTTP responses.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::str::FromStr;

/// Default and maximum size of a free-text field, in characters.
pub const DEFAULT_TEXT_MAX: usize = 1_000;
pub const TEXT_MAX_LIMIT: usize = 65_536;

/// The type of a field, declared in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    /// An email address; normalised to lower case.
    Email,
    /// A phone number; normalised to E.164 (`+79161234567`). Numbers without a country code
    /// are read in the policy's default region.
    Phone,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Free text of at most `max_length` characters, no control characters but newline and tab.
    Text { max_length: usize },
    /// An IPv4 or IPv6 address, in canonical form.
    Ip,
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Date => "date",
            FieldType::Text { .. } => "text",
            FieldType::Ip => "ip",
        }
    }

    /// Parses and normalises `raw` as a value of this type. `region` is the ISO 3166 country
    /// used for phone numbers written without a country code.
    pub fn parse(&self, raw: &str, region: &str) -> Result<FieldValue, ValueError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ValueError::Empty);
        }
        let normalised = match self {
            FieldType::Email => parse_email(s)?,
            FieldType::Phone => parse_phone(s, region)?,
            FieldType::Date => parse_date(s)?,
            FieldType::Text { max_length } => parse_text(s, *max_length)?,
            FieldType::Ip => IpAddr::from_str(s).map_err(|_| ValueError::Ip)?.to_string(),
        };
        Ok(FieldValue(normalised))
    }
}

/// A valid, normalised field value. Deliberately has no `Debug` that prints the value.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldValue(String);

impl FieldValue {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
    /// Wraps a value that was parsed before (e.g. decrypted from the vault).
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldValue(<redacted>)")
    }
}

/// Why a value was rejected. Never carries the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("the value is empty")]
    Empty,
    #[error("not a valid email address (expected local@domain)")]
    Email,
    #[error("not a valid phone number (expected an international number such as +7 916 123-45-67)")]
    Phone,
    #[error("not a valid date (expected YYYY-MM-DD)")]
    Date,
    #[error("text is longer than {max} characters")]
    TooLong { max: usize },
    #[error("text contains control characters")]
    ControlCharacters,
    #[error("not a valid IP address")]
    Ip,
    #[error("expected a string")]
    NotAString,
}

fn parse_email(s: &str) -> Result<String, ValueError> {
    if s.len() > 254 || s.contains(|c: char| c.is_whitespace() || c == '<' || c == '>') {
        return Err(ValueError::Email);
    }
    let addr = email_address::EmailAddress::from_str(s).map_err(|_| ValueError::Email)?;
    if !addr.domain().contains('.') {
        return Err(ValueError::Email);
    }
    Ok(s.to_lowercase())
}

fn parse_phone(s: &str, region: &str) -> Result<String, ValueError> {
    if s.len() > 40 {
        return Err(ValueError::Phone);
    }
    let country = phonenumber::country::Id::from_str(region).ok();
    let number = phonenumber::parse(country, s).map_err(|_| ValueError::Phone)?;
    if !phonenumber::is_valid(&number) {
        return Err(ValueError::Phone);
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

fn parse_date(s: &str) -> Result<String, ValueError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &format).map_err(|_| ValueError::Date)?;
    d.format(&format).map_err(|_| ValueError::Date)
}

fn parse_text(s: &str, max: usize) -> Result<String, ValueError> {
    if s.chars().count() > max {
        return Err(ValueError::TooLong { max });
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValueError::ControlCharacters);
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: FieldType, input: &str, expect: Result<&str, ValueError>) {
        let got = t.parse(input, "RU").map(FieldValue::into_string);
        assert_eq!(got.as_deref().map_err(Clone::clone), expect, "input {input:?}");
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        check(
            FieldType::Email,
            " Anna.Petrova@Example.RU ",
            Ok("anna.petrova@example.ru"),
        );
        check(FieldType::Email, "no-at-sign", Err(ValueError::Email));
        check(FieldType::Email, "Anna <a@b.ru>", Err(ValueError::Email));
        check(FieldType::Email, "a@localhost", Err(ValueError::Email));
        check(FieldType::Email, "", Err(ValueError::Empty));
    }

    #[test]
    fn phones_become_e164() {
        check(FieldType::Phone, "+7 (916) 123-45-67", Ok("+79161234567"));
        check(FieldType::Phone, "8 916 123 45 67", Ok("+79161234567"));
        check(FieldType::Phone, "+1 650-253-0000", Ok("+16502530000"));
        check(FieldType::Phone, "12", Err(ValueError::Phone));
        check(FieldType::Phone, "call me", Err(ValueError::Phone));
    }

    #[test]
    fn dates_and_text_and_ips() {
        check(FieldType::Date, "1990-02-28", Ok("1990-02-28"));
        check(FieldType::Date, "1990-02-30", Err(ValueError::Date));
        check(FieldType::Date, "28.02.1990", Err(ValueError::Date));
        check(FieldType::Text { max_length: 5 }, "Анна", Ok("Анна"));
        check(
            FieldType::Text { max_length: 3 },
            "Анна",
            Err(ValueError::TooLong { max: 3 }),
        );
        check(
            FieldType::Text { max_length: 9 },
            "a\u{0}b",
            Err(ValueError::ControlCharacters),
        );
        check(FieldType::Ip, "2001:DB8::1", Ok("2001:db8::1"));
        check(FieldType::Ip, "300.1.1.1", Err(ValueError::Ip));
    }

    #[test]
    fn errors_never_echo_the_input() {
        let secret = "very-secret-value";
        for t in [FieldType::Email, FieldType::Phone, FieldType::Date, FieldType::Ip] {
            let e = t.parse(secret, "RU").unwrap_err();
            assert!(!e.to_string().contains(secret));
        }
        assert_eq!(
            format!("{:?}", FieldValue::from_trusted(secret.into())),
            "FieldValue(<redacted>)"
        );
    }
}
