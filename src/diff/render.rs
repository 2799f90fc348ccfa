//! The diff report for people: aligned text for a terminal, and one
//! self-contained HTML page (inline CSS, bars drawn with CSS, no script, no
//! network; its content security policy forbids both) for a manager. Text read from input (ids, labels, paths) is
//! escaped: `diagnostic::printable` in text, HTML escaping in the page. It
//! must not count anything: the numbers are the [`Report`]'s.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::changes::{Change, Unit};
use super::report::{ActionChange, AreaMatrix, EventCount, Report, RowCount, Spread};
use crate::diagnostic::{echoed, printable};
use crate::html::escape as esc;

fn money(m: Option<Decimal>) -> String {
    m.map_or_else(|| "overflow".to_string(), |d| d.to_string())
}

fn delta(c: EventCount) -> String {
    let d = c.new as i128 - c.old as i128;
    match d {
        0 => "0".to_string(),
        d if d > 0 => format!("+{d}"),
        d => d.to_string(),
    }
}

/// Columns padded to their widest cell, numbers right-aligned.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], right: &[bool]) {
    table_with_notes(out, header, rows, &[], right)
}

/// [`table`], with lines of notes under some rows (`notes[i]` under
/// `rows[i]`: a field's difference, its value changes), which no column is padded for.
fn table_with_notes(
    out: &mut String,
    header: &[&str],
    rows: &[Vec<String>],
    notes: &[Vec<String>],
    right: &[bool],
) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut text = String::from("   ");
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            text.push_str("  ");
            if right[i] {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                if i + 1 < cells.len() {
                    text.push_str(&" ".repeat(pad));
                }
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(out, header.to_vec());
    for (i, row) in rows.iter().enumerate() {
        line(out, row.iter().map(String::as_str).collect());
        for note in notes.get(i).into_iter().flatten() {
            let _ = writeln!(out, "       {note}");
        }
    }
}

/// The report for a terminal.
pub fn text(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "arrears diff as of {}: {} ({}) against base {} ({})",
        report.as_of,
        printable(&report.new.rules),
        report.new.fingerprint,
        printable(&report.old.rules),
        report.old.fingerprint
    );
    for (side, label) in [("new", &report.new), ("base", &report.old)] {
        if !label.effective.is_empty() {
            let _ = writeln!(
                s,
                "effective-dated versions in force on {} ({side}): {}",
                report.as_of,
                label.effective.len()
            );
            for version in &label.effective {
                let _ = writeln!(s, "    {}", printable(&version.line()));
            }
        }
    }
    let _ = writeln!(
        s,
        "accounts: {} rows read from {}: {} compared, {} changed, {} rejected",
        report.rows_read,
        printable(&report.input),
        report.compared,
        report.changed,
        report.rejected
    );
    if report.failed_old_only + report.failed_new_only > 0 {
        let _ = writeln!(
            s,
            "  evaluation failed under the base rules only: {}; under the new rules only: {}",
            report.failed_old_only, report.failed_new_only
        );
    }
    for warning in report.not_read_warnings() {
        let _ = writeln!(s, "warning: {warning}");
    }
    if !report.has_changes() {
        let _ = writeln!(s, "no account's actions changed");
        return s;
    }
    for matrix in &report.areas {
        area_text(&mut s, matrix);
    }
    events_text(&mut s, report);
    actions_text(&mut s, report);
    let rows: Vec<Vec<String>> = report
        .changed_rows()
        .map(|(rule, c)| {
            vec![
                printable(rule).to_string(),
                c.old.to_string(),
                c.new.to_string(),
                delta(c.counts()),
                c.changed.to_string(),
                rule_note(c).to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(
            s,
            "\nrules behind the changes (accounts whose actions name the rule, old -> new; accounts on which an action naming it changed)"
        );
        table(
            &mut s,
            &["rule", "old", "new", "change", "actions changed", ""],
            &rows,
            &[false, true, true, true, true, false],
        );
    }
    s
}

/// What a rule's accounts did: it stopped or started firing, or fires for the
/// same number of accounts with other actions.
fn rule_note(c: RowCount) -> &'static str {
    match (c.old, c.new) {
        (o, 0) if o > 0 => "no longer fires",
        (0, n) if n > 0 => "newly fires",
        (o, n) if o == n => "same accounts, actions changed",
        _ => "",
    }
}

