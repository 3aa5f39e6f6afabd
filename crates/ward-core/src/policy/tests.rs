use super::*;
use crate::action::{LegalBasis, ProcessingAction};
use crate::value::FieldType;

fn problems(src: &str) -> Vec<String> {
    Policy::parse(src)
        .expect_err("expected problems")
        .into_iter()
        .map(|d| d.to_string())
        .collect()
}

const MINIMAL: &str = r#"
[policy]
id = "shop"
version = "1"

[categories.contact]
title = "Contact"

[fields.email]
category = "contact"
type = "email"
lookup = true

[purposes.marketing]
title = "News"
legal_basis = "consent"
categories = ["contact"]
actions = ["collection", "use"]
"#;

#[test]
fn default_policy_parses() {
    let p = Policy::parse(DEFAULT_POLICY).expect("default policy is valid");
    assert_eq!(p.id, "website");
    assert_eq!(p.purpose("marketing").unwrap().legal_basis, LegalBasis::Consent);
    assert_eq!(p.field("email").unwrap().field_type, FieldType::Email);
    let lookups: Vec<_> = p.lookup_fields().map(|(n, _)| n).collect();
    assert_eq!(lookups, ["email", "phone"]);
    let marketing = p.purpose("marketing").unwrap();
    let fields: Vec<_> = p.fields_for(marketing).collect();
    assert_eq!(fields, ["birth_date", "email", "full_name", "phone", "postal_address"]);
}

#[test]
fn minimal_policy_parses_with_defaults() {
    let p = Policy::parse(MINIMAL).unwrap();
    assert_eq!(p.default_region, "RU");
    let m = p.purpose("marketing").unwrap();
    assert_eq!(m.fz152_item, "1");
    assert!(m.covers(ProcessingAction::Use));
    assert!(!m.covers(ProcessingAction::Distribution));
}

#[test]
fn undeclared_category_is_reported_with_its_line_and_choices() {
    let src = MINIMAL.replace("categories = [\"contact\"]", "categories = [\"contactz\"]");
    let p = problems(&src);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with(
            "line 17: purpose `marketing` uses category `contactz`, which is not declared (use one of: contact)"
        ),
        "{p:?}"
    );
    assert!(
        p[1].contains("no purpose uses the category of field(s) `email`"),
        "{p:?}"
    );
}

#[test]
fn syntax_errors_have_a_line() {
    let p = problems("[policy]\nid = \"x\"\nversion = \n");
    assert!(p[0].starts_with("line 3:"), "{p:?}");
}

#[test]
fn unknown_keys_are_rejected() {
    let src = MINIMAL.replace("lookup = true", "lookup = true\nindexed = true");
    let p = problems(&src);
    assert!(p[0].contains("unknown field `indexed`"), "{p:?}");
    assert!(p[0].starts_with("line 13:"), "{p:?}");
}

#[test]
fn bad_values_each_get_a_plain_message() {
    let src = MINIMAL
        .replace("type = \"email\"", "type = \"emial\"")
        .replace(
            "legal_basis = \"consent\"",
            "legal_basis = \"consentt\"\nfz152_item = \"5\"",
        )
        .replace("\"collection\", \"use\"", "\"collection\", \"sell\"");
    let p = problems(&src);
    let all = p.join("\n");
    assert!(
        all.contains("line 11: field `email` has unknown type `emial` (use one of: email, phone, date, text, ip)"),
        "{all}"
    );
    assert!(all.contains("unknown legal_basis `consentt`"), "{all}");
    assert!(
        all.contains("unknown action `sell` (expected one of: collection,"),
        "{all}"
    );
}

#[test]
fn legal_basis_and_fz152_item_must_agree() {
    let src = MINIMAL.replace(
        "legal_basis = \"consent\"",
        "legal_basis = \"consent\"\nfz152_item = \"5\"",
    );
    let p = problems(&src);
    assert!(
        p[0].contains("item 5 does not match legal_basis `consent` (for `consent` cite item 1)"),
        "{p:?}"
    );
}

#[test]
fn identifiers_are_checked() {
    let src = MINIMAL.replace("[fields.email]", "[fields.E-mail]");
    let p = problems(&src);
    assert!(p[0].contains("field name `E-mail` is not a valid identifier"), "{p:?}");
}

#[test]
fn text_limits_are_checked() {
    let src = MINIMAL.replace("type = \"email\"\nlookup = true", "type = \"email\"\nmax_length = 10");
    let p = problems(&src);
    assert!(p[0].contains("max_length applies only to text fields"), "{p:?}");
}

