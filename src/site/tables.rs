//! One page per decision table: its hit policy, inputs, the tables it reads
//! and those that read it, the notes at the top of its file, and the rows as a
//! real table (canonical cells, outputs, description, the comment above the
//! row in its file, and how many test cases fire it). It renders the checked
//! and compiled table; it must not parse rule files again beyond printing a
//! cell's text canonically.

use std::fmt::Write;

use super::html::{esc, heat_cell, row_anchor, table_file, Links};
use super::Input;
use crate::data::schema::builtin_field_note;
use crate::lang::compile::CompiledTable;
use crate::lang::ir::Row;
use crate::lang::syntax::{parse_cell, parse_expr};
use crate::source::{SourceFile, Span};
use crate::types::{ShowType, ShowValue, Type};

/// A condition cell in canonical form; `-` for one that matches anything.
pub fn cell_text(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "-" {
        return None;
    }
    Some(parse_cell(trimmed).map_or_else(|_| trimmed.to_string(), |c| c.to_string()))
}

/// An expression (an input, a computed output) in canonical form.
pub fn expr_text(text: &str) -> String {
    let trimmed = text.trim();
    parse_expr(trimmed).map_or_else(|_| trimmed.to_string(), |e| e.to_string())
}

/// The comment lines written just above `span` in its file (a TOML row's
/// `[[rows]]` header and blank lines before the row skipped), without their `#`.
pub fn comment_above(file: &SourceFile, span: Span) -> Option<String> {
    let before = file.text.get(..span.start)?;
    // The row's own line up to the span (`  - ` of a YAML list item) is not a comment.
    let mut lines: Vec<&str> = before.lines().collect();
    if !before.ends_with('\n') {
        lines.pop();
    }
    let mut comment = Vec::new();
    let mut skipped_header = false;
    while let Some(line) = lines.pop() {
        let t = line.trim();
        if let Some(text) = t.strip_prefix('#') {
            comment.push(text.strip_prefix(' ').unwrap_or(text));
        } else if t == "[[rows]]" && !skipped_header && comment.is_empty() {
            skipped_header = true;
        } else if t.is_empty() && comment.is_empty() {
            // A blank line between a comment and its row.
        } else {
            break;
        }
    }
    comment.reverse();
    let text = comment.join("\n");
    (!text.trim().is_empty()).then_some(text)
}

/// The comment block that opens a file (its header notes), without `#`.
pub fn file_notes(file: &SourceFile) -> Option<String> {
    let mut notes = Vec::new();
    for line in file.text.lines() {
        let Some(text) = line.trim_start().strip_prefix('#') else {
            break;
        };
        // Rulers of `=====` frame the block; they say nothing.
        if text.trim().chars().all(|c| c == '=' || c == '-') && !text.trim().is_empty() {
            continue;
        }
        // An editor's directive (`yaml-language-server: $schema=…`, taplo's
        // `#:schema …`) is for the editor, not a note for the reader.
        if is_editor_directive(text) {
            continue;
        }
        notes.push(text.strip_prefix(' ').unwrap_or(text));
    }
    let text = notes.join("\n");
    (!text.trim().is_empty()).then(|| text.trim_matches('\n').to_string())
}

/// A comment line (its text after `#`) that tells an editor which schema the file follows.
fn is_editor_directive(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("yaml-language-server:") || text.starts_with(":schema ")
}

pub fn page(input: &Input, links: &Links, t: usize) -> (String, String) {
    let plan = input.plan;
    let ct = &plan.tables[t];
    let table = &ct.table;
    let mut b = String::new();
    if let Some(d) = &table.description {
        let _ = writeln!(b, "<p>{}</p>", links.text(d));
    }
    let mut facts = vec![format!("hit policy <code>{}</code>", table.hit.name())];
    if let Some(a) = table.aggregate {
        facts.push(format!(
            "aggregate <code>{}</code>",
            format!("{a:?}").to_lowercase()
        ));
    }
    if let Some(fe) = &table.for_each {
        facts.push(format!(
            "evaluated once per list item, named <code>{}</code>",
            esc(&fe.binder)
        ));
    }
    if let Some(role) = input.roles.get(&(t as u32)) {
        facts.push(format!("policy area <strong>{}</strong>", esc(role)));
    }
    facts.push(format!("{} row(s)", table.rows.len()));
    facts.push(format!("file <code>{}</code>", esc(&table.file.name)));
    let _ = writeln!(b, "<p class=\"meta\">{}</p>", facts.join(" · "));
    let reads: Vec<String> = plan.program.deps[t]
        .iter()
        .map(|&d| table_link(links, &plan.tables[d as usize].table.name))
        .collect();
    let read_by: Vec<String> = (0..plan.tables.len())
        .filter(|&o| plan.program.deps[o].contains(&(t as u32)))
        .map(|o| table_link(links, &plan.tables[o].table.name))
        .collect();
    if !reads.is_empty() {
        let _ = writeln!(b, "<p>Reads the outputs of {}.</p>", reads.join(", "));
    }
    if !read_by.is_empty() {
        let _ = writeln!(b, "<p>Read by {}.</p>", read_by.join(", "));
    }
    if let Some(notes) = file_notes(&table.file) {
        let _ = writeln!(
            b,
            "<details><summary>Notes from <code>{}</code></summary><pre class=\"notes\">{}</pre></details>",
            esc(&table.file.name),
            links.text(&notes)
        );
    }
    let _ = writeln!(b, "<h2>Rows</h2>");
    if let Some(cov) = &input.coverage {
        let _ = writeln!(
            b,
            "<p class=\"meta\">The cases column counts the test cases (of {}) in which the row fired; red rows no case reaches.</p>",
            cov.cases
        );
    }
    rows(&mut b, input, links, t, ct);
    let _ = writeln!(b, "<h2>Inputs</h2>\n<table class=\"inputs\"><thead><tr><th>input</th><th>expression</th></tr></thead><tbody>");
    for i in &table.inputs {
        let _ = writeln!(
            b,
            "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&i.name),
            links.text(&expr_text(&i.text))
        );
    }
    let _ = writeln!(b, "</tbody></table>");
    given_by_the_pipeline(&mut b, input, table);
    (
        table_file(&table.name),
        super::html::page(&input.policy_name, &format!("Table {}", table.name), &b),
    )
}

