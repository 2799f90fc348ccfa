//! A rules directory over time: its documents, their dated versions
//! (`model::effective`), and the policy in force on a day, built the first time
//! a day of its rule set is asked for and kept, so a timeline or a batch builds
//! one policy per rule set, never one per day or per account. It must not read
//! a clock: every day is given.

use std::cell::OnceCell;
use std::path::Path;

use chrono::NaiveDate;
use serde_json::{json, Value as Json};

use super::{build, Loaded};
use crate::model::effective::{Version, Versions};
use crate::model::{LoadError, RuleDocs};

pub struct Rulebook {
    pub docs: RuleDocs,
    pub versions: Versions,
    built: Vec<OnceCell<Loaded>>,
}

impl Rulebook {
    pub fn load(dir: &Path) -> Result<Rulebook, LoadError> {
        Ok(Rulebook::new(crate::model::load_dir(dir)?))
    }

    pub fn new(docs: RuleDocs) -> Rulebook {
        let versions = Versions::of(&docs);
        let built = (0..versions.sets.len().max(1))
            .map(|_| OnceCell::new())
            .collect();
        Rulebook {
            docs,
            versions,
            built,
        }
    }

    /// The index of the rule set in force on `date`.
    pub fn set_on(&self, date: NaiveDate) -> usize {
        if self.versions.is_empty() {
            0
        } else {
            self.versions.set_on(date)
        }
    }

    /// The rules in force on `date`, checked and compiled (once per rule set);
    /// the dates' own problems (bad dates, overlapping versions) come first.
    pub fn on(&self, date: NaiveDate) -> &Loaded {
        self.set(self.set_on(date))
    }

    /// Rule set `set` (an index of `versions.sets`; 0 when nothing is dated).
    pub fn set(&self, set: usize) -> &Loaded {
        self.built[set].get_or_init(|| {
            if self.versions.is_empty() {
                return build(&self.docs);
            }
            let mut loaded = build(&self.versions.in_force(&self.docs, set));
            // Wrong dates make every rule set wrong: nothing runs.
            if self
                .versions
                .diagnostics
                .iter()
                .any(|d| d.severity == crate::diagnostic::Severity::Error)
            {
                loaded.policy = None;
                loaded.plan = None;
            }
            let mut diagnostics = self.versions.diagnostics.clone();
            diagnostics.append(&mut loaded.diagnostics);
            crate::diagnostic::sort(&mut diagnostics);
            loaded.diagnostics = diagnostics;
            loaded
        })
    }

    /// Rule set `set`, built, taken out of the book.
    pub fn into_set(self, set: usize) -> Loaded {
        let _ = self.set(set);
        let mut built = self.built;
        built.swap_remove(set).into_inner().expect("just built")
    }

    /// The dated versions in force on `date` (none when nothing is dated).
    pub fn in_force(&self, date: NaiveDate) -> Vec<&Version> {
        if self.versions.is_empty() {
            return Vec::new();
        }
        self.versions.held(self.set_on(date)).collect()
    }

    /// The dated versions in force on `date`, as JSON: what `dry-run`, `test`
    /// and `batch` name as the versions they used.
    pub fn in_force_json(&self, date: NaiveDate) -> Json {
        self.in_force_shown(date, &|file| file.to_string())
            .iter()
            .map(InForce::json)
            .collect()
    }

    /// One line per dated version in force: `row entry:x (from 2027-01-01) at rules/entry.yaml:30:7`.
    pub fn in_force_lines(&self, date: NaiveDate) -> Vec<String> {
        self.in_force_shown(date, &|file| file.to_string())
            .iter()
            .map(InForce::line)
            .collect()
    }

    /// The dated versions in force on `date`, each file named by `show` (a
    /// base revision's temporary copy as `HEAD~1:rules/entry.yaml`).
    pub fn in_force_shown(&self, date: NaiveDate, show: &dyn Fn(&str) -> String) -> Vec<InForce> {
        self.in_force(date)
            .into_iter()
            .map(|v| InForce {
                kind: v.kind.name(),
                name: v.name.clone(),
                from: v.from,
                until: v.until,
                dates: v.dates(),
                at: show(&v.location()),
            })
            .collect()
    }
}

/// A dated version in force, written out for a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InForce {
    /// `row`, `table`, `template`.
    pub kind: &'static str,
    pub name: String,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// `from 2027-01-01`, `until 2026-12-31`.
    pub dates: String,
    /// `rules/entry.yaml:30:7`.
    pub at: String,
}

impl InForce {
    /// `row entry:x (from 2027-01-01) at rules/entry.yaml:30:7`
    pub fn line(&self) -> String {
        format!(
            "{} {} ({}) at {}",
            self.kind, self.name, self.dates, self.at
        )
    }

    pub fn json(&self) -> Json {
        json!({
            "kind": self.kind,
            "name": self.name,
            "from": self.from.map(|d| d.to_string()),
            "until": self.until.map(|d| d.to_string()),
            "at": self.at,
        })
    }
}
