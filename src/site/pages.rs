//! The site's pages other than the tables: the index with the pipeline as an
//! inline SVG (the policy areas in evaluation order, each linking to its
//! table), templates as timelines dated on their calendar from an example
//! start, experiments with their arms' shares, calendars and the schema; and
//! the link targets of every rule reference. It renders what the built policy
//! holds (descriptions from the loaded documents); it must not read files.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use super::html::{
    arm_anchor, esc, event_anchor, experiment_anchor, page, row_anchor, table_file,
    template_anchor, Links,
};
use super::{Input, Page};
use crate::data::schema::Schema;
use crate::policy::calendar::{self, WorkCalendar};
use crate::policy::experiment;
use crate::policy::{EventDate, Policy, Role};
use crate::types::{RecordId, ShowType, Type};

/// Which path of the pipeline an area belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// An account without an open case.
    NewCase,
    /// An account with an open case.
    OpenCase,
    /// Every run with actions or a case, after either path.
    Last,
    /// The guard-rail pack, asked about every proposed action.
    Guard,
}

/// A box of the pipeline picture.
pub struct Area {
    pub name: &'static str,
    pub lane: Lane,
    pub table: Option<u32>,
    pub href: String,
}

/// The policy's areas in the order `policy::run` takes them, then the guard rails.
pub fn areas(policy: &Policy) -> Vec<Area> {
    let r = &policy.roles;
    let table = |name: &'static str, lane: Lane, role: Option<&Role>| {
        role.map(|role| Area {
            name,
            lane,
            table: Some(role.table),
            href: table_file(&policy.plan.tables[role.table as usize].table.name),
        })
    };
    let mut out: Vec<Area> = [
        table("entry", Lane::NewCase, Some(&r.entry)),
        table("class", Lane::NewCase, Some(&r.class)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !policy.experiments.is_empty() {
        out.push(Area {
            name: "experiments",
            lane: Lane::NewCase,
            table: None,
            href: "experiments.html".into(),
        });
    }
    out.push(Area {
        name: "templates",
        lane: Lane::NewCase,
        table: None,
        href: "templates.html".into(),
    });
    let open = [
        ("exit", &r.exit),
        ("sa_exit", &r.sa_exit),
        ("promise_terms", &r.promise_terms),
        ("promise_follow_up", &r.promise_follow_up),
        ("retreat", &r.retreat),
        ("payment_plan", &r.payment_plan),
        ("severance", &r.severance),
    ];
    out.extend(
        open.into_iter()
            .filter_map(|(name, role)| table(name, Lane::OpenCase, role.as_ref())),
    );
    out.extend(
        r.flags
            .iter()
            .filter_map(|f| table("flags", Lane::Last, Some(f))),
    );
    out.extend(table("contact_hold", Lane::Last, r.contact_hold.as_ref()));
    out.extend(
        r.guards
            .iter()
            .filter_map(|g| table("guard rail", Lane::Guard, Some(g))),
    );
    out
}

/// Every link target: tables, their rows and defaults, templates and their
/// events, experiments' arms.
pub fn links(input: &Input) -> Links {
    let mut links = Links::default();
    for ct in &input.plan.tables {
        let file = table_file(&ct.table.name);
        links.add_table(&ct.table.name);
        for (row, rule_ref) in ct.table.rows.iter().zip(&ct.row_refs) {
            links.add_ref(rule_ref, format!("{file}#{}", row_anchor(&row.id)));
        }
        if ct.table.default.is_some() {
            links.add_ref(&ct.default_ref, format!("{file}#{}", row_anchor("default")));
        }
    }
    if let Some(policy) = input.policy {
        for t in policy.templates.values() {
            links.add_template(&t.name);
            for e in &t.events {
                links.add_ref(
                    &e.rule_ref,
                    format!("templates.html#{}", event_anchor(&t.name, &e.id)),
                );
            }
        }
        for x in &policy.experiments {
            for arm in &x.experiment.arms {
                links.add_ref(
                    &arm.rule_ref,
                    format!(
                        "experiments.html#{}",
                        arm_anchor(&x.experiment.name, &arm.name)
                    ),
                );
            }
        }
    }
    links
}

const BOX_W: i64 = 150;
const BOX_H: i64 = 46;
const STEP: i64 = 180;
/// Boxes on one line of a lane: the picture is at most 130 + 6 × 180 = 1210
/// px wide, so it fits a 1300 px window beside the page's margins; a longer
/// lane goes on below (and the CSS scales the picture to a narrower page).
const PER_LINE: usize = 6;
/// Height of one line of boxes with the gap below it.
const LINE_H: i64 = 76;
const LANE_GAP: i64 = 20;

fn pipeline_svg(input: &Input, policy: &Policy) -> String {
    let areas = areas(policy);
    let lanes = [
        (Lane::NewCase, "no open case"),
        (Lane::OpenCase, "open case"),
        (Lane::Last, "then, every run"),
        (Lane::Guard, "guard rails"),
    ];
    let lanes: Vec<(Lane, &str, Vec<&Area>)> = lanes
        .into_iter()
        .map(|(lane, label)| {
            (
                lane,
                label,
                areas.iter().filter(|a| a.lane == lane).collect::<Vec<_>>(),
            )
        })
        .filter(|(_, _, boxes)| !boxes.is_empty())
        .collect();
    let widest = lanes
        .iter()
        .map(|(_, _, boxes)| boxes.len().min(PER_LINE) as i64)
        .max()
        .unwrap_or(1);
    let width = 130 + widest * STEP;
    let lines: i64 = lanes
        .iter()
        .map(|(_, _, boxes)| boxes.len().div_ceil(PER_LINE) as i64)
        .sum();
    let height = 30 + lines * LINE_H + (lanes.len() as i64 - 1) * LANE_GAP;
    let mut s = format!(
        r##"<svg class="pipeline" role="img" aria-label="the policy pipeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6574"/></marker></defs>
"##
    );
    let mut top = 30;
    for (lane, label, boxes) in &lanes {
        let _ = writeln!(
            s,
            r##"<text x="8" y="{}" font-size="12" fill="#5b6574">{}</text>"##,
            top + BOX_H / 2 + 4,
            label
        );
        // Guard rails are each asked about every action: no order between them.
        let arrows = *lane != Lane::Guard;
        for (i, area) in boxes.iter().enumerate() {
            let (line, col) = ((i / PER_LINE) as i64, (i % PER_LINE) as i64);
            let x = 120 + col * STEP;
            let y = top + line * LINE_H;
            if arrows && col > 0 {
                let _ = writeln!(
                    s,
                    r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#5b6574" stroke-width="1.5" marker-end="url(#arrow)"/>"##,
                    x - (STEP - BOX_W) + 2,
                    y + BOX_H / 2,
                    x - 3,
                    y + BOX_H / 2
                );
            } else if arrows && line > 0 {
                // From the end of the line above down to the start of this one.
                let above = 120 + (PER_LINE as i64 - 1) * STEP + BOX_W / 2;
                let mid = y - (LINE_H - BOX_H) / 2;
                let _ = writeln!(
                    s,
                    r##"<path d="M{above},{} V{mid} H{} V{}" fill="none" stroke="#5b6574" stroke-width="1.5" marker-end="url(#arrow)"/>"##,
                    y - LINE_H + BOX_H + 2,
                    x + BOX_W / 2,
                    y - 3
                );
            }
            let table = area
                .table
                .map(|t| input.plan.tables[t as usize].table.name.as_str());
            let covered = match (&input.coverage, area.table) {
                (Some(cov), Some(t)) => {
                    let rows = input.plan.tables[t as usize].table.rows.len();
                    let fired = (0..rows)
                        .filter(|r| cov.hits.contains_key(&(t, *r as u32)))
                        .count();
                    format!(" · {fired}/{rows} rows tested")
                }
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                r##"<a href="{href}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="#eef4fc" stroke="#1f3a5f"/><text x="{tx}" y="{ty1}" text-anchor="middle" font-size="13" font-weight="600">{name}</text><text x="{tx}" y="{ty2}" text-anchor="middle" font-size="11">{sub}</text><title>{title}</title></a>"##,
                href = esc(&area.href),
                tx = x + BOX_W / 2,
                ty1 = y + 19,
                ty2 = y + 36,
                name = esc(area.name),
                sub = esc(table.unwrap_or("")),
                title = esc(&format!(
                    "{}{}{covered}",
                    area.name,
                    table.map(|t| format!(": table {t}")).unwrap_or_default()
                )),
            );
        }
        top += boxes.len().div_ceil(PER_LINE) as i64 * LINE_H + LANE_GAP;
    }
    s.push_str("</svg>\n");
    s
}

pub fn index(input: &Input, links: &Links) -> Page {
    let plan = input.plan;
    let mut b = String::new();
    if let Some((_, doc)) = input.docs.policies.first() {
        if let Some(d) = &doc.description {
            let _ = writeln!(b, "<p>{}</p>", links.text(d));
        }
    }
    let rows: usize = plan.tables.iter().map(|t| t.table.rows.len()).sum();
    let _ = writeln!(
        b,
        "<p class=\"meta\">{} tables, {} rows; schema <code>{}</code> (currency {}).</p>",
        plan.tables.len(),
        rows,
        esc(&plan.schema().name),
        esc(&plan.schema().currency)
    );
    if let Some((day, versions)) = &input.effective {
        let _ = writeln!(
            b,
            "<p class=\"meta\">Effective-dated rules: these are the rules in force on <strong>{day}</strong> (<code>arrears doc --as-of DATE</code> shows another day's); dated versions in force: {}.</p>",
            match versions.is_empty() {
                true => "none".to_string(),
                false => versions.iter().map(|v| format!("<code>{}</code>", esc(v))).collect::<Vec<_>>().join(", "),
            }
        );
    }
    if let Some(policy) = input.policy {
        let _ = writeln!(
            b,
            "<h2>Pipeline</h2>\n<p>Each account runs through the areas left to right: a new account on the first path, an account with an open case on the second; the last ones run after either, and the guard rails are asked about every action proposed. Each box links to its table.</p>"
        );
        b.push_str(&pipeline_svg(input, policy));
    }
    match &input.coverage {
        Some(cov) => {
            let fired = cov.hits.len();
            let _ = writeln!(
                b,
                "<h2>Test coverage</h2>\n<p>{} test case(s) from {} ({} failed); {} of {} rows fired in at least one case.</p>",
                cov.cases,
                cov.files.iter().map(|f| format!("<code>{}</code>", esc(f))).collect::<Vec<_>>().join(", "),
                cov.failed,
                fired,
                rows
            );
        }
        None => {
            let _ = writeln!(
                b,
                "<h2>Test coverage</h2>\n<p>No tests were run for this site.</p>"
            );
        }
    }
    let _ = writeln!(
        b,
        "<h2>Tables</h2>\n<table><thead><tr><th>table</th><th>area</th><th>hit policy</th><th>rows</th>{}<th>description</th></tr></thead><tbody>",
        if input.coverage.is_some() { "<th>rows tested</th>" } else { "" }
    );
    for &t in &plan.order {
        let table = &plan.tables[t as usize].table;
        let area = input.roles.get(&t).map_or("", String::as_str);
        let _ = write!(
            b,
            "<tr><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td><code>{}</code></td><td>{}</td>",
            esc(&table_file(&table.name)),
            esc(&table.name),
            esc(area),
            table.hit.name(),
            table.rows.len()
        );
        if let Some(cov) = &input.coverage {
            let fired = (0..table.rows.len())
                .filter(|r| cov.hits.contains_key(&(t, *r as u32)))
                .count();
            let _ = write!(b, "<td class=\"cov\">{fired}/{}</td>", table.rows.len());
        }
        let _ = writeln!(
            b,
            "<td>{}</td></tr>",
            table
                .description
                .as_deref()
                .map(|d| links.text(d))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(b, "</tbody></table><p class=\"meta\">Tables are listed in evaluation order: each after the tables it reads.</p>");
    Page {
        file: "index.html".into(),
        html: page(&input.policy_name, "Policy", &b),
    }
}

const TIMELINE_W: i64 = 900;

/// A template's events on a line of days from the case start.
fn timeline_svg(template: &crate::policy::Template) -> String {
    let last = template
        .events
        .iter()
        .filter_map(|e| e.day())
        .max()
        .unwrap_or(0)
        .max(1);
    let x_of = |day: i64| 40 + day * (TIMELINE_W - 80) / last;
    let lanes = 3;
    let height = 60 + lanes * 18;
    let axis_y = height - 28;
    let mut s = format!(
        r##"<svg class="timeline" role="img" aria-label="events by day" viewBox="0 0 {TIMELINE_W} {height}" width="{TIMELINE_W}" height="{height}" xmlns="http://www.w3.org/2000/svg">
<line x1="40" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#5b6574"/>
"##,
        TIMELINE_W - 40
    );
    let tick = if last > 120 {
        30
    } else if last > 40 {
        14
    } else {
        7
    };
    let mut day = 0;
    while day <= last {
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#9aa3af"/><text x="{x}" y="{}" font-size="10" text-anchor="middle" fill="#5b6574">day {day}</text>"##,
            axis_y - 4,
            axis_y + 4,
            axis_y + 16,
            x = x_of(day)
        );
        day += tick;
    }
    // Events dated by an expression have no fixed day: the table below shows their expression.
    let on_days = template.events.iter().filter_map(|e| Some((e, e.day()?)));
    for (i, (e, event_day)) in on_days.enumerate() {
        let x = x_of(event_day);
        let label_y = 16 + (i as i64 % lanes) * 18;
        // Labels at the ends grow inwards, so none is cut off.
        let anchor = if x < 120 {
            "start"
        } else if x > TIMELINE_W - 120 {
            "end"
        } else {
            "middle"
        };
        let _ = writeln!(
            s,
            r##"<a href="#{}"><line x1="{x}" y1="{}" x2="{x}" y2="{axis_y}" stroke="#c8d0dc" stroke-dasharray="2 2"/><circle cx="{x}" cy="{axis_y}" r="5" fill="#1f3a5f"/><text x="{x}" y="{label_y}" font-size="11" text-anchor="{anchor}">{}</text><title>day {}: {} ({})</title></a>"##,
            esc(&event_anchor(&template.name, &e.id)),
            label_y + 3,
            esc(&e.id),
            event_day,
            esc(&e.id),
            esc(&e.kind)
        );
    }
    s.push_str("</svg>\n");
    s
}

pub fn templates(input: &Input, links: &Links) -> Page {
    let mut b = String::new();
    let Some(policy) = input.policy else {
        b.push_str("<p>These rules have no policy, so no template is used.</p>");
        return Page {
            file: "templates.html".into(),
            html: page(&input.policy_name, "Templates", &b),
        };
    };
    let _ = writeln!(
        b,
        "<p>Each template's events by day from the case start. The dates show a case started on <strong>{}</strong> ({}), an example: a day that is not a business day on the template's calendar moves to the next business day, as the pipeline dates events.</p>",
        input.start,
        input.start.weekday()
    );
    let docs: BTreeMap<&str, Option<&String>> = input
        .docs
        .templates
        .iter()
        .map(|(_, d)| (d.template.value.as_str(), d.description.as_ref()))
        .collect();
    let described: BTreeMap<&str, BTreeMap<&str, Option<&String>>> = input
        .docs
        .templates
        .iter()
        .map(|(_, d)| {
            (
                d.template.value.as_str(),
                d.events
                    .iter()
                    .map(|e| (e.value.id.value.0.as_str(), e.value.description.as_ref()))
                    .collect(),
            )
        })
        .collect();
    let names: Vec<&String> = {
        let mut v: Vec<&String> = policy.templates.keys().collect();
        v.sort();
        v
    };
    b.push_str("<p>");
    for n in &names {
        let _ = write!(
            b,
            "<a class=\"pill\" href=\"#{}\">{}</a>",
            esc(&template_anchor(n)),
            esc(n)
        );
    }
    b.push_str("</p>\n");
    for name in names {
        let t = &policy.templates[name];
        let _ = writeln!(
            b,
            "<h2 id=\"{}\">{}</h2>",
            esc(&template_anchor(name)),
            esc(name)
        );
        if let Some(Some(d)) = docs.get(name.as_str()) {
            let _ = writeln!(b, "<p>{}</p>", links.text(d));
        }
        let _ = writeln!(
            b,
            "<p class=\"meta\">calendar <a href=\"calendars.html#{}\"><code>{}</code></a> · {} event(s)</p>",
            esc(&format!("calendar-{}", super::html::slug(&t.calendar.name))),
            esc(&t.calendar.name),
            t.events.len()
        );
        b.push_str(&timeline_svg(t));
        let _ = writeln!(b, "<table><thead><tr><th>day</th><th>date (example)</th><th>event</th><th>type</th><th>parameters</th><th>description</th></tr></thead><tbody>");
        for e in &t.events {
            let (day, date) = match &e.date {
                EventDate::Day(day) => (
                    day.to_string(),
                    t.event_date(*day, input.start).map_or_else(
                        || "out of range".to_string(),
                        |d| format!("{d} {}", d.weekday()),
                    ),
                ),
                EventDate::Expr { text, .. } => ("—".to_string(), format!("date: {text}")),
            };
            let params: Vec<String> = e
                .params
                .iter()
                .map(|(k, v)| format!("<code>{}={}</code>", esc(k), esc(v)))
                .collect();
            let description = described
                .get(name.as_str())
                .and_then(|events| events.get(&*e.id))
                .copied()
                .flatten()
                .map(|d| links.text(d))
                .unwrap_or_default();
            let _ = writeln!(
                b,
                "<tr id=\"{anchor}\"><td class=\"cov\">{}</td><td>{}</td><td class=\"id\"><a href=\"#{anchor}\">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                day,
                esc(&date),
                esc(&e.id),
                esc(&e.kind),
                params.join(" "),
                description,
                anchor = esc(&event_anchor(name, &e.id)),
            );
        }
        let _ = writeln!(b, "</tbody></table>");
    }
    Page {
        file: "templates.html".into(),
        html: page(&input.policy_name, "Templates", &b),
    }
}

pub fn experiments(input: &Input, links: &Links) -> Page {
    let mut b = String::new();
    let experiments = input
        .policy
        .map(|p| p.experiments.as_slice())
        .unwrap_or_default();
    if experiments.is_empty() {
        b.push_str("<p>The policy runs no experiment.</p>");
    }
    let palette = [
        "#1f3a5f", "#e0a800", "#4c9a6a", "#b14a4a", "#7a5ea8", "#3d8fb5",
    ];
    for x in experiments {
        let e = &x.experiment;
        let doc = input
            .docs
            .experiments
            .iter()
            .find(|(_, d)| d.experiment.value == e.name);
        let _ = writeln!(
            b,
            "<h2 id=\"{}\">{}</h2>",
            esc(&experiment_anchor(&e.name)),
            esc(&e.name)
        );
        if let Some(d) = doc.and_then(|(_, d)| d.description.as_ref()) {
            let _ = writeln!(b, "<p>{}</p>", links.text(d));
        }
        let _ = writeln!(
            b,
            "<p class=\"meta\">for the classes {} · salt <code>{}</code> (an account's arm is a function of its id and the salt, so it stays in its arm)</p>",
            x.classes.iter().map(|c| format!("<code>{}</code>", esc(c))).collect::<Vec<_>>().join(", "),
            esc(&e.salt)
        );
        // The buckets as one bar, each arm's ranges where they lie.
        let mut bar = String::from(
            r#"<svg class="shares" viewBox="0 0 600 26" width="600" height="26" xmlns="http://www.w3.org/2000/svg">"#,
        );
        let full = u64::from(crate::policy::experiment::FULL_SHARE);
        let ranges: Vec<Vec<(u32, u32)>> = (0..e.arms.len())
            .map(|i| experiment::ranges_of(&e.owner, i as u16))
            .collect();
        for (i, arm) in e.arms.iter().enumerate() {
            for &(first, last) in &ranges[i] {
                let at = u64::from(first) * 600 / full;
                let w = (u64::from(last) + 1) * 600 / full - at;
                let _ = write!(
                    bar,
                    r##"<rect x="{at}" y="0" width="{w}" height="26" fill="{}"><title>{}: buckets {first}-{last}</title></rect>"##,
                    palette[i % palette.len()],
                    esc(&arm.name),
                );
            }
        }
        bar.push_str("</svg>");
        let _ = writeln!(b, "{bar}");
        let _ = writeln!(b, "<table><thead><tr><th></th><th>arm</th><th>share</th><th>buckets (of 0-9999)</th><th>template</th><th>hold-out</th></tr></thead><tbody>");
        for (i, arm) in e.arms.iter().enumerate() {
            let template = match &arm.template {
                Some(t) => match links.template(t) {
                    Some(href) => format!("<a href=\"{}\"><code>{}</code></a>", esc(href), esc(t)),
                    None => format!("<code>{}</code>", esc(t)),
                },
                None => "<span class=\"meta\">the class's template</span>".into(),
            };
            let anchor = esc(&arm_anchor(&e.name, &arm.name));
            let _ = writeln!(
                b,
                "<tr id=\"{anchor}\"><td style=\"background:{}\"></td><td class=\"id\"><a href=\"#{anchor}\">{}</a></td><td class=\"cov\">{}</td><td class=\"buckets\">{}</td><td>{}</td><td>{}</td></tr>",
                palette[i % palette.len()],
                esc(&arm.name),
                experiment::format_percent(u64::from(arm.share)),
                experiment::show_ranges(&ranges[i]),
                template,
                if arm.holdout { "yes" } else { "" }
            );
        }
        let _ = writeln!(b, "</tbody></table>");
    }
    Page {
        file: "experiments.html".into(),
        html: page(&input.policy_name, "Experiments", &b),
    }
}

pub fn calendars(input: &Input, links: &Links) -> Page {
    let mut b = String::new();
    let mut calendars: BTreeMap<&str, &WorkCalendar> = BTreeMap::new();
    if let Some(policy) = input.policy {
        calendars.insert(&policy.calendar.name, &policy.calendar);
        for t in policy.templates.values() {
            calendars.insert(&t.calendar.name, &t.calendar);
        }
        for c in &policy.calendar_by.calendars {
            calendars.insert(&c.name, c);
        }
        let by = &policy.calendar_by;
        if !by.listed.is_empty() {
            let _ = write!(
                b,
                "<p>An account is dated on the calendar of its <code>{}</code>:",
                esc(&by.field)
            );
            for (value, index) in &by.listed {
                let name = &by.calendars[*index].name;
                let _ = write!(
                    b,
                    " <code>{}</code> on <a href=\"#{}\"><code>{}</code></a>;",
                    esc(value),
                    esc(&format!("calendar-{}", super::html::slug(name))),
                    esc(name)
                );
            }
            let _ = writeln!(
                b,
                " any other on <code>{}</code> (a template's events on the template's).</p>",
                esc(&policy.calendar.name)
            );
        }
    }
    if calendars.is_empty() {
        b.push_str("<p>No calendar is used.</p>");
    }
    let year = input.start.year();
    for (name, cal) in calendars {
        let _ = writeln!(
            b,
            "<h2 id=\"{}\">{}</h2>",
            esc(&format!("calendar-{}", super::html::slug(name))),
            esc(name)
        );
        let doc = input
            .docs
            .calendars
            .iter()
            .find(|(_, d)| d.calendar.value == name);
        if let Some(d) = doc.and_then(|(_, d)| d.description.as_ref()) {
            let _ = writeln!(b, "<p>{}</p>", links.text(d));
        }
        let weekend: Vec<String> = cal.weekend.iter().map(|d| d.to_string()).collect();
        let _ = writeln!(
            b,
            "<p class=\"meta\">weekend: {}</p>",
            if weekend.is_empty() {
                "none".to_string()
            } else {
                weekend.join(", ")
            }
        );
        let named = doc.map(|(file, d)| calendar::named_holidays(file, d));
        let shown = days_off(cal, named.as_deref().unwrap_or_default(), year..=year + 1);
        let _ = writeln!(
            b,
            "<h3>Days off in {year} and {}</h3><table><thead><tr><th>date</th><th>weekday</th><th>holiday</th></tr></thead><tbody>",
            year + 1
        );
        for (d, names) in shown {
            let _ = writeln!(
                b,
                "<tr><td>{d}</td><td>{}</td><td>{}</td></tr>",
                d.weekday(),
                names.join("<br>")
            );
        }
        let _ = writeln!(b, "</tbody></table>");
    }
    Page {
        file: "calendars.html".into(),
        html: page(&input.policy_name, "Calendars", &b),
    }
}

/// The calendar's days off in `years`, each with the holidays behind it (as
/// HTML): a holiday's own date, or the day observed in lieu of one that falls
/// on a weekend, marked as such, with the actual date marked as not a day off
/// of its own when it is on the weekend anyway.
fn days_off(
    cal: &WorkCalendar,
    holidays: &[(String, calendar::Holiday)],
    years: std::ops::RangeInclusive<i32>,
) -> BTreeMap<NaiveDate, Vec<String>> {
    let mut days: BTreeMap<NaiveDate, Vec<String>> = cal
        .holidays
        .iter()
        .filter(|d| years.contains(&d.year()))
        .map(|d| (*d, Vec::new()))
        .collect();
    // A holiday early in January may be observed in the December before.
    let around = years.start() - 1..=years.end() + 1;
    let mut substituted = Vec::new();
    for (name, h) in holidays {
        for actual in h.dates().filter(|d| around.contains(&d.year())) {
            if h.observance == calendar::Observance::NextFreeWeekday {
                substituted.push((actual, name));
            }
            let observed = h.observance.observed(actual);
            if let Some(names) = days.get_mut(&actual) {
                names.push(match observed {
                    Some(o) => format!(
                        "{} <span class=\"meta\">(the holiday; observed {} {o})</span>",
                        esc(name),
                        o.weekday()
                    ),
                    None => esc(name),
                });
            }
            if let Some(names) = observed.and_then(|o| days.get_mut(&o)) {
                names.push(format!(
                    "{} <span class=\"meta\">(observed: the holiday is {} {actual})</span>",
                    esc(name),
                    actual.weekday()
                ));
            }
        }
    }
    // A `next_free_weekday` holiday on a weekend gives the first later day
    // off that no holiday names, in date order (`calendar::substitute_days`).
    substituted.sort();
    for (actual, name) in substituted {
        if !cal.weekend.contains(&actual.weekday()) {
            continue;
        }
        let free = actual
            .iter_days()
            .skip(1)
            .take(7)
            .find(|d| days.get(d).is_some_and(|names| names.is_empty()));
        let Some(free) = free else {
            continue;
        };
        if let Some(names) = days.get_mut(&free) {
            names.push(format!(
                "{} <span class=\"meta\">(substitute day: the holiday is {} {actual})</span>",
                esc(name),
                actual.weekday()
            ));
        }
        // The holiday's own day says where its day off went, as an observed one does.
        if let Some(own) = days
            .get_mut(&actual)
            .and_then(|names| names.iter_mut().find(|n| **n == esc(name)))
        {
            *own = format!(
                "{} <span class=\"meta\">(the holiday; substitute day {} {free})</span>",
                esc(name),
                free.weekday()
            );
        }
    }
    days
}

pub fn schema(input: &Input, links: &Links) -> Page {
    let schema = input.plan.schema();
    let mut b = String::new();
    if let Some(d) = input
        .docs
        .schemas
        .first()
        .and_then(|(_, d)| d.description.as_ref())
    {
        let _ = writeln!(b, "<p>{}</p>", links.text(d));
    }
    let _ = writeln!(
        b,
        "<p class=\"meta\">schema <code>{}</code> · currency {}</p>",
        esc(&schema.name),
        esc(&schema.currency)
    );
    // Each record once, under the first field path that reaches it.
    let mut queue: std::collections::VecDeque<(String, RecordId)> =
        std::collections::VecDeque::from([("account".to_string(), crate::data::schema::ACCOUNT)]);
    let mut seen: Vec<RecordId> = Vec::new();
    while let Some((path, id)) = queue.pop_front() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let _ = writeln!(b, "<h2 id=\"record-{id}\">{}</h2>", esc(&path));
        fields(&mut b, schema, schema.record(id), &path, &mut queue);
    }
    let _ = writeln!(b, "<h2>Enums</h2><table><thead><tr><th>enum</th><th>variants (in order)</th></tr></thead><tbody>");
    for e in &schema.enums {
        let _ = writeln!(
            b,
            "<tr id=\"enum-{}\"><td><code>{}</code></td><td>{}</td></tr>",
            esc(&super::html::slug(&e.name)),
            esc(&e.name),
            e.variants
                .iter()
                .map(|v| format!("<span class=\"pill\">{}</span>", esc(v)))
                .collect::<Vec<_>>()
                .join("")
        );
    }
    let _ = writeln!(b, "</tbody></table>");
    Page {
        file: "schema.html".into(),
        html: page(&input.policy_name, "Schema", &b),
    }
}

fn fields(
    b: &mut String,
    schema: &Schema,
    record: &crate::data::schema::RecordDef,
    path: &str,
    queue: &mut std::collections::VecDeque<(String, RecordId)>,
) {
    let _ = writeln!(
        b,
        "<table><thead><tr><th>field</th><th>type</th><th>optional</th></tr></thead><tbody>"
    );
    for f in &record.fields {
        let field_path = format!("{path}.{}", f.name);
        let ty = match &f.ty {
            Type::Record(id) => {
                queue.push_back((field_path, *id));
                format!("<a href=\"#record-{id}\">record</a>")
            }
            Type::List(inner) => match inner.as_ref() {
                Type::Record(id) => {
                    queue.push_back((field_path, *id));
                    format!("list of <a href=\"#record-{id}\">records</a>")
                }
                _ => esc(&ShowType(&f.ty, schema).to_string()),
            },
            Type::Enum(id) => format!(
                "<a href=\"#enum-{}\">{}</a>",
                esc(&super::html::slug(&schema.enum_def(*id).name)),
                esc(&schema.enum_def(*id).name)
            ),
            _ => esc(&ShowType(&f.ty, schema).to_string()),
        };
        let _ = writeln!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&f.name),
            ty,
            if f.optional { "yes" } else { "" }
        );
    }
    let _ = writeln!(b, "</tbody></table>");
}