/// An action's change as a heading: `promise_outcome.required`, `follow_up (added)`.
fn change_name(action: &str, change: &Change) -> String {
    match change {
        Change::Field(field) => format!("{action}.{field}"),
        Change::Added => format!("{action} (added)"),
        Change::Removed => format!("{action} (removed)"),
    }
}

/// Value pairs shown per changed field; the rest are summed on one line.
const VALUE_PAIRS_SHOWN: usize = 5;

/// A value pair (old, new) and its accounts.
type ValuePair<'a> = (&'a (String, String), u64);

/// A changed field's most frequent value pairs (most accounts first, then in
/// value order), and the accounts under any other pair.
fn top_values(change: &ActionChange) -> (Vec<ValuePair<'_>>, u64) {
    let mut pairs: Vec<_> = change.values.iter().map(|(p, n)| (p, *n)).collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let others = pairs
        .iter()
        .skip(VALUE_PAIRS_SHOWN)
        .map(|(_, n)| n)
        .sum::<u64>()
        + change.values_not_kept;
    pairs.truncate(VALUE_PAIRS_SHOWN);
    (pairs, others)
}

/// A difference with its sign and unit: `+3.00`, `-0.9675`, `+2 days`.
fn signed(unit: Unit, by: Decimal) -> String {
    let sign = if by > Decimal::ZERO { "+" } else { "" };
    match unit {
        Unit::Money => format!("{sign}{}", crate::types::money_text(by).as_str()),
        Unit::Number => format!("{sign}{}", by.normalize()),
        Unit::Integer => format!("{sign}{by}"),
        Unit::Days if by.abs() == Decimal::ONE => format!("{sign}{by} day"),
        Unit::Days => format!("{sign}{by} days"),
        Unit::Percent => format!("{sign}{} percentage points", by.normalize()),
    }
}

fn accounts_word(n: u64) -> String {
    match n {
        1 => "1 account".to_string(),
        n => format!("{n} accounts"),
    }
}

/// By how much a field moved, and on how many: `by +3.00 on 473 accounts`;
/// when the differences vary, their range, how many went each way and (for an amount) the total.
fn difference_text(change: &ActionChange, spread: &Spread) -> String {
    let by = match spread.uniform() {
        true => signed(spread.unit, spread.min),
        false => {
            // A range of days reads `+1 to +3 days`: the unit once, at the end.
            let low = match spread.unit {
                Unit::Days => signed(Unit::Integer, spread.min),
                Unit::Percent => signed(Unit::Number, spread.min),
                unit => signed(unit, spread.min),
            };
            format!("{low} to {}", signed(spread.unit, spread.max))
        }
    };
    let mut detail = Vec::new();
    if !spread.uniform() {
        let (up, down) = match spread.unit {
            Unit::Days => ("later", "earlier"),
            _ => ("up", "down"),
        };
        let ways: Vec<String> = [(spread.increased, up), (spread.decreased, down)]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, way)| format!("{n} {way}"))
            .collect();
        detail.push(ways.join(", "));
        // A sum of days, or of percentage points, says nothing.
        if !matches!(spread.unit, Unit::Days | Unit::Percent) {
            let total = spread
                .total
                .map_or_else(|| "overflow".to_string(), |t| signed(spread.unit, t));
            detail.push(format!("total {total}"));
        }
    }
    let detail = match detail.is_empty() {
        true => String::new(),
        false => format!(" ({})", detail.join("; ")),
    };
    let on = match spread.accounts == change.accounts {
        true => accounts_word(spread.accounts),
        false => format!("{} of {}", spread.accounts, accounts_word(change.accounts)),
    };
    let actions = match spread.values == spread.accounts {
        true => String::new(),
        false => format!(" in {} actions", spread.values),
    };
    format!("by {by}{detail}{actions} on {on}")
}

/// Whether a field's value pairs say more than its difference: it has none,
/// some account moved without one (from or to null), or the pairs are few
/// enough to list whole.
fn pairs_add_information(change: &ActionChange) -> bool {
    change.spread.is_none_or(|s| {
        s.accounts < change.accounts
            || (change.values_not_kept == 0 && change.values.len() <= VALUE_PAIRS_SHOWN)
    })
}