#[test]
fn the_default_register_has_recipients_retention_and_documents() {
    let p = Policy::parse(DEFAULT_POLICY).unwrap();
    let payment = p.purpose("payment").unwrap();
    assert_eq!(payment.recipients.iter().collect::<Vec<_>>(), ["payment_processor"]);
    assert_eq!(p.cross_border_recipients(payment).count(), 0);
    assert_eq!(
        p.purpose("analytics").unwrap().retention.unwrap().to_string(),
        "7 months"
    );
    assert!(p.purpose("registration").unwrap().service_notices);
    let docs: Vec<_> = p.documents_for("marketing").map(|(n, _)| n).collect();
    assert_eq!(docs, ["marketing_email"]);
    assert_eq!(
        p.consent_documents["analytics_cookies"].term.unwrap().to_string(),
        "1 year"
    );
    // Placeholders are warnings, each with its line.
    assert!(
        p.warnings
            .iter()
            .any(|w| w.to_string().contains("operator inn is a placeholder")),
        "{:?}",
        p.warnings
    );
    assert!(p.warnings.iter().all(|w| w.line.is_some()));
}

#[test]
fn the_default_policy_names_its_text_and_both_leave_placeholders_to_fill_in() {
    let p = Policy::parse(DEFAULT_POLICY).unwrap();
    assert_eq!(p.text_file.as_deref(), Some(DEFAULT_POLICY_TEXT_FILE));
    assert!(DEFAULT_POLICY_TEXT.starts_with("# Privacy policy"));
    assert_eq!(p.warnings.len(), 5, "{:?}", p.warnings);
    assert!(DEFAULT_POLICY_TEXT.contains("FILL IN"));
}

#[test]
fn a_policy_without_documents_gets_one_per_consent_purpose() {
    let p = Policy::parse(MINIMAL).unwrap();
    let d = &p.consent_documents["marketing"];
    assert!(d.implied);
    assert_eq!(d.purposes.iter().collect::<Vec<_>>(), ["marketing"]);
}

const REGISTER: &str = r#"
[policy]
id = "shop"
version = "2"
jurisdictions = ["RU", "EU-DE"]
majority_age = 18

[operator]
name = "Shop LLC"
country = "RU"

[categories.contact]
title = "Contact"

[fields.email]
category = "contact"
type = "email"

[recipients.mailer]
title = "Mailer GmbH"
role = "processor"
country = "DE"
categories = ["contact"]

[purposes.marketing]
title = "News"
legal_basis = "consent"
categories = ["contact"]
actions = ["collection", "use", "provision"]
recipients = ["mailer"]
retention = "3 years"

[consent_documents.news_email]
title = "News by email"
kind = "marketing"
channel = "email"
purposes = ["marketing"]
withdrawal = "Unsubscribe link"
text = "I agree to receive news by email."
"#;

#[test]
fn recipients_abroad_are_cross_border() {
    let p = Policy::parse(REGISTER).unwrap();
    assert_eq!(p.jurisdictions, ["RU", "EU-DE"]);
    assert_eq!(p.majority_age, Some(18));
    let m = p.purpose("marketing").unwrap();
    let abroad: Vec<_> = p.cross_border_recipients(m).map(|(n, _)| n).collect();
    assert_eq!(abroad, ["mailer"]);
}

#[test]
fn register_mistakes_are_explained() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "recipients = [\"mailer\"]",
            "recipients = [\"maler\"]",
            "names recipient `maler`, which is not declared (use one of: mailer)",
        ),
        (
            "\"collection\", \"use\", \"provision\"",
            "\"collection\", \"use\"",
            "passes data to recipients but covers none of the transfer actions",
        ),
        (
            "channel = \"email\"\n",
            "",
            "is a marketing consent but names no channel",
        ),
        (
            "country = \"DE\"",
            "country = \"Germany\"",
            "country `Germany`, which is not an ISO 3166 code",
        ),
        ("role = \"processor\"", "role = \"vendor\"", "unknown role `vendor`"),
        (
            "retention = \"3 years\"",
            "retention = \"forever\"",
            "retention `forever`, which is not a period",
        ),
        (
            "purposes = [\"marketing\"]\nwithdrawal",
            "purposes = []\nwithdrawal",
            "consent-based purpose `marketing` is covered by no consent document",
        ),
        (
            "[\"RU\", \"EU-DE\"]",
            "[\"RU\", \"Mars\"]",
            "jurisdiction `Mars` is not known",
        ),
    ];
    for (from, to, expect) in cases {
        assert!(REGISTER.contains(from), "{from}");
        let p = problems(&REGISTER.replace(from, to));
        assert!(p.iter().any(|m| m.contains(expect)), "{from} -> {to}: {p:?}");
    }
}