/// What the pipeline gives a table it asks itself (the follow-up table's
/// `promise`, the re-treatment table's `retreat`, a guard rail's `action`):
/// each field the table's inputs may read, with its type and what it says.
fn given_by_the_pipeline(b: &mut String, input: &Input, table: &crate::lang::ir::Table) {
    let schema = input.plan.schema();
    for (name, ty) in &table.params {
        let Type::Record(record) = ty else {
            continue;
        };
        let _ = writeln!(
            b,
            "<h2>Given by the pipeline: <code>{}</code></h2>\n<table class=\"inputs\"><thead><tr><th>field</th><th>type</th><th>what it says</th></tr></thead><tbody>",
            esc(name)
        );
        for f in &schema.record(*record).fields {
            let note = builtin_field_note(schema, *record, &f.name).unwrap_or_default();
            let optional = if f.optional { " (optional)" } else { "" };
            let _ = writeln!(
                b,
                "<tr><td><code>{}.{}</code></td><td><code>{}</code>{optional}</td><td>{}</td></tr>",
                esc(name),
                esc(&f.name),
                esc(&ShowType(&f.ty, schema).to_string()),
                esc(note)
            );
        }
        let _ = writeln!(b, "</tbody></table>");
    }
}

fn table_link(links: &Links, name: &str) -> String {
    match links.table(name) {
        Some(href) => format!(r#"<a href="{}"><code>{}</code></a>"#, esc(href), esc(name)),
        None => format!("<code>{}</code>", esc(name)),
    }
}

fn rows(b: &mut String, input: &Input, links: &Links, t: usize, ct: &CompiledTable) {
    let table = &ct.table;
    let _ = write!(
        b,
        "<div class=\"scroll\"><table class=\"rows\"><thead><tr><th>#</th><th>row</th>"
    );
    if input.coverage.is_some() {
        let _ = write!(b, "<th title=\"test cases that fire the row\">cases</th>");
    }
    for i in &table.inputs {
        let _ = write!(b, "<th class=\"in\">{}</th>", esc(&i.name));
    }
    for o in &table.outputs {
        let _ = write!(b, "<th class=\"out\">{}</th>", esc(&o.name));
    }
    let columns =
        2 + usize::from(input.coverage.is_some()) + table.inputs.len() + table.outputs.len();
    let _ = writeln!(b, "</tr></thead><tbody>");
    for (r, row) in table.rows.iter().enumerate() {
        let _ = write!(
            b,
            "<tr id=\"{}\"><td class=\"meta\">{}</td><td class=\"id\"><a href=\"#{}\">{}</a></td>",
            esc(&row_anchor(&row.id)),
            r + 1,
            esc(&row_anchor(&row.id)),
            esc(&row.id)
        );
        if let Some(cov) = &input.coverage {
            let hits = cov.hits.get(&(t as u32, r as u32)).copied().unwrap_or(0);
            b.push_str(&heat_cell(hits, cov.cases));
        }
        for cell in &row.cells {
            match cell_text(&cell.text) {
                Some(text) => {
                    let _ = write!(b, "<td><code>{}</code></td>", links.text(&text));
                }
                None => b.push_str("<td class=\"any\">-</td>"),
            }
        }
        for (o, output) in table.outputs.iter().enumerate() {
            let _ = write!(
                b,
                "<td>{}</td>",
                output_cell(input, links, t, r, row, o, &output.ty)
            );
        }
        let mut notes = Vec::new();
        if let Some(d) = &row.description {
            notes.push(links.text(d));
        }
        if let Some(c) = comment_above(&table.file, row.span) {
            notes.push(format!("<div class=\"comment\">{}</div>", links.text(&c)));
        }
        let _ = writeln!(b, "</tr>");
        // The row's words on a line of their own under its cells.
        if !notes.is_empty() {
            let _ = writeln!(
                b,
                "<tr class=\"note\"><td></td><td colspan=\"{}\">{}</td></tr>",
                columns - 1,
                notes.join("")
            );
        }
    }
    if table.default.is_some() {
        let _ = write!(
            b,
            "<tr id=\"{}\"><td></td><td class=\"id\">default</td>",
            esc(&row_anchor("default"))
        );
        if input.coverage.is_some() {
            b.push_str("<td></td>");
        }
        for _ in &table.inputs {
            b.push_str("<td class=\"any\">-</td>");
        }
        // As a row's outputs: a percent as written, a constant as a rule writes it, a
        // computed output as its expression.
        for (o, output) in table.outputs.iter().enumerate() {
            let written = |span: &Span| table.file.text.get(span.start..span.end);
            let shown = match (
                table.default_written_percent(o),
                &input.plan.constants[t].default,
            ) {
                (Some(percent), _) => format!("<code>{}</code>", esc(&percent)),
                (None, Some(values)) => format!(
                    "<code>{}</code>",
                    esc(&ShowValue(&values[o], &output.ty, input.plan.schema()).to_string())
                ),
                (None, None) => table
                    .default_spans
                    .get(o)
                    .and_then(written)
                    .map_or_else(String::new, |text| {
                        format!("<code>{}</code>", links.text(&expr_text(text)))
                    }),
            };
            let _ = write!(b, "<td>{shown}</td>");
        }
        let _ = writeln!(b, "</tr>");
        let _ = writeln!(
            b,
            "<tr class=\"note\"><td></td><td colspan=\"{}\">when no row matches</td></tr>",
            columns - 1
        );
    }
    let _ = writeln!(b, "</tbody></table></div>");
}

/// A row's output: a constant as a rule would write it, a computed one as its
/// expression printed canonically; a template name links to the template.
fn output_cell(
    input: &Input,
    links: &Links,
    t: usize,
    r: usize,
    row: &Row,
    o: usize,
    ty: &crate::types::Type,
) -> String {
    let ct = &input.plan.tables[t];
    if let Some(percent) = ct.table.written_percent(r, o) {
        return format!("<code>{}</code>", esc(&percent));
    }
    if let Some(values) = &input.plan.constants[t].rows[r] {
        let shown = ShowValue(&values[o], ty, input.plan.schema()).to_string();
        let is_template = ct.table.outputs[o].name == "template";
        return match links.template(shown.trim_matches('"')) {
            Some(href) if is_template => format!(
                r#"<a href="{}"><code>{}</code></a>"#,
                esc(href),
                esc(&shown)
            ),
            _ => format!("<code>{}</code>", esc(&shown)),
        };
    }
    let span = row.output_spans[o];
    if span == row.span {
        return "<span class=\"any\">null</span>".into();
    }
    let text = ct
        .table
        .file
        .text
        .get(span.start..span.end)
        .unwrap_or_default();
    format!("<code>{}</code>", links.text(&expr_text(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn above(text: &str, row: &str) -> Option<String> {
        let file = SourceFile::new("t", text);
        let start = text.find(row).unwrap();
        comment_above(
            &file,
            Span {
                start,
                end: start + row.len(),
            },
        )
    }

    #[test]
    fn file_notes_leave_out_editor_directives_and_rulers() {
        let yaml = "# yaml-language-server: $schema=../schemas/table.schema.json\n# =====\n# promise_terms -- kept or not\n# =====\n#\n# Tolerance.\ntable: t\n";
        assert_eq!(
            file_notes(&SourceFile::new("t.yaml", yaml)).as_deref(),
            Some("promise_terms -- kept or not\n\nTolerance.")
        );
        let toml =
            "#:schema ../schemas/table.schema.json\n# exit -- when a case ends\ntable = \"t\"\n";
        assert_eq!(
            file_notes(&SourceFile::new("t.toml", toml)).as_deref(),
            Some("exit -- when a case ends")
        );
    }

    #[test]
    fn the_comment_above_a_row_is_found_in_yaml_and_toml() {
        let yaml = "rows:\n  - id: a\n    then: {}\n  # why b\n  # comes second\n  - id: b\n";
        assert_eq!(above(yaml, "id: b").as_deref(), Some("why b\ncomes second"));
        assert_eq!(above(yaml, "id: a"), None);
        let toml = "# --- closing ---\n\n[[rows]]\nid = \"c\"\n";
        assert_eq!(
            above(toml, "id = \"c\"").as_deref(),
            Some("--- closing ---")
        );
    }

    #[test]
    fn cells_and_expressions_print_canonically() {
        assert_eq!(cell_text(" - "), None);
        assert_eq!(cell_text(">=5").as_deref(), Some(">= 5"));
        assert_eq!(expr_text("a+b*2"), "(a + (b * 2))");
    }
}
