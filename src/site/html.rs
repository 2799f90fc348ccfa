//! The HTML the site's pages share: escaping, file and anchor names, the page
//! frame with its inline style, and rule references turned into links. Every
//! text that came from a rule file reaches a page through [`esc`] or [`Links::text`];
//! nothing here reads files or knows what a page shows.

use std::collections::HashMap;
use std::fmt::Write;

/// `text` with `& < > " '` escaped, safe in element content and quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A name as a file-name or anchor part: letters, digits, `_` and `-` kept,
/// every other byte as `~xx`, so distinct names stay distinct and nothing in
/// a name can leave the directory or break an `href`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            let _ = write!(out, "~{b:02x}");
        }
    }
    out
}

pub fn table_file(table: &str) -> String {
    format!("table-{}.html", slug(table))
}

pub fn row_anchor(row: &str) -> String {
    format!("row-{}", slug(row))
}

pub fn template_anchor(template: &str) -> String {
    format!("template-{}", slug(template))
}

pub fn event_anchor(template: &str, event: &str) -> String {
    format!("event-{}--{}", slug(template), slug(event))
}

pub fn experiment_anchor(experiment: &str) -> String {
    format!("experiment-{}", slug(experiment))
}

pub fn arm_anchor(experiment: &str, arm: &str) -> String {
    format!("arm-{}--{}", slug(experiment), slug(arm))
}

/// Where every rule reference (`entry:consumer-in-arrears`,
/// `template:card_early_std/reminder-letter`, `experiment:x/arm`) and every
/// table and template name points.
#[derive(Default)]
pub struct Links {
    refs: HashMap<String, String>,
    tables: HashMap<String, String>,
    templates: HashMap<String, String>,
}

impl Links {
    pub fn add_ref(&mut self, rule_ref: &str, href: String) {
        self.refs.insert(rule_ref.to_string(), href);
    }

    pub fn add_table(&mut self, table: &str) {
        self.tables.insert(table.to_string(), table_file(table));
    }

    pub fn add_template(&mut self, template: &str) {
        self.templates.insert(
            template.to_string(),
            format!("templates.html#{}", template_anchor(template)),
        );
    }

    pub fn rule_ref(&self, rule_ref: &str) -> Option<&str> {
        self.refs.get(rule_ref).map(String::as_str)
    }

    pub fn table(&self, table: &str) -> Option<&str> {
        self.tables.get(table).map(String::as_str)
    }

    pub fn template(&self, template: &str) -> Option<&str> {
        self.templates.get(template).map(String::as_str)
    }

    /// Free text (a description, a comment) escaped, with every known rule
    /// reference (`table:row`, `template:t/event`) and a known table's
    /// `table.output` linked; an unknown reference stays text.
    pub fn text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while !rest.is_empty() {
            let start = rest.find(is_ref_char).unwrap_or(rest.len());
            out.push_str(&esc(&rest[..start]));
            rest = &rest[start..];
            let len = rest.find(|c| !is_ref_char(c)).unwrap_or(rest.len());
            let word = &rest[..len];
            // A sentence's full stop or a list's comma is not part of a reference.
            let word = word.trim_end_matches(['.', ':', '/']);
            let word = if word.is_empty() { &rest[..len] } else { word };
            let href = self.rule_ref(word).or_else(|| {
                let table = word.split_once('.').map_or(word, |(t, _)| t);
                word.contains('.').then(|| self.table(table)).flatten()
            });
            match href {
                Some(href) => {
                    let _ = write!(
                        out,
                        r#"<a class="ref" href="{}">{}</a>"#,
                        esc(href),
                        esc(word)
                    );
                }
                None => out.push_str(&esc(word)),
            }
            rest = &rest[word.len()..];
        }
        out
    }
}

fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '.')
}

/// The site's pages, for the navigation bar: file and title.
pub const NAV: [(&str, &str); 5] = [
    ("index.html", "Pipeline"),
    ("templates.html", "Templates"),
    ("experiments.html", "Experiments"),
    ("calendars.html", "Calendars"),
    ("schema.html", "Schema"),
];