/// Where the value pairs a difference stands for are.
fn pairs_elsewhere(change: &ActionChange) -> String {
    let n = change.values.len();
    match change.values_not_kept {
        0 => format!("{n} value pairs: --format json lists them"),
        _ => format!("more than {n} value pairs: --format json lists {n}"),
    }
}

/// The rules behind a change, the first few by name.
fn rules_named(change: &ActionChange, escape: impl Fn(&str) -> String) -> String {
    const SHOWN: usize = 3;
    let mut names: Vec<String> = change.rules.iter().take(SHOWN).map(|r| escape(r)).collect();
    if change.rules.len() > SHOWN {
        names.push(format!("and {} more", change.rules.len() - SHOWN));
    }
    names.join(", ")
}

/// Every action kind and field that moved, with its accounts, the values it
/// moved between and the rules behind it: each changed account is here,
/// whether or not an area's label moved.
fn actions_text(s: &mut String, report: &Report) {
    if report.action_changes.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nwhat changed in the actions (accounts; by how much, new - old; values old -> new)"
    );
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for ((action, change), c) in &report.action_changes {
        rows.push(vec![
            printable(&change_name(action, change)).to_string(),
            c.accounts.to_string(),
            rules_named(c, |r| printable(r).to_string()),
            c.examples
                .iter()
                .map(|id| printable(id).to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ]);
        let mut lines: Vec<String> = c.spread.iter().map(|s| difference_text(c, s)).collect();
        if pairs_add_information(c) {
            let (pairs, others) = top_values(c);
            lines.extend(pairs.into_iter().map(|((old, new), n)| {
                format!(
                    "{} -> {}  ({n})",
                    printable(&echoed(old)),
                    printable(&echoed(new))
                )
            }));
            if others > 0 {
                lines.push(format!("other values  ({others})"));
            }
        } else {
            lines.push(pairs_elsewhere(c));
        }
        notes.push(lines);
    }
    table_with_notes(
        s,
        &["action.field", "accounts", "rules", "e.g."],
        &rows,
        &notes,
        &[false, true, false, false],
    );
}

/// Events by type where a type's count changed, and by type and day wherever
/// a day's count changed: an event moved to another day shows there although
/// every type keeps its count.
fn events_text(s: &mut String, report: &Report) {
    let moved_days: Vec<Vec<String>> = report
        .changed_days()
        .into_iter()
        .map(|((t, d), c)| {
            vec![
                d.to_string(),
                printable(t).to_string(),
                c.old.to_string(),
                c.new.to_string(),
                delta(*c),
            ]
        })
        .collect();
    if moved_days.is_empty() {
        let _ = writeln!(s, "\nscheduled events: unchanged");
        return;
    }
    let by_type = report.events_by_type();
    let rows: Vec<Vec<String>> = by_type
        .iter()
        .filter(|(_, c)| c.old != c.new)
        .map(|(t, c)| {
            vec![
                printable(t).to_string(),
                c.old.to_string(),
                c.new.to_string(),
                delta(*c),
            ]
        })
        .collect();
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "\nscheduled events by type: unchanged (as many of each type, some on other days)"
        );
    } else {
        let _ = writeln!(s, "\nscheduled events by type (old -> new)");
        table(
            s,
            &["event type", "old", "new", "change"],
            &rows,
            &[false, true, true, true],
        );
    }
    let _ = writeln!(s, "\nscheduled events by date (changed days only)");
    table(
        s,
        &["date", "event type", "old", "new", "change"],
        &moved_days,
        &[false, false, true, true, true],
    );
}

