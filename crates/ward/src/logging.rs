//! Where the logs go and how they look. Logs go to stderr, filtered by `WARD_LOG` (default
//! `info`); `WARD_LOG_FORMAT` picks the format: `text` (the default), for a person, or `json`,
//! one JSON object per line, for a log collector. Text has colour only when stderr is a
//! terminal and `NO_COLOR` is not set (<https://no-color.org>): a supervisor's log file or a
//! pipe gets no escape codes. JSON never has them.

use std::ffi::OsStr;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The environment variable that picks the log format.
pub const FORMAT_VAR: &str = "WARD_LOG_FORMAT";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields` (with `message`),
    /// and the request's `span` where there is one.
    Json,
}

impl Format {
    /// The format `WARD_LOG_FORMAT` names; unset or empty is text. Anything else is refused
    /// with a message that says what is accepted.
    pub fn from_env_value(value: Option<&OsStr>) -> Result<Self, String> {
        match value.map(|v| v.to_str()) {
            None | Some(Some("")) => Ok(Self::Text),
            Some(Some(v)) if v.eq_ignore_ascii_case("text") => Ok(Self::Text),
            Some(Some(v)) if v.eq_ignore_ascii_case("json") => Ok(Self::Json),
            Some(_) => Err(format!(
                "{FORMAT_VAR} must be `text` or `json`; it is {:?}",
                value.unwrap_or_default()
            )),
        }
    }
}

/// Whether text written to stderr may carry colour: stderr is a terminal and `NO_COLOR` is
/// unset or empty.
pub fn colour_on_stderr() -> bool {
    colour_allowed(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref())
}

fn colour_allowed(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Installs the process's log subscriber as the environment asks.
pub fn init() -> Result<(), String> {
    let format = Format::from_env_value(std::env::var_os(FORMAT_VAR).as_deref())?;
    let filter = EnvFilter::try_from_env("WARD_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        Format::Text => logs.with_ansi(colour_on_stderr()).try_init(),
        Format::Json => logs.json().with_ansi(false).try_init(),
    };
    installed.map_err(|e| format!("cannot set up logging: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_json_or_refused() {
        assert_eq!(Format::from_env_value(None), Ok(Format::Text));
        assert_eq!(Format::from_env_value(Some(OsStr::new(""))), Ok(Format::Text));
        assert_eq!(Format::from_env_value(Some(OsStr::new("JSON"))), Ok(Format::Json));
        assert_eq!(Format::from_env_value(Some(OsStr::new("text"))), Ok(Format::Text));
        let refused = Format::from_env_value(Some(OsStr::new("xml"))).unwrap_err();
        assert!(
            refused.contains("`text` or `json`") && refused.contains("xml"),
            "{refused}"
        );
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))));
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None));
    }
}
