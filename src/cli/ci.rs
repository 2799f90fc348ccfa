//! What CI systems read: lint diagnostics as a SARIF 2.1.0 log (code scanning
//! uploads it) and as GitHub workflow commands (`::error file=…::…`, shown as
//! annotations on the pull request's lines), and failed test cases as
//! annotations. It only renders what `lint()` and `testing` found; it must not
//! decide what is a problem or change an exit code.

use std::borrow::Cow;
use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value as Json};

use crate::diagnostic::{printable, Diagnostic, Severity};
use crate::lang::analysis::codes::{CodeDoc, CODES};

/// The SARIF 2.1.0 log of one lint run: every lint code as a rule of the
/// driver (its documentation as help text), every diagnostic as a result.
/// Columns count characters (`columnKind: unicodeCodePoints`), as the human
/// output's do; `endColumn` is the character after the region.
pub fn sarif(diagnostics: &[Diagnostic], cwd: &Path) -> Json {
    let results: Vec<Json> = diagnostics
        .iter()
        .map(|d| {
            let report = d.to_json();
            let mut result = json!({
                "ruleId": d.code,
                "level": sarif_level(d.severity),
                "message": { "text": d.message_with_help() },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file_uri(&d.file.name, cwd) },
                        "region": {
                            "startLine": report.line,
                            "startColumn": report.column,
                            "endLine": report.end_line,
                            "endColumn": report.end_column,
                        },
                    },
                }],
            });
            if let Some(index) = CODES.iter().position(|c| c.code == d.code) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "arrears",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": CODES.iter().map(sarif_rule).collect::<Vec<_>>(),
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A lint code as a SARIF reporting descriptor: `arrears lint --explain CODE`'s text as help.
fn sarif_rule(code: &CodeDoc) -> Json {
    json!({
        "id": code.code,
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.what },
        "help": {
            "text": code.explain(),
            "markdown": format!(
                "**What.** {}\n\n**Why.** {}\n\n**Example.**\n\n```yaml\n{}\n```\n",
                code.what, code.why, code.example
            ),
        },
        "defaultConfiguration": { "level": sarif_level_name(code.severity) },
    })
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The SARIF level of a code's documented severity (`info` is SARIF's `note`).
fn sarif_level_name(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// Characters escaped in a URI path: controls, space and the URI delimiters
/// that may appear in a file name (`/` separates segments and stays; `:`
/// would make `a:b/entry.yaml` a URI of scheme `a`).
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b':')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A diagnostic's file as a URI reference: relative to the working directory
/// when it is inside it (`rules/entry.yaml`), else an absolute `file://` URI.
pub fn file_uri(name: &str, cwd: &Path) -> String {
    let path = relative_path(name, cwd);
    let encoded = utf8_percent_encode(&path, URI_PATH).to_string();
    if Path::new(path.as_ref()).is_absolute() {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

/// `name` relative to `cwd` when it lies inside it; a leading `./` dropped.
pub fn relative_path<'a>(name: &'a str, cwd: &Path) -> Cow<'a, str> {
    let path = Path::new(name);
    if path.is_absolute() {
        if let Ok(inside) = path.strip_prefix(cwd) {
            return Cow::Owned(inside.display().to_string());
        }
        return Cow::Borrowed(name);
    }
    let mut rest = name;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped.trim_start_matches('/');
    }
    Cow::Borrowed(rest)
}

/// One GitHub workflow command per diagnostic (`::error`, `::warning`,
/// `::notice` for an info), at its file and span, titled with its code.
pub fn github_diagnostics(diagnostics: &[Diagnostic], cwd: &Path) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let report = d.to_json();
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let message = match &d.help {
            Some(help) => format!("{}\n{help}", d.message),
            None => d.message.clone(),
        };
        let file = relative_path(&d.file.name, cwd);
        out.push_str(&annotation(
            command,
            &[
                ("file", &file),
                ("line", &report.line.to_string()),
                ("col", &report.column.to_string()),
                ("endLine", &report.end_line.to_string()),
                ("endColumn", &report.end_column.to_string()),
                ("title", d.code),
            ],
            &message,
        ));
    }
    out
}

/// `::COMMAND key=value,…::message`, every property and the message escaped as
/// GitHub's toolkit does (`%`, CR and LF everywhere; `:` and `,` in
/// properties too), and any other control character shown escaped, so one
/// annotation is one line of the log.
pub fn annotation(command: &str, properties: &[(&str, &str)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{command}{separator}{}::{}\n",
        properties.join(","),
        escape_data(message)
    )
}

fn escape_data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    printable(&escaped).into_owned()
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_as_githubs_toolkit_does() {
        assert_eq!(
            annotation(
                "error",
                &[("file", "a,b:c%.yaml"), ("title", "x")],
                "50% off\r\nnext: line, here"
            ),
            "::error file=a%2Cb%3Ac%25.yaml,title=x::50%25 off%0D%0Anext: line, here\n"
        );
        assert_eq!(annotation("notice", &[], "ok"), "::notice::ok\n");
        // An ESC cannot reach the log raw.
        assert_eq!(
            annotation("error", &[], "id \u{1b}[31m"),
            "::error::id \\u{1b}[31m\n"
        );
    }

    #[test]
    fn file_uris_are_relative_to_the_working_directory_and_encoded() {
        let cwd = Path::new("/work/repo");
        assert_eq!(file_uri("rules/entry.yaml", cwd), "rules/entry.yaml");
        assert_eq!(file_uri("./rules/entry.yaml", cwd), "rules/entry.yaml");
        assert_eq!(
            file_uri("/work/repo/rules/a b.yaml", cwd),
            "rules/a%20b.yaml"
        );
        assert_eq!(
            file_uri("/elsewhere/x#1.yaml", cwd),
            "file:///elsewhere/x%231.yaml"
        );
        assert_eq!(file_uri("a:b/entry.yaml", cwd), "a%3Ab/entry.yaml");
    }
}
