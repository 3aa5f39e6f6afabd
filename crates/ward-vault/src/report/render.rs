//! The documents, rendered: the copy of the data (GDPR Art. 20) as JSON, CSV (one row per
//! field: category, field, value; RFC 4180 quoting) or a readable HTML page, and the access
//! report as a readable HTML page. HTML escapes every value and loads nothing from outside,
//! in the style of the printed destruction act.

use super::{AccessReport, DataCopy};
use crate::error::{VaultError, VaultResult};
use serde_json::Value;
use ward_core::ProblemCode;

/// What a download holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The copy of the data, JSON (`ward.data_copy.v1`).
    Json,
    /// The copy of the data, CSV: `category,field,value`.
    Csv,
    /// The copy of the data, a readable HTML page.
    Html,
    /// The access report (152-FZ Art. 14 p. 7; GDPR Art. 15), a readable HTML page.
    Report,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Html => "html",
            ExportFormat::Report => "report",
        }
    }

    /// The format a client named; `unknown_export_format` otherwise.
    pub fn parse(s: &str) -> VaultResult<Self> {
        match s {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "html" => Ok(ExportFormat::Html),
            "report" => Ok(ExportFormat::Report),
            _ => Err(VaultError::invalid(
                ProblemCode::UnknownExportFormat,
                "the format must be one of `json`, `csv`, `html`, `report`",
            )),
        }
    }

    /// The media type the document is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Html | ExportFormat::Report => "text/html; charset=utf-8",
        }
    }

    /// The file name a browser saves it under.
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Json => "personal-data.json",
            ExportFormat::Csv => "personal-data.csv",
            ExportFormat::Html => "personal-data.html",
            ExportFormat::Report => "access-report.html",
        }
    }
}

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One CSV field, quoted when RFC 4180 asks (a comma, a quote, CR or LF), quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The copy as CSV: a header, then one row per field; lines end with CRLF (RFC 4180).
pub(crate) fn csv(copy: &DataCopy) -> String {
    let mut out = String::from("category,field,value\r\n");
    for f in &copy.fields {
        out.push_str(&format!(
            "{},{},{}\r\n",
            csv_field(&f.category),
            csv_field(&f.field),
            csv_field(&f.value)
        ));
    }
    out
}

const STYLE: &str = "body{font-family:serif;max-width:50em;margin:2em auto}table{border-collapse:collapse;width:100%}\
                     th,td{border:1px solid #000;padding:.3em;vertical-align:top;text-align:left}";

fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n{body}</body></html>\n",
        title = esc(title)
    )
}

/// The copy as a readable page.
pub(crate) fn copy_html(copy: &DataCopy) -> String {
    let mut rows = String::new();
    for f in &copy.fields {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}<br><small><code>{}</code></small></td><td>{}</td></tr>\n",
            esc(&f.category),
            esc(&f.title),
            esc(&f.field),
            esc(&f.value)
        ));
    }
    let body = format!(
        "<h1>Ваши персональные данные<br><small>Your personal data</small></h1>\n\
         <p>{operator}. Субъект / subject <code>{subject}</code>, {at}.</p>\n\
         <table>\n<tr><th>Категория / category</th><th>Поле / field</th><th>Значение / value</th></tr>\n{rows}</table>\n",
        operator = esc(&copy.operator),
        subject = esc(&copy.subject),
        at = esc(&copy.generated_at),
    );
    page("ru", "Your personal data", &body)
}

/// A JSON value as HTML: objects as two-column tables, arrays as lists, scalars escaped.
fn value_html(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push('—'),
        Value::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&esc(s)),
        Value::Array(items) if items.is_empty() => out.push('—'),
        Value::Array(items) => {
            out.push_str("<ul>");
            for item in items {
                out.push_str("<li>");
                value_html(item, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        Value::Object(map) => {
            out.push_str("<table>");
            for (k, item) in map {
                out.push_str(&format!("<tr><th>{}</th><td>", esc(k)));
                value_html(item, out);
                out.push_str("</td></tr>");
            }
            out.push_str("</table>");
        }
    }
}

/// The access report as a readable page: one part per section, under its legal item.
pub(crate) fn report_html(report: &AccessReport) -> String {
    let mut body = format!(
        "<h1>Сведения об обработке персональных данных<br><small>Information on the processing of personal data</small></h1>\n\
         <p>152-FZ Art. 14 p. 7; GDPR Art. 15. {operator}. Субъект / subject <code>{subject}</code>, {at}.</p>\n",
        operator = esc(&report.operator),
        subject = esc(&report.subject),
        at = esc(&report.generated_at),
    );
    for s in &report.sections {
        body.push_str(&format!(
            "<h2>{item}. {ru}<br><small>{en}</small></h2>\n<p><small>{law}; {gdpr}</small></p>\n",
            item = esc(&s.item),
            ru = esc(&s.title_ru),
            en = esc(&s.title),
            law = esc(&s.law),
            gdpr = esc(&s.gdpr),
        ));
        value_html(&s.content, &mut body);
        body.push('\n');
    }
    page("ru", "Access report", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_rfc_4180_asks() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        let mut out = String::new();
        value_html(&serde_json::json!({"<b>": ["<i>"]}), &mut out);
        assert_eq!(
            out,
            "<table><tr><th>&lt;b&gt;</th><td><ul><li>&lt;i&gt;</li></ul></td></tr></table>"
        );
    }
}