#[test]
fn what_establishes_a_purpose_is_checked() {
    let p = Policy::parse(DEFAULT_POLICY).unwrap();
    assert_eq!(
        p.purpose("registration").unwrap().established_by,
        EstablishedBy::Collection
    );
    assert_eq!(p.purpose("accounting").unwrap().established_by, EstablishedBy::Event);
    // Without the key nothing is assumed: an event establishes it.
    let src = DEFAULT_POLICY.replace(
        "established_by = \"collection\"  # registering the account concludes the contract\n",
        "",
    );
    let p = Policy::parse(&src).unwrap();
    assert_eq!(p.purpose("registration").unwrap().established_by, EstablishedBy::Event);
    let errors = |extra: &str| {
        let src = DEFAULT_POLICY.to_owned()
            + "\n[purposes.extra]\ntitle = \"x\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n"
            + extra;
        Policy::parse(&src)
            .unwrap_err()
            .into_iter()
            .map(|d| d.message)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(errors("legal_basis = \"consent\"\nestablished_by = \"collection\"\n").contains("rests on consent"));
    assert!(errors("legal_basis = \"contract\"\nestablished_by = \"magic\"\n").contains("unknown established_by"));
    assert!(errors("legal_basis = \"contract\"\nassessment = \"LIA\"\n").contains("only a legitimate interest"));
    assert!(
        errors("legal_basis = \"contract\"\nestablished_by = \"collection\"\n").contains("nothing could establish it")
    );
    assert!(errors("legal_basis = \"contract\"\nbasis_of = \"nope\"\n").contains("not declared"));
    assert!(errors("legal_basis = \"contract\"\nbasis_of = \"accounting\"\n").contains("rests on `legal_obligation`"));
    assert!(errors("legal_basis = \"contract\"\nbasis_of = \"extra\"\n").contains("itself"));
    assert!(
        errors("legal_basis = \"contract\"\nbasis_of = \"registration\"\nestablished_by = \"event\"\n")
            .contains("does not apply")
    );
    let ok = DEFAULT_POLICY.to_owned()
        + "\n[purposes.extra]\ntitle = \"x\"\nlegal_basis = \"contract\"\nbasis_of = \"registration\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n";
    assert_eq!(
        Policy::parse(&ok)
            .unwrap()
            .purpose("extra")
            .unwrap()
            .basis_of
            .as_deref(),
        Some("registration")
    );
}

#[test]
fn required_applies_under_the_purposes_that_collect_the_field() {
    let two = format!(
        "{MINIMAL}\n[categories.technical]\ntitle = \"Technical\"\n\n[fields.ip]\ncategory = \"technical\"\ntype = \"ip\"\n\n\
         [purposes.analytics]\ntitle = \"Stats\"\nlegal_basis = \"consent\"\ncategories = [\"technical\"]\nactions = [\"collection\", \"use\"]\n"
    );
    // `true`: under every purpose that uses the field's category, and no other.
    let p = Policy::parse(&two.replace("lookup = true", "lookup = true\nrequired = true")).unwrap();
    let email = &p.fields["email"];
    assert!(email.required && email.required_for.is_empty());
    assert!(email.required_under("marketing", &p.purposes["marketing"]));
    assert!(!email.required_under("analytics", &p.purposes["analytics"]));
    // A list: under those purposes only.
    let p = Policy::parse(&two.replace("lookup = true", "lookup = true\nrequired = [\"marketing\"]")).unwrap();
    assert_eq!(p.fields["email"].required_for, ["marketing".to_owned()].into());
    assert!(p.fields["email"].required_under("marketing", &p.purposes["marketing"]));
    // Each named purpose is declared, uses the category and collects.
    for (list, says) in [
        ("[\"nope\"]", "which is not declared"),
        ("[\"analytics\"]", "does not use its category `contact`"),
    ] {
        let p = problems(&two.replace("lookup = true", &format!("lookup = true\nrequired = {list}")));
        assert!(p.iter().any(|m| m.contains(says) && m.starts_with("line ")), "{p:?}");
    }
    let p = problems(
        &two.replace("lookup = true", "lookup = true\nrequired = [\"marketing\"]")
            .replacen("actions = [\"collection\", \"use\"]", "actions = [\"use\"]", 1),
    );
    assert!(p.iter().any(|m| m.contains("does not cover `collection`")), "{p:?}");
}

#[test]
fn minimum_age_is_an_age_in_years() {
    let p = Policy::parse(&MINIMAL.replace("version = \"1\"", "version = \"1\"\nminimum_age = 18")).unwrap();
    assert_eq!(p.minimum_age, Some(18));
    let p = problems(&MINIMAL.replace("version = \"1\"", "version = \"1\"\nminimum_age = 40"));
    assert!(p[0].contains("minimum_age 40 is out of range"), "{p:?}");
}

#[test]
fn a_unique_field_needs_a_blind_index() {
    let p = Policy::parse(&MINIMAL.replace("lookup = true", "lookup = true\nunique = true")).unwrap();
    assert!(p.field("email").unwrap().unique);
    assert!(!Policy::parse(MINIMAL).unwrap().field("email").unwrap().unique);
    let p = problems(&MINIMAL.replace("lookup = true", "unique = true"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("line 12: field `email` cannot be unique without a blind index"),
        "{p:?}"
    );
    assert!(p[0].contains("add lookup = true"), "{p:?}");
    // `unique = false` needs nothing.
    Policy::parse(&MINIMAL.replace("lookup = true", "unique = false")).unwrap();
}

#[test]
fn making_a_field_unique_is_a_change_of_its_own() {
    let old = Policy::parse(MINIMAL).unwrap();
    let new = Policy::parse(&MINIMAL.replace("lookup = true", "lookup = true\nunique = true")).unwrap();
    let changes = diff::diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].code, "field_unique_changed");
    assert_eq!(changes[0].subject, "email");
}
