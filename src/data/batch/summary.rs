//! The batch summary: rows read, evaluated and rejected, actions counted by
//! kind, what became of `--open-cases`, merged part by part, and its human
//! form for stderr. It must not decide anything: it counts the actions the
//! policy produced.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::policy::{Action, ActionKind};

/// Counts by category, in key order (deterministic JSON).
pub type Counts = BTreeMap<String, u64>;

fn bump(counts: &mut Counts, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// What became of the listed open cases (the summary's `open_cases`):
/// `listed = in_extract + closed_absent + left_open`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpenCasesCounts {
    /// Distinct account ids listed.
    pub listed: u64,
    /// Lines repeating an id listed earlier (the id is handled once).
    pub listed_twice: u64,
    /// Listed accounts that some row of the extract has, evaluated or rejected: nothing done here.
    pub in_extract: u64,
    /// Listed accounts that no row has: `cancel_pending_events` and `close_case`.
    pub closed_absent: u64,
    /// Listed accounts that no row has, left open because a rejected row's
    /// account id could not be read (it may be one of them).
    pub left_open: u64,
    /// Those rejected rows without a readable account id.
    pub rejects_without_id: u64,
}

/// The extract a batch read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InputFile {
    /// As given on the command line; `-` for standard input.
    pub path: String,
    /// The file's size as stored (compressed, for `.gz`); null for standard input or a FIFO.
    pub bytes: Option<u64>,
    /// Rows read (CSV: records after the header; JSON Lines: lines).
    pub rows: u64,
}

/// What the guard rails did by one rule (the summary's `guard_rails`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct GuardCounts {
    pub withheld: u64,
    pub postponed: u64,
    pub rechannelled: u64,
    /// Pending events cancelled in the case.
    pub cancelled: u64,
}

impl GuardCounts {
    fn add(&mut self, other: &GuardCounts) {
        self.withheld += other.withheld;
        self.postponed += other.postponed;
        self.rechannelled += other.rechannelled;
        self.cancelled += other.cancelled;
    }

