//! Effective dating: which versions of tables, rows and templates are in force
//! on a day. A version carries `effective: { from, until }` (both days
//! inclusive, as a calendar holiday's `from` and `until`); two versions of one
//! table, row or template may not be in force on the same day. The dates cut
//! time into periods, and each period's rule set is the rule documents with the
//! versions not in force removed ([`Versions::in_force`]), so the checker,
//! compiler and evaluator never see a date: a rule set is selected once per
//! period, never per account. It must not check what a version says (the
//! checker does that once the set is selected).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{Days, NaiveDate};

use super::doc::EffectiveDoc;
use super::load::{date_cell, RuleDocs};
use super::spanned::Spanned;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};

const CODE: &str = "effective";

/// What an `effective` clause dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Table,
    Row,
    Template,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::Row => "row",
            Kind::Template => "template",
        }
    }
}

/// Where a dated item sits in the rule documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    Table(usize),
    Row(usize, usize),
    Template(usize),
}

/// One version with an `effective` clause.
#[derive(Clone, Debug)]
pub struct Version {
    pub kind: Kind,
    /// `entry`, `entry:consumer-in-arrears` (a row), `card_early_std`.
    pub name: String,
    pub file: Arc<SourceFile>,
    /// The version's name where it is written (a table's or template's name, a row's id).
    pub span: Span,
    /// First day in force (None: always before `until`).
    pub from: Option<NaiveDate>,
    /// Last day in force, inclusive (None: no end).
    pub until: Option<NaiveDate>,
    position: Position,
}

impl Version {
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= date) && self.until.is_none_or(|u| date <= u)
    }

    /// `rules/entry.yaml:30:7`
    pub fn location(&self) -> String {
        let (line, col) = self.file.line_col(self.span.start);
        format!("{}:{line}:{col}", self.file.name)
    }

    /// `from 2027-01-01`, `until 2026-12-31`, `from 2027-01-01 until 2027-06-30`.
    pub fn dates(&self) -> String {
        Period {
            from: self.from,
            until: self.until,
        }
        .to_string()
    }
}

/// A span of days, both ends inclusive; None is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Period {
    /// Whether `date` is a day of the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= date) && self.until.is_none_or(|u| date <= u)
    }

    /// The day of the period nearest to `date` (`date` itself when it is one).
    pub fn nearest(&self, date: NaiveDate) -> NaiveDate {
        match (self.from, self.until) {
            (Some(f), _) if date < f => f,
            (_, Some(u)) if date > u => u,
            _ => date,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.until) {
            (Some(a), Some(b)) => write!(f, "from {a} until {b}"),
            (Some(a), None) => write!(f, "from {a}"),
            (None, Some(b)) => write!(f, "until {b}"),
            (None, None) => f.write_str("always"),
        }
    }
}

/// One distinct rule set: the periods it is in force and which versions it holds.
#[derive(Clone, Debug)]
pub struct RuleSet {
    pub periods: Vec<Period>,
    /// Per entry of [`Versions::list`], whether this set holds it.
    pub holds: Vec<bool>,
}

impl RuleSet {
    /// `from 2027-01-01`, or several periods joined with `, `.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.periods.iter().map(Period::to_string).collect();
        parts.join(", ")
    }
}

/// Every dated version of a rules directory, the problems with their dates,
/// and the distinct rule sets their dates make.
#[derive(Clone, Debug, Default)]
pub struct Versions {
    pub list: Vec<Version>,
    pub diagnostics: Vec<Diagnostic>,
    /// The first day of each period after the first, ascending.
    starts: Vec<NaiveDate>,
    /// Per period (one more than `starts`), its index in `sets`.
    period_set: Vec<usize>,
    pub sets: Vec<RuleSet>,
}

/// A dated or undated item, for the overlap check.
struct Member {
    version: Version,
    dated: bool,
    /// Its clause is wrong (reported): left out of the overlap and gap checks,
    /// so one mistake is one error.
    broken: bool,
}