fn area_text(s: &mut String, matrix: &AreaMatrix) {
    if matrix.cells.keys().all(|(o, n)| o == n) {
        let _ = writeln!(s, "\n{}: unchanged", matrix.title);
        return;
    }
    let _ = writeln!(s, "\n{} (old -> new)", matrix.title);
    let rows: Vec<Vec<String>> = matrix
        .cells
        .iter()
        .map(|((o, n), cell)| {
            let changed = o != n;
            vec![
                if changed { "*" } else { "" }.to_string(),
                printable(o).to_string(),
                if changed {
                    printable(n).to_string()
                } else {
                    "(same)".to_string()
                },
                cell.accounts.to_string(),
                money(cell.arrears),
                money(cell.balance),
                cell.examples
                    .iter()
                    .map(|id| printable(id).to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    table(
        s,
        &["", "old", "new", "accounts", "arrears", "balance", "e.g."],
        &rows,
        &[false, false, false, true, true, true, false],
    );
}

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d232a;margin:2em auto;max-width:90em;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:2px solid #d7dde4;padding-bottom:.2em}
.meta{color:#55606b}.meta code{font-size:.85em}
.warning{border-left:4px solid #b3261e;background:#fdf3f2;padding:.4em .8em}
.cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}.card{border:1px solid #d7dde4;border-radius:6px;padding:.6em 1em;min-width:9em}
.card b{display:block;font-size:1.6em}.card.changed b{color:#b3261e}
table{border-collapse:collapse;margin:.6em 0}.wide{overflow-x:auto}caption{text-align:left}th,td{border:1px solid #d7dde4;padding:.3em .6em;text-align:right}
th{background:#f2f4f7}th.row,td.label{text-align:left}td.same{background:#f7f9fb;color:#55606b}td.moved{background:#fde7e4;font-weight:600}
td.zero{color:#c0c6cc}.examples{font-size:.85em;color:#55606b;text-align:left}
.bars{margin:.6em 0}.bar{display:grid;grid-template-columns:16em 1fr 6em;align-items:center;gap:.6em;margin:.25em 0}
.track{background:#eef1f4;height:.8em;border-radius:3px;position:relative}.fill{height:100%;border-radius:3px}
.old{background:#8a97a6}.new{background:#1f6feb}.legend span{display:inline-block;width:1em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}
.unchanged{color:#55606b}";

/// The report as one self-contained HTML page.
pub fn html(report: &Report) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>arrears diff as of {}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n",
        report.as_of
    );
    let _ = write!(
        h,
        "<h1>What the rule change does to the book</h1>\n<p class=\"meta\">As of <b>{}</b>: new rules <b>{}</b> <code>{}</code> against base <b>{}</b> <code>{}</code>; accounts from <b>{}</b>.</p>\n",
        report.as_of,
        esc(&report.new.rules),
        esc(&report.new.fingerprint),
        esc(&report.old.rules),
        esc(&report.old.fingerprint),
        esc(&report.input)
    );
    for (side, label) in [("new", &report.new), ("base", &report.old)] {
        if !label.effective.is_empty() {
            let _ = write!(
                h,
                "<p class=\"meta\" id=\"effective-{side}\">Effective-dated versions in force on {} ({side} rules):</p>\n<ul class=\"meta\">",
                report.as_of
            );
            for version in &label.effective {
                let _ = write!(h, "<li>{}</li>", esc(&version.line()));
            }
            let _ = writeln!(h, "</ul>");
        }
    }
    let _ = write!(h, "<div class=\"cards\">");
    for (label, n, class) in [
        ("accounts read", report.rows_read, ""),
        ("compared", report.compared, ""),
        ("changed", report.changed, "changed"),
        ("rejected", report.rejected, ""),
    ] {
        let _ = write!(
            h,
            "<div class=\"card {class}\"><b id=\"{}\">{n}</b>{label}</div>",
            label.replace(' ', "-")
        );
    }
    let _ = writeln!(h, "</div>");
    if report.failed_old_only + report.failed_new_only > 0 {
        let _ = writeln!(
            h,
            "<p>Evaluation failed under the base rules only for {} accounts, under the new rules only for {}.</p>",
            report.failed_old_only, report.failed_new_only
        );
    }
    for warning in report.not_read_warnings() {
        let _ = writeln!(h, "<p class=\"warning\">Warning: {}</p>", esc(&warning));
    }
    if !report.has_changes() {
        let _ = writeln!(h, "<p id=\"no-changes\">No account's actions changed.</p>");
    }
    for matrix in &report.areas {
        area_html(&mut h, matrix);
    }
    events_html(&mut h, report);
    actions_html(&mut h, report);
    rows_html(&mut h, report);
    h.push_str("</body>\n</html>\n");
    h
}

/// Rows are old labels, columns new labels; a moved cell is highlighted, and
/// the moves are listed below with their money and examples.
fn area_html(h: &mut String, matrix: &AreaMatrix) {
    let _ = writeln!(
        h,
        "<section class=\"area\" id=\"area-{}\">\n<h2>{}</h2>",
        matrix.area,
        esc(matrix.title)
    );
    if matrix.cells.keys().all(|(o, n)| o == n) {
        let total: u64 = matrix.cells.values().map(|c| c.accounts).sum();
        let _ = writeln!(
            h,
            "<p class=\"unchanged\">Unchanged: for each of the {total} accounts, {} the same under both rule sets.</p>\n</section>",
            unchanged_phrase(matrix.area)
        );
        return;
    }
    let olds: std::collections::BTreeSet<&str> =
        matrix.cells.keys().map(|(o, _)| o.as_str()).collect();
    let news: std::collections::BTreeSet<&str> =
        matrix.cells.keys().map(|(_, n)| n.as_str()).collect();
    let _ = write!(
        h,
        "<div class=\"wide\"><table class=\"matrix\">\n<caption>Accounts by {} under the base rules (rows) and the new rules (columns)</caption>\n<tr><th class=\"row\">base \\ new</th>",
        esc(matrix.title)
    );
    // A long `class/template` label may break after its `/`, so the matrix fits the page.
    for n in &news {
        let _ = write!(h, "<th>{}</th>", esc(n).replace('/', "/<wbr>"));
    }
    h.push_str("</tr>\n");
    for o in &olds {
        let _ = write!(
            h,
            "<tr><th class=\"row\">{}</th>",
            esc(o).replace('/', "/<wbr>")
        );
        for n in &news {
            match matrix.cells.get(&(o.to_string(), n.to_string())) {
                None => h.push_str("<td class=\"zero\">0</td>"),
                Some(cell) => {
                    let class = if o == n { "same" } else { "moved" };
                    let _ = write!(h, "<td class=\"{class}\">{}</td>", cell.accounts);
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
    let _ = writeln!(
        h,
        "<table class=\"moves\">\n<tr><th class=\"row\">base</th><th class=\"row\">new</th><th>accounts</th><th>arrears</th><th>balance</th><th class=\"row\">for example</th></tr>"
    );
    for ((o, n), cell) in matrix.cells.iter().filter(|((o, n), _)| o != n) {
        let examples: Vec<String> = cell.examples.iter().map(|e| esc(e)).collect();
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{}</td><td class=\"label\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"examples\">{}</td></tr>",
            esc(o),
            esc(n),
            cell.accounts,
            money(cell.arrears),
            money(cell.balance),
            examples.join(", ")
        );
    }
    h.push_str("</table>\n</section>\n");
}

/// What stays the same in an unchanged area, true also of an account the
/// area has nothing for (no case, no arm): "… is the same under both rule sets".
fn unchanged_phrase(area: &str) -> &'static str {
    match area {
        "entry_category" => "the entry category (or none) is",
        "class_template" => "the class and template (or none) are",
        "experiment_arm" => "the experiment arm (or none) is",
        "promise_outcome" => "the promise outcome (or none) is",
        "severance" => "what severance nominates or excludes (or nothing) is",
        "case_closed" => "whether a case is closed is",
        _ => "this area's outcome is",
    }
}

/// Two bars per item, old and new, scaled to the largest count shown.
fn bars<'a>(h: &mut String, items: impl Iterator<Item = (String, EventCount)> + Clone + 'a) {
    let max = items
        .clone()
        .map(|(_, c)| c.old.max(c.new))
        .max()
        .unwrap_or(0)
        .max(1);
    h.push_str("<p class=\"legend\"><span class=\"old\"></span>base<span class=\"new\"></span>new</p>\n<div class=\"bars\">\n");
    for (label, c) in items {
        for (side, n) in [("old", c.old), ("new", c.new)] {
            let _ = writeln!(
                h,
                "<div class=\"bar\"><span>{}</span><div class=\"track\"><div class=\"fill {side}\" style=\"width:{:.1}%\"></div></div><span>{n}</span></div>",
                if side == "old" { esc(&label) } else { String::new() },
                n as f64 * 100.0 / max as f64
            );
        }
    }
    h.push_str("</div>\n");
}

fn events_html(h: &mut String, report: &Report) {
    let by_type = report.events_by_type();
    h.push_str("<section id=\"events\">\n<h2>Scheduled events</h2>\n");
    if report.events.values().all(|c| c.old == c.new) {
        h.push_str("<p class=\"unchanged\">The same events are scheduled on the same days.</p>\n</section>\n");
        return;
    }
    h.push_str("<h3>By type</h3>\n");
    if by_type.values().all(|c| c.old == c.new) {
        h.push_str("<p class=\"unchanged\" id=\"same-types\">As many events of each type are scheduled, but some on other days (below).</p>\n");
    } else {
        bars(
            h,
            by_type
                .iter()
                .filter(|(_, c)| c.old != c.new)
                .map(|(t, c)| (t.to_string(), *c)),
        );
    }
    h.push_str("<h3>By day (days that changed)</h3>\n<table>\n<tr><th class=\"row\">date</th><th class=\"row\">event type</th><th>base</th><th>new</th><th>change</th></tr>\n");
    for ((t, d), c) in report.changed_days() {
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{d}</td><td class=\"label\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(t),
            c.old,
            c.new,
            delta(*c)
        );
    }
    h.push_str("</table>\n</section>\n");
}

/// The action kinds and fields that moved, with values, rules and examples.
fn actions_html(h: &mut String, report: &Report) {
    h.push_str("<section id=\"actions\">\n<h2>What changed in the actions</h2>\n");
    if report.action_changes.is_empty() {
        h.push_str("<p class=\"unchanged\">Every account's actions are the same under both rule sets.</p>\n</section>\n");
        return;
    }
    h.push_str("<p>Each action kind and field that moved, on how many accounts, between which values (base &rarr; new), and the rules behind the actions.</p>\n<div class=\"wide\"><table>\n<tr><th class=\"row\">action</th><th class=\"row\">change</th><th>accounts</th><th class=\"row\">difference (new &minus; base)</th><th class=\"row\">values (base &rarr; new: accounts)</th><th class=\"row\">rules</th><th class=\"row\">for example</th></tr>\n");
    for ((action, change), c) in &report.action_changes {
        let what = match change {
            Change::Field(field) => esc(field),
            Change::Added => "added".to_string(),
            Change::Removed => "removed".to_string(),
        };
        let difference = c
            .spread
            .map_or_else(String::new, |s| esc(&difference_text(c, &s)));
        let mut values: Vec<String> = Vec::new();
        if pairs_add_information(c) {
            let (pairs, others) = top_values(c);
            values.extend(pairs.iter().map(|((old, new), n)| {
                format!("{} &rarr; {}: {n}", esc(&echoed(old)), esc(&echoed(new)))
            }));
            if others > 0 {
                values.push(format!("other values: {others}"));
            }
        } else {
            values.push(esc(&pairs_elsewhere(c)));
        }
        let examples: Vec<String> = c.examples.iter().map(|e| esc(e)).collect();
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{}</td><td class=\"label\">{what}</td><td>{}</td><td class=\"label\">{difference}</td><td class=\"label\">{}</td><td class=\"label\">{}</td><td class=\"examples\">{}</td></tr>",
            esc(action),
            c.accounts,
            values.join("<br>"),
            rules_named(c, esc),
            examples.join(", ")
        );
    }
    h.push_str("</table></div>\n</section>\n");
}

fn rows_html(h: &mut String, report: &Report) {
    h.push_str("<section id=\"rules\">\n<h2>Rules behind the actions</h2>\n");
    let changed: Vec<_> = report.changed_rows().collect();
    if changed.is_empty() {
        h.push_str("<p class=\"unchanged\">Every rule names the same number of accounts.</p>\n</section>\n");
        return;
    }
    h.push_str("<p>Accounts whose actions name each rule, where the number changed or an action naming the rule changed.</p>\n");
    let moved: Vec<_> = changed.iter().filter(|(_, c)| c.old != c.new).collect();
    if !moved.is_empty() {
        bars(h, moved.iter().map(|(r, c)| (r.to_string(), c.counts())));
    }
    h.push_str("<table>\n<tr><th class=\"row\">rule</th><th>base</th><th>new</th><th>change</th><th>actions changed</th><th class=\"row\"></th></tr>\n");
    for (rule, c) in changed {
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"label\">{}</td></tr>",
            esc(rule),
            c.old,
            c.new,
            delta(c.counts()),
            c.changed,
            rule_note(c)
        );
    }
    h.push_str("</table>\n</section>\n");
}
