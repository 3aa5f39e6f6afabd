//! The generated parts of `docs/api.md`: every route with the roles that may call it and its
//! summary (from the OpenAPI document), every problem code with its status and title (from
//! [`ProblemCode`]), and who may call what (from `ward_core::authz`). Each sits between a
//! `<!-- BEGIN GENERATED name … -->` and an `<!-- END GENERATED name -->` line; the prose
//! around them is written by hand. [`regenerate`] rewrites the tables; `ward docs api FILE`
//! runs it, and a test fails while the file is out of step.

use ward_core::access::Role;
use ward_core::authz::{allowance, Allowance, Operation};
use ward_core::ProblemCode;

/// The command that rewrites the tables.
pub const REGENERATE: &str = "cargo run -q -p ward -- docs api docs/api.md";

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Every operation of the document, by path then method: method and path, the roles that
/// may call it (purpose-bound ones marked), and its summary.
pub fn routes_table() -> String {
    let spec = serde_json::to_value(crate::openapi()).unwrap_or_default();
    let mut out = String::from("| method and path | roles | does |\n|---|---|---|\n");
    let Some(paths) = spec["paths"].as_object() else {
        return out;
    };
    let mut sorted: Vec<_> = paths.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (path, item) in sorted {
        for m in METHODS {
            let op = &item[m];
            if op.is_null() {
                continue;
            }
            let names = |key: &str| -> Vec<String> {
                op[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            };
            let bound = names("x-ward-purpose-bound");
            let roles: Vec<String> = names("x-ward-roles")
                .into_iter()
                .map(|r| {
                    if bound.contains(&r) {
                        format!("{r} (own purposes)")
                    } else {
                        r
                    }
                })
                .collect();
            let roles = if roles.is_empty() {
                "none".to_owned()
            } else {
                roles.join(", ")
            };
            let does = op["summary"].as_str().unwrap_or_default();
            out.push_str(&format!(
                "| `{} {path}` | {roles} | {} |\n",
                m.to_uppercase(),
                cell(does)
            ));
        }
    }
    out
}

/// Every problem code, grouped by status, in [`ProblemCode::ALL`] order.
pub fn codes_table() -> String {
    let mut out = String::from("| status | codes |\n|---|---|\n");
    let mut rows: Vec<(u16, Vec<String>)> = Vec::new();
    for c in ProblemCode::ALL {
        let code = format!("`{}`", c.as_str());
        match rows.last_mut() {
            Some((status, codes)) if *status == c.status() => codes.push(code),
            _ => rows.push((c.status(), vec![code])),
        }
    }
    for (status, codes) in rows {
        out.push_str(&format!("| {status} | {} |\n", codes.join(", ")));
    }
    out
}

/// The authorization table: operation × role.
pub fn authz_table() -> String {
    let cell = |a: Allowance| match a {
        Allowance::Allowed => "yes",
        Allowance::OwnPurposes => "own purposes",
        Allowance::Refused => "—",
    };
    let header: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let mut out = format!(
        "| operation | {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len() + 1)
    );
    for op in Operation::ALL {
        let cells: Vec<&str> = Role::ALL.iter().map(|r| cell(allowance(*r, *op))).collect();
        out.push_str(&format!("| `{op}` | {} |\n", cells.join(" | ")));
    }
    out
}

/// `doc` with every generated table rewritten; an error names a missing marker.
pub fn regenerate(doc: &str) -> Result<String, String> {
    let mut out = doc.to_owned();
    for (name, table) in [
        ("routes", routes_table()),
        ("codes", codes_table()),
        ("authz", authz_table()),
    ] {
        out = replace_between(&out, name, &table)?;
    }
    Ok(out)
}

fn replace_between(doc: &str, name: &str, table: &str) -> Result<String, String> {
    let begin = format!("<!-- BEGIN GENERATED {name}");
    let end = format!("<!-- END GENERATED {name} -->");
    // The name ends the word: `routes` is not `routes_x`.
    let start = doc
        .match_indices(&begin)
        .map(|(i, _)| i)
        .find(|i| matches!(doc[i + begin.len()..].chars().next(), Some(':' | ' ')))
        .ok_or_else(|| format!("no `{begin} …-->` line in the file"))?;
    let body = start
        + doc[start..]
            .find('\n')
            .ok_or_else(|| format!("the `{begin}` line does not end"))?
        + 1;
    let stop = doc[body..]
        .find(&end)
        .map(|i| body + i)
        .ok_or_else(|| format!("no `{end}` line after `{begin}`"))?;
    Ok(format!("{}{table}{}", &doc[..body], &doc[stop..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_md() -> (std::path::PathBuf, String) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (path, text)
    }

    #[test]
    fn docs_api_md_is_in_step_with_the_routes_codes_and_table() {
        let (path, doc) = api_md();
        let want = regenerate(&doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            doc == want,
            "{} is out of step with /openapi.json, ProblemCode or the authorization table; \
             regenerate its tables with `{REGENERATE}` (the prose around them is kept)",
            path.display()
        );
    }

    #[test]
    fn every_route_and_code_is_in_the_tables() {
        let routes = routes_table();
        for needle in [
            "| `GET /v1/subjects` | admin, officer |",
            "| `POST /v1/subjects` | admin, service (own purposes) |",
            "| `GET /healthz` | none |",
            "| `GET /v1/journal/entries` | admin, officer |",
        ] {
            assert!(routes.contains(needle), "{needle} not in\n{routes}");
        }
        let codes = codes_table();
        for c in ProblemCode::ALL {
            assert!(codes.contains(&format!("`{}`", c.as_str())), "{c}");
        }
        assert_eq!(authz_table().lines().count(), Operation::ALL.len() + 2);
    }

    #[test]
    fn regeneration_keeps_the_prose_and_needs_its_markers() {
        let doc = "intro\n<!-- BEGIN GENERATED routes: x -->\nSTALE ROWS\n<!-- END GENERATED routes -->\nmiddle\n\
                   <!-- BEGIN GENERATED codes -->\n<!-- END GENERATED codes -->\n\
                   <!-- BEGIN GENERATED authz -->\n<!-- END GENERATED authz -->\nend\n";
        let out = regenerate(doc).unwrap();
        assert!(out.starts_with("intro\n<!-- BEGIN GENERATED routes: x -->\n| method and path |"));
        assert!(
            !out.contains("STALE ROWS")
                && out.contains("\n<!-- END GENERATED routes -->\nmiddle\n")
                && out.ends_with("end\n")
        );
        assert_eq!(regenerate(&out).unwrap(), out);
        assert!(regenerate("no markers").unwrap_err().contains("BEGIN GENERATED routes"));
    }
}