impl Versions {
    pub fn of(docs: &RuleDocs) -> Versions {
        let mut diagnostics = Vec::new();
        // (kind, group key) → members, in file order.
        let mut groups: BTreeMap<(Kind, String), Vec<Member>> = BTreeMap::new();
        let mut add = |kind: Kind,
                       group: String,
                       name: String,
                       file: &Arc<SourceFile>,
                       span: Span,
                       effective: &Option<Spanned<EffectiveDoc>>,
                       position: Position,
                       diagnostics: &mut Vec<Diagnostic>| {
            let reported = diagnostics.len();
            let (from, until) = match effective {
                Some(e) => dates(file, e, diagnostics),
                None => (None, None),
            };
            let broken = diagnostics.len() > reported;
            groups.entry((kind, group)).or_default().push(Member {
                version: Version {
                    kind,
                    name,
                    file: file.clone(),
                    span,
                    from,
                    until,
                    position,
                },
                dated: effective.is_some(),
                broken,
            });
        };
        for (t, (file, table)) in docs.tables.iter().enumerate() {
            let name = &table.table;
            add(
                Kind::Table,
                name.value.clone(),
                name.value.clone(),
                file,
                name.span,
                &table.effective,
                Position::Table(t),
                &mut diagnostics,
            );
            for (r, row) in table.rows.iter().enumerate() {
                let id = &row.value.id;
                let row_name = format!("{}:{}", name.value, id.value.0);
                // Rows are versions of each other within one table document.
                add(
                    Kind::Row,
                    format!("{t}\u{1f}{}", id.value.0),
                    row_name,
                    file,
                    id.span,
                    &row.value.effective,
                    Position::Row(t, r),
                    &mut diagnostics,
                );
            }
        }
        for (t, (file, template)) in docs.templates.iter().enumerate() {
            let name = &template.template;
            add(
                Kind::Template,
                name.value.clone(),
                name.value.clone(),
                file,
                name.span,
                &template.effective,
                Position::Template(t),
                &mut diagnostics,
            );
        }
        let mut list = Vec::new();
        for members in groups.into_values() {
            // Undated duplicates are the checker's `duplicate` errors, not versions.
            if members.iter().any(|m| m.dated) {
                let sound: Vec<&Version> = members
                    .iter()
                    .filter(|m| !m.broken)
                    .map(|m| &m.version)
                    .collect();
                overlaps_and_gaps(sound, &mut diagnostics);
            }
            list.extend(members.into_iter().filter(|m| m.dated).map(|m| m.version));
        }
        list.sort_by_key(|v| (v.file.name.clone(), v.span.start));
        let mut versions = Versions {
            list,
            diagnostics,
            ..Versions::default()
        };
        versions.cut_periods();
        versions
    }

    /// No `effective` clause anywhere: one rule set, the documents as they are.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn cut_periods(&mut self) {
        let mut starts: Vec<NaiveDate> = self
            .list
            .iter()
            .flat_map(|v| {
                [
                    v.from,
                    v.until.and_then(|u| u.checked_add_days(Days::new(1))),
                ]
            })
            .flatten()
            .collect();
        starts.sort();
        starts.dedup();
        let mut sets: Vec<RuleSet> = Vec::new();
        let mut period_set = Vec::new();
        for p in 0..=starts.len() {
            let from = p.checked_sub(1).map(|i| starts[i]);
            let until = starts.get(p).and_then(|s| s.pred_opt());
            let day = from.or(until).unwrap_or(NaiveDate::MIN);
            let holds: Vec<bool> = self.list.iter().map(|v| v.in_force(day)).collect();
            let period = Period { from, until };
            let index = match sets.iter().position(|s| s.holds == holds) {
                Some(i) => {
                    sets[i].periods.push(period);
                    i
                }
                None => {
                    sets.push(RuleSet {
                        periods: vec![period],
                        holds,
                    });
                    sets.len() - 1
                }
            };
            period_set.push(index);
        }
        self.starts = starts;
        self.period_set = period_set;
        self.sets = sets;
    }

    /// The index in `sets` of the rule set in force on `date`.
    pub fn set_on(&self, date: NaiveDate) -> usize {
        self.period_set[self.starts.partition_point(|s| *s <= date)]
    }

    /// The dated versions a set holds.
    pub fn held(&self, set: usize) -> impl Iterator<Item = &Version> {
        self.list
            .iter()
            .zip(&self.sets[set].holds)
            .filter(|(_, &h)| h)
            .map(|(v, _)| v)
    }

    /// The rule documents of set `set`: every version it does not hold removed.
    pub fn in_force(&self, docs: &RuleDocs, set: usize) -> RuleDocs {
        let dropped: Vec<Position> = self
            .list
            .iter()
            .zip(&self.sets[set].holds)
            .filter(|(_, &h)| !h)
            .map(|(v, _)| v.position)
            .collect();
        let dated: Vec<Position> = self.list.iter().map(|v| v.position).collect();
        let mut out = docs.clone();
        let keep = |p: Position| !dropped.contains(&p);
        // Overlapping versions are reported once (`effective-overlap`); the
        // later is left out, so the checker does not report the same name twice.
        let first_of = |names: &mut Vec<String>, name: &str, p: Position| {
            let again = names.iter().any(|n| n == name) && dated.contains(&p);
            names.push(name.to_string());
            !again
        };
        let mut tables = Vec::new();
        let mut t = 0;
        out.tables.retain_mut(|(_, table)| {
            let index = t;
            t += 1;
            let mut rows = Vec::new();
            let mut r = 0;
            table.rows.retain(|row| {
                r += 1;
                let p = Position::Row(index, r - 1);
                keep(p) && first_of(&mut rows, &row.value.id.value.0, p)
            });
            let p = Position::Table(index);
            keep(p) && first_of(&mut tables, &table.table.value, p)
        });
        let mut templates = Vec::new();
        let mut t = 0;
        out.templates.retain(|(_, template)| {
            t += 1;
            let p = Position::Template(t - 1);
            keep(p) && first_of(&mut templates, &template.template.value, p)
        });
        out
    }
}

