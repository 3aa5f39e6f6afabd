//! The messages Ward sends, as templates embedded at compile time (`templates/<lang>/`),
//! rendered with MiniJinja. A template's first line is `Subject: …`, then a blank line, then
//! the body. Russian and English to start; a message goes out in the subject's language when
//! Ward has the template in it, else in the policy's, else in English.

use crate::error::{VaultError, VaultResult};
use minijinja::Environment;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use ward_core::ProblemCode;

/// The languages templates exist in.
pub const LANGUAGES: [&str; 2] = ["en", "ru"];

/// The notice that the policy changed: `version`, `effective_date`, `operator`, `contact`.
pub const POLICY_CHANGED: &str = "policy_changed";

/// A one-time code that confirms a data-subject request: `code`, `minutes` (its validity),
/// `operator`, `contact`. Sent only by the verification service, never as an officer's notice.
pub const VERIFICATION_CODE: &str = "verification_code";

/// Every template: its name, then its text per language (in [`LANGUAGES`] order). The
/// `request_*` templates are the data-subject request workflow's (`requests/notice.rs`), with
/// its variables; only [`NOTICES`] may be sent as the officer's notice.
const TEMPLATES: &[(&str, [&str; 2])] = &[
    (
        POLICY_CHANGED,
        [
            include_str!("../../templates/en/policy_changed.txt"),
            include_str!("../../templates/ru/policy_changed.txt"),
        ],
    ),
    (
        VERIFICATION_CODE,
        [
            include_str!("../../templates/en/verification_code.txt"),
            include_str!("../../templates/ru/verification_code.txt"),
        ],
    ),
    (
        "request_received",
        [
            include_str!("../../templates/en/request_received.txt"),
            include_str!("../../templates/ru/request_received.txt"),
        ],
    ),
    (
        "request_verifying",
        [
            include_str!("../../templates/en/request_verifying.txt"),
            include_str!("../../templates/ru/request_verifying.txt"),
        ],
    ),
    (
        "request_verified",
        [
            include_str!("../../templates/en/request_verified.txt"),
            include_str!("../../templates/ru/request_verified.txt"),
        ],
    ),
    (
        "request_paused",
        [
            include_str!("../../templates/en/request_paused.txt"),
            include_str!("../../templates/ru/request_paused.txt"),
        ],
    ),
    (
        "request_resumed",
        [
            include_str!("../../templates/en/request_resumed.txt"),
            include_str!("../../templates/ru/request_resumed.txt"),
        ],
    ),
    (
        "request_extended",
        [
            include_str!("../../templates/en/request_extended.txt"),
            include_str!("../../templates/ru/request_extended.txt"),
        ],
    ),
    (
        "request_completed",
        [
            include_str!("../../templates/en/request_completed.txt"),
            include_str!("../../templates/ru/request_completed.txt"),
        ],
    ),
    (
        "request_refused",
        [
            include_str!("../../templates/en/request_refused.txt"),
            include_str!("../../templates/ru/request_refused.txt"),
        ],
    ),
];

/// The templates the officer may send as a notice (their variables come from the policy).
pub const NOTICES: &[&str] = &[POLICY_CHANGED];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(false);
    for (name, texts) in TEMPLATES {
        for (lang, text) in LANGUAGES.iter().zip(texts) {
            // Embedded and tested (`every_template_renders_in_every_language`): a template that
            // does not parse fails the tests, and then renders as an internal error, never a panic.
            if let Err(e) = env.add_template_owned(format!("{lang}/{name}"), *text) {
                tracing::error!(template = name, lang, error = %e, "a message template does not parse");
            }
        }
    }
    env
});

/// The names of the templates.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(n, _)| *n)
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// `unknown_template` unless a template has this name.
pub fn check(name: &str) -> VaultResult<()> {
    if names().any(|n| n == name) {
        Ok(())
    } else {
        Err(VaultError::NotFound(
            ProblemCode::UnknownTemplate,
            format!(
                "no message template is named so (templates: {})",
                names().collect::<Vec<_>>().join(", ")
            ),
        ))
    }
}

/// `unknown_template` unless `name` is a template the officer may send as a notice
/// ([`NOTICES`]): a verification code goes out only with its verification.
pub fn check_notice(name: &str) -> VaultResult<()> {
    if NOTICES.contains(&name) {
        Ok(())
    } else {
        Err(VaultError::NotFound(
            ProblemCode::UnknownTemplate,
            format!("no notice template is named so (notices: {})", NOTICES.join(", ")),
        ))
    }
}

/// The language to write in: the first of `wanted` (the subject's, then the policy's) that
/// templates exist in, else English.
pub fn language<'a>(wanted: impl IntoIterator<Item = &'a str>) -> &'static str {
    wanted
        .into_iter()
        .find_map(|w| {
            let primary = w.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
            LANGUAGES.iter().copied().find(|l| *l == primary)
        })
        .unwrap_or("en")
}