    fn human(&self) -> String {
        [
            ("withheld", self.withheld),
            ("postponed", self.postponed),
            ("rechannelled", self.rechannelled),
            ("cancelled", self.cancelled),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {n}"))
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A field of JSON Lines records the schema does not have (the summary's
/// `unknown_fields`): decoding ignores it, but it is a misspelt or misplaced
/// field as often as a column no rule reads.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UnknownField {
    /// `account.risk_scor`, list positions left out: `account.dispositions[].callbackdate`.
    pub field: String,
    /// The line of the first row that has it.
    pub first_line: u64,
    /// Rows that have it.
    pub rows: u64,
    /// What the schema says of it, with the nearest field.
    pub message: String,
}

/// The accounts read whose contacts or done case events are dated after the
/// run's date (`history_dates`): no case system records a day it has not
/// reached, so their companions are of a later night than `--as-of`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct HistoryAfterAsOf {
    pub accounts: u64,
    /// The latest such date.
    pub latest: Option<chrono::NaiveDate>,
    /// The first five such accounts, in input order.
    pub examples: Vec<String>,
}

/// How many accounts a warning names.
const EXAMPLES: usize = 5;

impl HistoryAfterAsOf {
    fn add(&mut self, other: HistoryAfterAsOf) {
        self.accounts += other.accounts;
        self.latest = self.latest.max(other.latest);
        let room = EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

/// What a batch did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// The rule set's fingerprint (`RuleDocs::fingerprint`): which rules made these actions.
    pub rules_fingerprint: String,
    /// The evaluation date.
    pub as_of: Option<chrono::NaiveDate>,
    /// The extract read (set by the command, which knows its name).
    pub input: Option<InputFile>,
    pub rows_read: u64,
    pub evaluated: u64,
    pub rejected: u64,
    pub actions: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// `rows_read == evaluated + rejected`.
    pub balanced: bool,
    /// Every table was evaluated (`--all-tables`), not only those the actions read.
    pub all_tables: bool,
    /// Each evaluated row's decisions were written, not actions (`--decisions`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decisions: bool,
    pub entry_category: Counts,
    pub collection_class: Counts,
    pub experiment_arm: Counts,
    pub action_type: Counts,
    pub promise_outcome: Counts,
    /// Actions each guard rule (`guard:reg_f/seven_in_seven`) withheld,
    /// postponed, rechannelled or cancelled, in rule order.
    pub guard_rails: BTreeMap<String, GuardCounts>,
    pub severance_nominations: u64,
    pub severance_nominated_sas: u64,
    /// Evaluated rows whose account id an earlier evaluated row had: each got
    /// its own actions (two cases for one account).
    pub duplicate_account_ids: u64,
    /// The first few of those ids (each once), in input order.
    pub duplicate_account_id_examples: Vec<String>,
    /// Accounts whose history (a contact, a done case event) is dated after
    /// `as_of`: companions of a later night than the extract (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_after_as_of: Option<HistoryAfterAsOf>,
    /// `--open-cases`: what became of the listed open cases (absent without it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_cases: Option<OpenCasesCounts>,
    /// The mapped lists read from no file (`--no-companion`): empty for every
    /// account, so the rules saw none of their items (absent when every list was read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists_not_read: Vec<String>,
    /// The mapped columns read from no header (`--no-column`): their fields are null
    /// for every account (absent when every column was read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_not_read: Vec<String>,
    /// JSON Lines: the fields a CSV extract must have a column for, and the
    /// lists it must have a companion file for, that no record of the first
    /// part carried, not even as null or `[]` (absent when every
    /// one was seen, or the rules have no column mapping to tell them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields_not_seen: Option<super::FieldsNotSeen>,
    /// JSON Lines: the fields of the rows the schema does not have, in the
    /// order first met (absent when there are none). Actions and exit codes
    /// are those of the rows without them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_fields: Vec<UnknownField>,
    /// Actions by type name while a part is tallied, found by the name's
    /// address (a few kinds, every row): folded into `action_type` by `settle`.
    #[serde(skip)]
    type_tally: Vec<(&'static str, u64)>,
}

impl Summary {
    pub(super) fn merge(&mut self, mut other: Summary) {
        other.settle();
        self.evaluated += other.evaluated;
        self.rejected += other.rejected;
        self.actions += other.actions;
        for (mine, theirs) in [
            (&mut self.entry_category, other.entry_category),
            (&mut self.collection_class, other.collection_class),
            (&mut self.experiment_arm, other.experiment_arm),
            (&mut self.action_type, other.action_type),
            (&mut self.promise_outcome, other.promise_outcome),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
        for (rule, counts) in &other.guard_rails {
            self.guard_rails
                .entry(rule.clone())
                .or_default()
                .add(counts);
        }
        if let Some(theirs) = other.history_after_as_of {
            self.history_after_as_of
                .get_or_insert_with(Default::default)
                .add(theirs);
        }
        self.severance_nominations += other.severance_nominations;
        self.severance_nominated_sas += other.severance_nominated_sas;
        // Parts are merged in input order: a field's first line is the earlier part's.
        for field in other.unknown_fields {
            match self
                .unknown_fields
                .iter_mut()
                .find(|f| f.field == field.field)
            {
                Some(known) => known.rows += field.rows,
                None => self.unknown_fields.push(field),
            }
        }
    }

    /// Counts the fields of one JSON record (at `line`) the schema does not
    /// have, each once per row.
    pub(super) fn note_unknown_fields(
        &mut self,
        schema: &crate::data::schema::Schema,
        json: &serde_json::Value,
        line: u64,
    ) {
        let found = crate::data::snapshot::unknown_fields(schema, json, None);
        let mut this_row: Vec<String> = Vec::new();
        for (path, message) in found {
            let field = format!(
                "account.{}",
                crate::data::accounts::without_positions(&path)
            );
            if this_row.contains(&field) {
                continue;
            }
            match self.unknown_fields.iter_mut().find(|f| f.field == field) {
                Some(known) => known.rows += 1,
                None => self.unknown_fields.push(UnknownField {
                    field: field.clone(),
                    first_line: line,
                    rows: 1,
                    message,
                }),
            }
            this_row.push(field);
        }
    }

    /// Account `id` holds history dated `latest`, after the run's date.
    pub(super) fn note_history_after(&mut self, id: &str, latest: chrono::NaiveDate) {
        self.history_after_as_of
            .get_or_insert_with(Default::default)
            .add(HistoryAfterAsOf {
                accounts: 1,
                latest: Some(latest),
                examples: vec![id.to_string()],
            });
    }

    /// Folds the actions tallied by type into `action_type`.
    pub(super) fn settle(&mut self) {
        for (name, n) in self.type_tally.drain(..) {
            *self.action_type.entry(name.to_string()).or_default() += n;
        }
    }

    pub(super) fn tally(&mut self, actions: &[Action]) {
        self.actions += actions.len() as u64;
        for a in actions {
            let name = a.kind.name();
            match self
                .type_tally
                .iter_mut()
                .find(|(known, _)| std::ptr::eq(*known, name))
            {
                Some((_, n)) => *n += 1,
                None => self.type_tally.push((name, 1)),
            }
            match &a.kind {
                ActionKind::OpenCase { category, .. } => bump(&mut self.entry_category, category),
                ActionKind::AssignClass { class, .. } => bump(
                    &mut self.collection_class,
                    class.as_deref().unwrap_or("null"),
                ),
                ActionKind::AssignArm {
                    experiment, arm, ..
                } => bump(&mut self.experiment_arm, &format!("{experiment}/{arm}")),
                ActionKind::PromiseOutcome { status, .. } => {
                    let s = serde_json::to_value(status).ok();
                    let s = s.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                    bump(&mut self.promise_outcome, s)
                }
                ActionKind::NominateSeverance { sas } => {
                    self.severance_nominations += 1;
                    self.severance_nominated_sas += sas.len() as u64;
                }
                _ => {}
            }
            let count: fn(&mut GuardCounts) = match &a.kind {
                ActionKind::Withhold { .. } => |c| c.withheld += 1,
                ActionKind::Postpone { .. } => |c| c.postponed += 1,
                ActionKind::Rechannel { .. } => |c| c.rechannelled += 1,
                ActionKind::CancelEvent { .. } => |c| c.cancelled += 1,
                _ => continue,
            };
            for rule in a.rules.iter().filter(|r| r.starts_with("guard:")) {
                count(self.guard_rails.entry(rule.to_string()).or_default());
            }
        }
    }

    /// For people, on stderr.
    pub fn human(&self) -> String {
        let mut s = format!(
            "{} rows read: {} evaluated, {} rejected{}; {} in {:.2} s ({:.0} rows/s)\n",
            self.rows_read,
            self.evaluated,
            self.rejected,
            if self.balanced {
                ""
            } else {
                " -- DOES NOT ADD UP"
            },
            match self.decisions {
                true => format!("{} decision lines", self.evaluated),
                false => format!("{} actions", self.actions),
            },
            self.seconds,
            self.rows_per_second
        );
        if let Some(input) = &self.input {
            s.push_str(&format!(
                "  {:<17} {} ({}, {} rows)\n",
                "input",
                crate::diagnostic::printable(&input.path),
                match input.bytes {
                    Some(n) => format!("{n} bytes"),
                    None => "size unknown".to_string(),
                },
                input.rows
            ));
        }
        if !self.rules_fingerprint.is_empty() {
            s.push_str(&format!(
                "  {:<17} {}{}\n",
                "rules",
                self.rules_fingerprint,
                match self.as_of {
                    Some(d) => format!(" as of {d}"),
                    None => String::new(),
                }
            ));
        }
        if self.all_tables {
            s.push_str("  every table evaluated (--all-tables)\n");
        }
        for (title, counts) in [
            ("entry category", &self.entry_category),
            ("collection class", &self.collection_class),
            ("experiment arm", &self.experiment_arm),
            ("action type", &self.action_type),
            ("promise outcome", &self.promise_outcome),
        ] {
            if counts.is_empty() {
                continue;
            }
            let items: Vec<String> = counts
                .iter()
                .map(|(k, v)| format!("{} {v}", crate::diagnostic::printable(k)))
                .collect();
            s.push_str(&format!("  {title:<17} {}\n", items.join(", ")));
        }
        if !self.guard_rails.is_empty() {
            let items: Vec<String> = self
                .guard_rails
                .iter()
                .map(|(rule, counts)| format!("{rule} {}", counts.human()))
                .collect();
            s.push_str(&format!("  {:<17} {}\n", "guard rails", items.join(", ")));
        }
        s.push_str(&format!(
            "  {:<17} {} nominations, {} SAs\n",
            "severance", self.severance_nominations, self.severance_nominated_sas
        ));
        if let Some(open) = &self.open_cases {
            s.push_str(&format!(
                "  {:<17} {} listed{}: {} in the extract, {} closed as absent{}\n",
                "open cases",
                open.listed,
                match open.listed_twice {
                    0 => String::new(),
                    1 => " (1 line repeats an id)".to_string(),
                    n => format!(" ({n} lines repeat an id)"),
                },
                open.in_extract,
                open.closed_absent,
                match open.left_open {
                    0 => String::new(),
                    n => format!(", {n} absent but left open"),
                },
            ));
            if open.left_open > 0 {
                s.push_str(&format!(
                    "warning: {} listed open cases are absent from the extract but were left open: {} rejected rows had no readable account id, and may be theirs\n",
                    open.left_open, open.rejects_without_id
                ));
            }
        }
        for warning in not_read_warnings(
            &self.lists_not_read,
            &self.columns_not_read,
            self.fields_not_seen.as_ref(),
        ) {
            s.push_str(&format!("warning: {warning}\n"));
        }
        for f in &self.unknown_fields {
            let more = match f.rows {
                1 => String::new(),
                2 => " (1 more row has it)".to_string(),
                n => format!(" ({} more rows have it)", n - 1),
            };
            s.push_str(&format!(
                "warning: line {}: `{}` is ignored: {}{more}\n",
                f.first_line,
                crate::diagnostic::printable(&f.field),
                crate::diagnostic::printable(&f.message)
            ));
        }
        if let Some(late) = &self.history_after_as_of {
            let examples: Vec<String> = late
                .examples
                .iter()
                .map(|id| format!("`{}`", crate::diagnostic::printable(id)))
                .collect();
            s.push_str(&format!(
                "warning: history-after-as-of: {} accounts hold a contact or a done case event dated after --as-of {} (the latest {}; e.g. {}): their history is a later night's export than the extract's, and the run judged it as today's (docs/batch.md, \"Companions from the wrong night\")\n",
                late.accounts,
                self.as_of.map(|d| d.to_string()).unwrap_or_default(),
                late.latest.map(|d| d.to_string()).unwrap_or_default(),
                examples.join(", ")
            ));
        }
        if self.duplicate_account_ids > 0 {
            let examples: Vec<String> = self
                .duplicate_account_id_examples
                .iter()
                .map(|id| format!("`{id}`"))
                .collect();
            s.push_str(&format!(
                "warning: {} rows repeat the account id of an earlier row (e.g. {}); each got its own actions\n",
                self.duplicate_account_ids,
                examples.join(", ")
            ));
        }
        s
    }
}

/// What a list left unread (`--no-companion`) costs, per list the shipped
/// mapping has (docs/batch.md), and where docs/batch.md says so; any other
/// list, in general terms.
fn unread_list_cost(list: &str) -> (&'static str, &'static str) {
    const HISTORY: &str = "\"An extract without the case history\"";
    const MAPPING: &str = "\"The column mapping (CSV)\"";
    match list {
        "case.events" => ("every night books again what an earlier night booked and the case still holds (a callback, a promise's follow-up, a plan offer), and the events earlier nights booked are not put to the guard rails again", HISTORY),
        "contacts" => ("the contact limits count only the contacts this run proposes: a call can go out past Reg F's 7 in 7 days, or within 7 days of a conversation, unseen", HISTORY),
        "case.removed_sas" => ("a service agreement that left the case is removed again, and counts for severance and for the last SA out closing the case", HISTORY),
        "service_agreements" => ("no account has a service agreement: nothing is decided per SA (its exit, a severance nomination) and the rules that count or sum them see none", MAPPING),
        "promises" => ("no account has a promise to pay: none is kept, broken or followed up", MAPPING),
        "promises.payments" => ("no promise has a payment: a promise paid as agreed counts as broken once its day passes", MAPPING),
        "dispositions" => ("no account has a call outcome: no callback a customer asked for is booked", MAPPING),
        _ => ("the rules that read it saw none of its items", MAPPING),
    }
}

/// The warnings of a run that read some lists or columns from no file
/// (`--no-companion`, `--no-column`), without `warning: `: one per list,
/// saying what its absence costs, and one for the columns. The batch's
/// summary and `diff`'s report both give them.
pub fn not_read_warnings(
    lists: &[String],
    columns: &[String],
    fields_not_seen: Option<&super::FieldsNotSeen>,
) -> Vec<String> {
    let mut warnings: Vec<String> = lists
        .iter()
        .map(|list| {
            let (cost, section) = unread_list_cost(list);
            format!(
                "`{}` not read (--no-companion): empty for every account, so {cost} (docs/batch.md, {section})",
                crate::diagnostic::printable(list),
            )
        })
        .collect();
    if !columns.is_empty() {
        let columns: Vec<String> = columns
            .iter()
            .map(|c| format!("`{}`", crate::diagnostic::printable(c)))
            .collect();
        warnings.push(format!(
            "{} not read (--no-column): their fields are null for every account, so the rules that read them saw nothing there: a guard rail did not apply, or failed safe (docs/batch.md, \"The guard rails' columns\")",
            columns.join(", ")
        ));
    }
    if let Some(not_seen) = fields_not_seen {
        let (lists, columns): (Vec<_>, Vec<_>) =
            not_seen.fields.iter().partition(|f| f.file.is_some());
        if !columns.is_empty() {
            warnings.push(columns_not_seen_warning(not_seen.records, &columns));
        }
        for list in lists {
            let (cost, section) = unread_list_cost(&list.field);
            let key = list.field.rsplit('.').next().unwrap_or(&list.field);
            warnings.push(format!(
                "`{}` is in none of the first {} records, not even as `[]` (a CSV extract must have its companion file, `{}`, or the run stops): if the extract does not carry it, it is empty for every account, so {cost}; write a list an account does not have as `[]` (`\"{}\": []`) (docs/batch.md, {section})",
                crate::diagnostic::printable(&list.field),
                not_seen.records,
                crate::diagnostic::printable(list.file.as_deref().unwrap_or_default()),
                crate::diagnostic::printable(key),
            ));
        }
    }
    warnings
}

/// The warning of the fields of the extract's own columns no record looked at carried.
fn columns_not_seen_warning(records: usize, fields: &[&super::FieldNotSeen]) -> String {
    let shown = |f: &dyn Fn(&super::FieldNotSeen) -> &str| {
        (fields.iter())
            .map(|x| format!("`{}`", crate::diagnostic::printable(f(x))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let one = fields.len() == 1;
    format!(
        "{} {} in none of the first {} records, not even as null (a CSV extract must have {} column{}, {}, or the run stops): if the extract does not carry {}, {} null for every account and the rules that read {} saw nothing there: a guard rail did not apply, or failed safe; write a value an account does not have as null (`\"{}\": null`) (docs/batch.md, \"Input\")",
        shown(&|x| x.field.as_str()),
        if one { "is" } else { "are" },
        records,
        if one { "its" } else { "their" },
        if one { "" } else { "s" },
        shown(&|x| x.column.as_deref().unwrap_or_default()),
        if one { "it" } else { "them" },
        if one { "it is" } else { "they are" },
        if one { "it" } else { "them" },
        fields[0].field,
    )
}