/// The clause's dates; a bad date or an end before the start is an error.
fn dates(
    file: &Arc<SourceFile>,
    effective: &Spanned<EffectiveDoc>,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let e = &effective.value;
    let from = e
        .from
        .as_ref()
        .and_then(|c| date_cell(CODE, file, c, diagnostics));
    let until = e
        .until
        .as_ref()
        .and_then(|c| date_cell(CODE, file, c, diagnostics));
    if e.from.is_none() && e.until.is_none() {
        diagnostics.push(
            Diagnostic::error(CODE, file, effective.span, "`effective` gives no date")
                .with_help("write `effective: { from: 2027-01-01 }`, `until:` or both (inclusive)"),
        );
    }
    if let (Some(f), Some(u), Some(at)) = (from, until, &e.until) {
        if u < f {
            diagnostics.push(
                Diagnostic::error(
                    CODE,
                    file,
                    at.span,
                    format!(
                        "`until: {u}` is before `from: {f}`, so this version is never in force"
                    ),
                )
                .with_help("`until` is the last day in force, inclusive"),
            );
            return (None, None);
        }
    }
    (from, until)
}

/// Two versions of one item in force on a day are an error naming both; a
/// hole between consecutive versions is a warning naming the days.
fn overlaps_and_gaps(mut sorted: Vec<&Version>, diagnostics: &mut Vec<Diagnostic>) {
    sorted.sort_by_key(|v| (v.from, v.file.name.clone(), v.span.start));
    for (i, later) in sorted.iter().enumerate() {
        for earlier in &sorted[..i] {
            let start = later.from.max(earlier.from);
            let end = match (later.until, earlier.until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if start.zip(end).is_some_and(|(s, e)| s > e) {
                continue;
            }
            let both = Period {
                from: start,
                until: end,
            };
            diagnostics.push(
                Diagnostic::error(
                    "effective-overlap",
                    &later.file,
                    later.span,
                    format!(
                        "two versions of {} `{}` are in force {both}: {} and {}",
                        later.kind.name(),
                        later.name,
                        earlier.location(),
                        later.location()
                    ),
                )
                .with_help(
                    "end one version the day before the other starts (`until` is inclusive)",
                ),
            );
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (Some(end), Some(next)) = (a.until, b.from) else {
            continue;
        };
        let (Some(first_missing), Some(last_missing)) = (end.succ_opt(), next.pred_opt()) else {
            continue;
        };
        if first_missing <= last_missing {
            let hole = Period {
                from: Some(first_missing),
                until: Some(last_missing),
            };
            diagnostics.push(
                Diagnostic::warning(
                    "effective-gap",
                    &b.file,
                    b.span,
                    format!(
                        "no version of {} `{}` is in force {hole}: {} ends {end}, {} starts {next}",
                        b.kind.name(),
                        b.name,
                        a.location(),
                        b.location()
                    ),
                )
                .with_help(format!(
                    "start this version on {first_missing}, or end the other on {last_missing}"
                )),
            );
        }
    }
}