/// Renders template `name` in `lang` with `vars`.
pub fn render(name: &str, lang: &str, vars: &BTreeMap<String, String>) -> VaultResult<Rendered> {
    check(name)?;
    let failed = |e: minijinja::Error| VaultError::Internal(format!("template {lang}/{name}: {e}"));
    let text = ENV
        .get_template(&format!("{lang}/{name}"))
        .map_err(failed)?
        .render(vars)
        .map_err(failed)?;
    let (head, body) = text
        .split_once("\n\n")
        .ok_or_else(|| VaultError::Internal(format!("template {lang}/{name} has no blank line after its subject")))?;
    let subject = head
        .strip_prefix("Subject: ")
        .filter(|s| !s.contains('\n'))
        .ok_or_else(|| VaultError::Internal(format!("template {lang}/{name} does not start with `Subject: `")))?;
    Ok(Rendered {
        subject: subject.trim().to_owned(),
        body: format!("{}\n", body.trim_end()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("version", "2026-12"),
            ("effective_date", "2026-12-20"),
            ("operator", "ООО «Ромашка»"),
            ("contact", "dpo@example.ru"),
            ("code", "042817"),
            ("minutes", "15"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn every_template_renders_in_every_language() {
        for name in NOTICES.iter().copied() {
            for lang in LANGUAGES {
                let r = render(name, lang, &vars()).unwrap_or_else(|e| panic!("{lang}/{name}: {e}"));
                let (in_subject, in_body) = match name {
                    VERIFICATION_CODE => ("042817", "15"),
                    _ => ("2026-12", "2026-12-20"),
                };
                assert!(r.subject.contains(in_subject), "{lang}/{name}: {}", r.subject);
                assert!(r.body.contains(in_body), "{lang}/{name}");
                assert!(!r.body.contains("{{"), "{lang}/{name}");
            }
        }
        assert!(render(POLICY_CHANGED, "ru", &vars())
            .unwrap()
            .subject
            .starts_with("Изменилась"));
        assert!(render(POLICY_CHANGED, "en", &vars())
            .unwrap()
            .subject
            .starts_with("Our personal"));
    }

    #[test]
    fn every_request_template_renders_in_every_language_with_the_workflows_variables() {
        let mut v = vars();
        for (k, x) in [
            ("request", "3f0c"),
            ("kind", "access"),
            ("received_date", "2026-03-01"),
            ("due_date", "2026-03-16"),
            ("note", "which account?"),
            ("reason", "complexity"),
            ("basis", "152-FZ Art. 14 p. 8"),
            ("citation", "Art. 14 p. 8 item 1"),
            ("outcome", "erased"),
            ("answer", "we agree"),
            ("download", "d1"),
            ("link", "https://privacy.example.ru/v1/downloads/tok"),
        ] {
            v.insert(k.to_owned(), x.to_owned());
        }
        let requests: Vec<&str> = names().filter(|n| n.starts_with("request_")).collect();
        assert_eq!(requests.len(), 8);
        for name in requests {
            for lang in LANGUAGES {
                let r = render(name, lang, &v).unwrap_or_else(|e| panic!("{lang}/{name}: {e}"));
                assert!(r.subject.contains("3f0c") || r.body.contains("3f0c"), "{lang}/{name}");
                assert!(!r.body.contains("{{") && !r.body.contains("{%"), "{lang}/{name}");
            }
        }
        let done = render("request_completed", "en", &v).unwrap();
        assert!(
            done.body.contains("we agree") && done.body.contains("https://privacy.example.ru/v1/downloads/tok"),
            "{}",
            done.body
        );
        let refused = render("request_refused", "ru", &v).unwrap();
        assert!(refused.body.contains("Art. 14 p. 8 item 1"), "{}", refused.body);
        assert!(check_notice("request_received").is_err());
        assert!(check_notice(POLICY_CHANGED).is_ok());
    }

    #[test]
    fn a_missing_variable_or_unknown_template_is_an_error() {
        let mut v = vars();
        v.remove("version");
        assert!(matches!(render(POLICY_CHANGED, "en", &v), Err(VaultError::Internal(_))));
        let e = render("nope", "en", &vars()).unwrap_err();
        assert_eq!(e.code(), ProblemCode::UnknownTemplate);
    }

    #[test]
    fn language_falls_back_to_the_policy_then_english() {
        assert_eq!(language(["ru-RU", "en"]), "ru");
        assert_eq!(language(["de", "EN"]), "en");
        assert_eq!(language(["de", "fr"]), "en");
        assert_eq!(language([]), "en");
    }
}
