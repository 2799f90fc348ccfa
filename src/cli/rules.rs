//! The one door through which every command that evaluates rules (`dry-run`,
//! `test`, `batch`, `simulate`, `diff`, `doc`) gets them: a rule set is handed
//! out only when `arrears lint` reports no error in it (its checks, then the
//! table analysis' gaps and overlaps and the guard-rail proofs:
//! `crate::lint_errors`, found once per rule set); otherwise the command exits 3
//! with one line naming the first error and how many there are. Warnings and
//! infos never stop a run. It must not decide what is an error: lint does.

use std::cell::OnceCell;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{error_line, Exit};
use crate::diagnostic::Diagnostic;
use crate::model::LoadError;
use crate::policy::{Loaded, Rulebook};

/// A rules directory as a command reads it: its [`Rulebook`], and per rule
/// set the errors lint would report.
pub struct Rules {
    book: Rulebook,
    dir: PathBuf,
    /// `in `rules``, or `of the base (HEAD~1 (1a2b…) rules/)`.
    name: String,
    /// The lint command that shows the errors (`--as-of` is added for dated
    /// rules); `None`: one cannot be given (a git revision).
    lint: Option<String>,
    /// A file name as it is shown (a revision's temporary copy as `HEAD~1:rules/x.yaml`).
    show: Box<dyn Fn(&str) -> String>,
    errors: Vec<OnceCell<Vec<Diagnostic>>>,
}

impl Rules {
    /// Loads `dir`; the `Err` is exit 2 (a directory that cannot be read).
    pub fn load(dir: &Path) -> Result<Rules, LoadError> {
        Ok(Rules::new(dir, Rulebook::load(dir)?))
    }

    pub fn new(dir: &Path, book: Rulebook) -> Rules {
        let sets = book.versions.sets.len().max(1);
        Rules {
            book,
            dir: dir.to_path_buf(),
            name: format!("in `{}`", dir.display()),
            lint: Some(format!("arrears lint {}", dir.display())),
            show: Box::new(str::to_string),
            errors: (0..sets).map(|_| OnceCell::new()).collect(),
        }
    }

    /// The same rules named otherwise in a refusal (a `diff --base` revision).
    pub fn named(
        mut self,
        name: String,
        lint: Option<String>,
        show: Box<dyn Fn(&str) -> String>,
    ) -> Rules {
        self.name = name;
        self.lint = lint;
        self.show = show;
        self
    }

    /// The errors lint reports for rule set `set`, found the first time.
    pub fn errors(&self, set: usize) -> &[Diagnostic] {
        self.errors[set].get_or_init(|| crate::lint_errors(&self.dir, &self.book, set))
    }

    /// Rule set `set` (an index of `versions.sets`), when lint finds no error in it.
    pub fn runnable(&self, set: usize) -> Result<&Loaded, Refusal<'_>> {
        self.checked(set, None)
    }

    /// The rule set in force on `date`, when lint finds no error in it.
    pub fn runnable_on(&self, date: NaiveDate) -> Result<&Loaded, Refusal<'_>> {
        let dated = (!self.book.versions.is_empty()).then_some(date);
        self.checked(self.book.set_on(date), dated)
    }

    /// The rule set in force on `date` when its checks find no error, whatever
    /// the analysis finds: `dry-run --allow-analysis-errors`, to watch a gap or
    /// an overlap happen on its counterexample account.
    pub fn checked_on(&self, date: NaiveDate) -> Result<&Loaded, Refusal<'_>> {
        let dated = (!self.book.versions.is_empty()).then_some(date);
        let loaded = self.book.on(date);
        let errors: Vec<&Diagnostic> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .collect();
        self.refuse(loaded, errors, dated)
    }

    fn checked(&self, set: usize, date: Option<NaiveDate>) -> Result<&Loaded, Refusal<'_>> {
        let errors = self.errors(set).iter().collect();
        self.refuse(self.book.set(set), errors, date)
    }

    fn refuse<'a>(
        &'a self,
        loaded: &'a Loaded,
        mut errors: Vec<&'a Diagnostic>,
        date: Option<NaiveDate>,
    ) -> Result<&'a Loaded, Refusal<'a>> {
        if errors.is_empty() {
            return Ok(loaded);
        }
        errors.sort_by(|a, b| crate::diagnostic::sort_key(a).cmp(&crate::diagnostic::sort_key(b)));
        Err(Refusal {
            rules: self,
            errors,
            date,
        })
    }
}

impl Deref for Rules {
    type Target = Rulebook;

    fn deref(&self) -> &Rulebook {
        &self.book
    }
}

/// Rules a command will not run: exit 3 and one line.
pub struct Refusal<'a> {
    rules: &'a Rules,
    /// Sorted as lint prints them: the first is the first lint shows.
    errors: Vec<&'a Diagnostic>,
    /// The day, when the rules are effective-dated.
    date: Option<NaiveDate>,
}

impl Refusal<'_> {
    /// `the rules in `rules` have errors, the first at rules/x.yaml:3:5: ... (2 errors; `arrears lint rules` shows them)`
    pub fn line(&self) -> String {
        let r = self.rules;
        let first = self.errors[0];
        let n = self.errors.len();
        let (in_force, as_of) = match self.date {
            Some(d) => (format!(" in force on {d}"), format!(" --as-of {d}")),
            None => (String::new(), String::new()),
        };
        let shows = match &r.lint {
            Some(lint) => {
                let lint = lint.replacen("arrears lint", &format!("arrears lint{as_of}"), 1);
                format!("`{lint}` shows")
            }
            None => "`arrears lint` on a checkout of them shows".to_string(),
        };
        format!(
            "the rules{in_force} {} have errors, the first at {}: {} ({n} error{}; {shows} {})",
            r.name,
            (r.show)(&first.location()),
            first.message,
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" },
        )
    }

    /// Prints [`Refusal::line`]: exit 3.
    pub fn exit(self) -> Exit {
        error_line(self.line());
        Exit::InvalidRules
    }

    /// For commands that report failures as `(Exit, message)`.
    pub fn failed(self) -> (Exit, String) {
        (Exit::InvalidRules, self.line())
    }
}