/// The first line of every page this command writes: how a later run knows
/// the file is its own.
pub const GENERATOR: &str =
    "<!DOCTYPE html>\n<!-- generated by arrears doc; replaced by the next run -->";

/// A complete page: the frame, navigation and inline style around `body`.
/// The content security policy forbids every script and every load from
/// anywhere, so a `<script>` that slipped through would not run (and the
/// browser tests would see its console error).
pub fn page(policy: &str, title: &str, body: &str) -> String {
    let mut nav = String::new();
    for (file, name) in NAV {
        let _ = write!(nav, r#"<a href="{file}">{name}</a>"#);
    }
    format!(
        r#"{GENERATOR}
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="arrears doc">
<title>{title} · {policy}</title>
<style>{STYLE}</style>
</head>
<body>
<header><span class="brand">{policy}</span><nav>{nav}</nav></header>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"#,
        policy = esc(policy),
        title = esc(title),
    )
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2430;background:#fff}
header{background:#1f3a5f;color:#fff;padding:8px 20px;display:flex;gap:24px;align-items:center}
header .brand{font-weight:600}
header nav a{color:#dbe7ff;margin-right:14px;text-decoration:none}
main{padding:12px 20px 40px}
h1{font-size:22px;margin:8px 0 12px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d5dbe5;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
a{color:#1a56a8}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:12.5px}
pre.notes{background:#f6f8fa;border:1px solid #e1e5eb;padding:8px 10px;white-space:pre-wrap;max-width:110ch}
table{border-collapse:collapse;margin:6px 0 14px}
th,td{border:1px solid #d5dbe5;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#eef2f7;font-weight:600}
thead th.in{background:#e3ecf9}
thead th.out{background:#e6f4ea}
div.scroll{overflow-x:auto}
tr.note td{border-top:none;color:#3a4452;background:#fbfcfe;padding-top:0}
table.rows tr:not(.note) td{border-bottom:none;white-space:nowrap}
tr:target{outline:2px solid #e0a800;background:#fff8db}
tr:target+tr.note td{background:#fff8db}
td.id{white-space:nowrap;font-weight:600}
td.any{color:#9aa3af}
td.cov{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.never{background:#fde2e1;color:#8a1c1c}
.comment{color:#5b6574;font-style:italic;white-space:pre-wrap}
.meta{color:#5b6574}
.pill{display:inline-block;border:1px solid #c8d0dc;border-radius:10px;padding:0 8px;margin-right:4px;background:#f6f8fa}
svg text{font-family:system-ui,sans-serif}
svg a text{fill:#1a56a8}
";

/// The heat cell of a row that fired in `hits` of `cases` test cases.
pub fn heat_cell(hits: usize, cases: usize) -> String {
    if hits == 0 {
        return r#"<td class="cov never" title="no test case fires this row">0</td>"#.into();
    }
    // Lighter for a row few cases reach, darker for a well-covered one.
    let share = hits as f64 / cases.max(1) as f64;
    let lightness = 88.0 - 40.0 * share.sqrt();
    format!(
        r#"<td class="cov" style="background:hsl(140,55%,{lightness:.0}%)" title="fires in {hits} of {cases} test cases">{hits}</td>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn slugs_keep_names_apart_and_inside_the_directory() {
        assert_eq!(slug("card-early_1"), "card-early_1");
        assert_eq!(slug("../x"), "~2e~2e~2fx");
        assert_ne!(slug("a b"), slug("a_b"));
        assert_ne!(slug("a~20b"), slug("a b"));
    }

    #[test]
    fn rule_references_in_text_become_links() {
        let mut links = Links::default();
        links.add_table("entry");
        links.add_ref(
            "entry:special-bankruptcy",
            "table-entry.html#row-special-bankruptcy".into(),
        );
        assert_eq!(
            links.text("see entry:special-bankruptcy. <b>"),
            r#"see <a class="ref" href="table-entry.html#row-special-bankruptcy">entry:special-bankruptcy</a>. &lt;b&gt;"#
        );
        assert_eq!(
            links.text("entry.category, entry:unknown-row"),
            r#"<a class="ref" href="table-entry.html">entry.category</a>, entry:unknown-row"#
        );
        assert_eq!(links.text("plain: words"), "plain: words");
    }
}
