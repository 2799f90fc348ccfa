//! One part of a chunk, one rayon task: each row decoded (JSON Lines, or CSV
//! through the mapping), run through the policy, and its actions written as
//! JSON Lines or CSV, or its reject line. It must not touch files or shared
//! state: the writer thread puts the parts' bytes in order.

use std::io::Write;

use serde::Serialize;

use super::duplicates::Ids;
use super::history_dates::HistorySlots;
use super::mapping::trim_cell;
use super::summary::Summary;
use super::{Evaluate, OutputFormat, Raw, Settings, Unit};
use crate::data::schema::Schema;
use crate::data::snapshot::{account_id, decode_account};
use crate::eval::{Decision, Outcome, Tables};
use crate::lang::compile::Plan;
use crate::policy::action::FlagValues;
use crate::policy::{Action, ActionKind};
use crate::types::{Type, TypeNames, Value};

/// One reject line.
#[derive(Serialize)]
struct Reject<'a> {
    line: u64,
    account: Option<&'a str>,
    field: Option<&'a str>,
    reason: &'a str,
}

/// What one rayon task produced: output bytes, reject lines, counts.
pub(super) struct Part {
    pub(super) out: Vec<u8>,
    pub(super) rejects: Vec<u8>,
    pub(super) summary: Summary,
    /// The account ids of the evaluated rows, in order, and of the rejected rows.
    pub(super) ids: Ids,
}

/// Output buffers the writer has emptied, for the next parts: a buffer freed
/// on the writer thread and allocated anew on a worker came back as fresh
/// pages the kernel had to zero (a few percent of a batch).
#[derive(Default)]
pub(super) struct Buffers(std::sync::Mutex<Vec<Vec<u8>>>);

/// Buffers kept for reuse: more than the parts in flight at once.
const KEPT_BUFFERS: usize = 64;

impl Buffers {
    fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.0.lock().ok().and_then(|mut kept| kept.pop());
        reused.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// Keeps `buffer`, emptied, for a later part.
    pub(super) fn put(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() < KEPT_BUFFERS {
                kept.push(buffer);
            }
        }
    }
}

pub(super) fn process(settings: &Settings, units: &[Unit], buffers: &Buffers) -> Part {
    let mut part = Part {
        out: buffers.take(units.len() * 256),
        rejects: Vec::new(),
        summary: Summary::default(),
        ids: Ids::default(),
    };
    let schema = settings.evaluate.plan().schema();
    let history = HistorySlots::of(schema);
    let mut scratch = Vec::with_capacity(512);
    // One account's actions at a time, in one buffer.
    let mut actions = Vec::new();
    for unit in units {
        let noted =
            |json: &serde_json::Value| part.summary.note_unknown_fields(schema, json, unit.line);
        let account = match decode_unit_noting(schema, settings.mapping, unit, noted) {
            Ok(decoded) => decoded,
            Err(bad) => {
                reject(
                    &mut part,
                    unit.line,
                    bad.id.as_deref(),
                    bad.field.as_deref(),
                    &bad.reason,
                );
                continue;
            }
        };
        let (id, account) = (account.id, account.value);
        if let Some(latest) = history.latest_after(&account, settings.as_of) {
            part.summary.note_history_after(&id, latest);
        }
        let policy = match settings.evaluate {
            Evaluate::Policy(policy) => policy,
            Evaluate::Decisions(plan) => {
                let mut tables = Tables::new(plan, &account, settings.as_of, false);
                match tables.require_all() {
                    Err(e) => reject(
                        &mut part,
                        unit.line,
                        Some(&id),
                        None,
                        &format!("evaluation failed: {e}"),
                    ),
                    Ok(()) => {
                        part.summary.evaluated += 1;
                        part.ids.push(&id);
                        write_decisions(
                            &mut part.out,
                            plan,
                            &id,
                            unit.line,
                            &tables.evaluation.decisions,
                        );
                    }
                }
                continue;
            }
        };
        let run = if settings.all_tables {
            crate::policy::run(policy, &account, settings.as_of, false)
        } else {
            let buffer = std::mem::take(&mut actions);
            crate::policy::run_needed_into(policy, &account, settings.as_of, buffer)
        };
        match run {
            Err(e) => {
                reject(
                    &mut part,
                    unit.line,
                    Some(&id),
                    e.field(),
                    &format!("evaluation failed: {e}"),
                );
            }
            Ok(run) => {
                part.summary.evaluated += 1;
                part.ids.push(&id);
                part.summary.tally(&run.actions);
                write_actions(
                    &mut part.out,
                    &mut scratch,
                    settings.output,
                    &id,
                    Some(unit.line),
                    &run.actions,
                );
                actions = run.actions;
            }
        }
    }
    part
}

/// One row's decisions: `{"account":…,"row":…,"decisions":{TABLE:…}}`, a
/// table's entry the object of its outputs (a row's, the default's, or the
/// aggregate), an array of them under `collect` / `rule_order`, and for a
/// per-item table an array of `{"item":…,"outputs":…}`. Tables in evaluation
/// order; tables that take params (called by the pipeline) are not evaluated.
/// Written straight into `out`, byte for byte what serialising
/// [`Plan::outputs_json`] objects gives (`tests/it/batch_decisions.rs`
/// compares the two), without building them.
pub fn write_decisions(
    out: &mut Vec<u8>,
    plan: &Plan,
    id: &str,
    line: u64,
    decisions: &[Decision],
) {
    let outputs = |out: &mut Vec<u8>, d: &Decision| match &d.outcome {
        Outcome::Rows(rows) => {
            out.push(b'[');
            for (i, (r, values)) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_outputs(out, plan, d.table, plan.row_values(d.table, *r, values));
            }
            out.push(b']');
        }
        _ => write_outputs(out, plan, d.table, plan.result(d)),
    };
    out.extend_from_slice(b"{\"account\":");
    write_json_str(out, id);
    out.extend_from_slice(b",\"row\":");
    write_u64(out, line);
    out.extend_from_slice(b",\"decisions\":{");
    let mut first = true;
    for &t in &plan.order {
        let table = &plan.tables[t as usize];
        if !table.table.params.is_empty() {
            continue;
        }
        let mut made = decisions.iter().filter(|d| d.table == t).peekable();
        if table.table.for_each.is_none() && made.peek().is_none() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_json_str(out, &table.name);
        out.push(b':');
        match &table.table.for_each {
            None => outputs(out, made.next().expect("peeked")),
            Some(_) => {
                out.push(b'[');
                for (i, d) in made.enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"item\":");
                    match &d.label {
                        Some(label) => write_json_str(out, label),
                        None => out.extend_from_slice(b"null"),
                    }
                    out.extend_from_slice(b",\"outputs\":");
                    outputs(out, d);
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
    }
    out.extend_from_slice(b"}}\n");
}

/// Table `t`'s result values as a JSON object keyed by output name, as
/// [`Plan::outputs_json`] makes it.
fn write_outputs(out: &mut Vec<u8>, plan: &Plan, t: u32, values: &[Value]) {
    out.push(b'{');
    let results = &plan.tables[t as usize].results;
    for (i, ((name, ty), v)) in results.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_str(out, name);
        out.push(b':');
        write_value(out, v, ty, plan.schema());
    }
    out.push(b'}');
}

/// One value as [`crate::types::value_to_json`] would give it, serialised;
/// the scalars written directly, lists and records through it.
fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type, schema: &Schema) {
    match (v, ty) {
        (Value::Null, _) => out.extend_from_slice(b"null"),
        (Value::Bool(true), _) => out.extend_from_slice(b"true"),
        (Value::Bool(false), _) => out.extend_from_slice(b"false"),
        (Value::Int(n), _) => {
            let _ = write!(out, "{n}");
        }
        (Value::Dec(d), Type::Money) => write_json_str(out, &crate::types::format_money(*d)),
        // Digits, sign and point, or a date: nothing to escape.
        (Value::Dec(d), _) => {
            let _ = write!(out, "\"{d}\"");
        }
        (Value::Date(d), _) => {
            let _ = write!(out, "\"{d}\"");
        }
        (Value::Text(t), _) => write_json_str(out, t),
        (Value::Enum(v), Type::Enum(e)) => write_json_str(out, schema.variant_name(*e, *v)),
        (Value::Enum(v), _) => write_u64(out, u64::from(*v)),
        (Value::List(_) | Value::Record(_), _) => {
            let _ = serde_json::to_writer(&mut *out, &crate::types::value_to_json(v, ty, schema));
        }
    }
}

/// A JSON string, escaped as serde_json escapes it.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes only control characters, `"` and `\`: text without
    // them (names, ids, most values) is copied as it is.
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Whether `s` holds a byte serde_json escapes (below 0x20, `"`, `\`),
/// eight bytes at a time: a batch checks a dozen strings per account.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set where a byte of `v` is below `n` (n <= 128); whether any
    // is set is exact, whatever the other bytes.
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v;
    let hit = |v: u64| {
        (below(v, 0x20) | below(v ^ (ONES * 0x22), 1) | below(v ^ (ONES * 0x5c), 1)) & HIGH != 0
    };
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("eight bytes"));
    if s.len() < 8 {
        // Padded with spaces, which need no escape.
        let mut padded = [b' '; 8];
        padded[..s.len()].copy_from_slice(s);
        return hit(word(&padded));
    }
    // Whole words, then the last eight bytes (overlapping): no byte-by-byte tail.
    s.chunks_exact(8).any(|w| hit(word(w))) || hit(word(&s[s.len() - 8..]))
}

/// A non-negative integer in decimal, without `fmt`.
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A row decoded by the schema, with its account id (empty when it has none).
pub struct Decoded {
    pub id: String,
    pub value: crate::types::Value,
}

/// Why a row could not be decoded: its reject line's account, field and reason.
pub struct Undecodable {
    pub id: Option<String>,
    pub field: Option<String>,
    pub reason: String,
}

/// Decodes one row as read: a JSON record, or a CSV record through `mapping`
/// (which CSV input always has).
pub fn decode_unit(
    schema: &crate::data::schema::Schema,
    mapping: Option<&super::Mapping>,
    unit: &Unit,
) -> Result<Decoded, Undecodable> {
    decode_unit_noting(schema, mapping, unit, |_| {})
}

/// [`decode_unit`], showing `note` a JSON Lines record once it is read as
/// JSON (decoded or not): the batch counts the fields the schema does not have.
fn decode_unit_noting(
    schema: &crate::data::schema::Schema,
    mapping: Option<&super::Mapping>,
    unit: &Unit,
    mut note: impl FnMut(&serde_json::Value),
) -> Result<Decoded, Undecodable> {
    let json_account =
        |json: &serde_json::Value| (account_id(schema, json), decode_account(schema, json));
    let (id, decoded) = match &unit.raw {
        Raw::Bad { id, field, reason } => {
            return Err(Undecodable {
                id: id.clone(),
                field: field.clone(),
                reason: reason.clone(),
            })
        }
        Raw::Cut(text) => {
            let key = &schema.account().fields[schema.id_slot].name;
            return Err(Undecodable {
                id: super::jsonl_source::id_before_cut(text, key),
                field: None,
                reason: super::jsonl_source::CUT_LINE.into(),
            });
        }
        Raw::Json(text) => match json_record(text, unit.line) {
            Err(e) => {
                return Err(Undecodable {
                    id: None,
                    field: None,
                    reason: format!("not a JSON object: {e}"),
                })
            }
            Ok(json) => {
                note(&json);
                json_account(&json)
            }
        },
        Raw::Value(json) => json_account(json),
        Raw::Csv { record, lists } => {
            let mapping = mapping.expect("CSV input has a mapping");
            let id = record.get(mapping.id_col).map(|s| trim_cell(s).to_string());
            (id, mapping.decode(schema, record, lists))
        }
    };
    match decoded {
        Ok(value) => Ok(Decoded {
            id: id.unwrap_or_default(),
            value,
        }),
        Err(errors) => Err(Undecodable {
            id,
            field: errors.first().map(|e| e.field.clone()),
            reason: errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// One JSON Lines record. A byte-order mark at the start of the file (CSV and
/// YAML readers skip theirs) is not part of the first record.
fn json_record(text: &str, line: u64) -> serde_json::Result<serde_json::Value> {
    let text = match line {
        1 => text.strip_prefix('\u{feff}').unwrap_or(text),
        _ => text,
    };
    serde_json::from_str(text)
}

fn reject(part: &mut Part, line: u64, id: Option<&str>, field: Option<&str>, reason: &str) {
    part.summary.rejected += 1;
    part.ids.push_rejected(id);
    write_reject(&mut part.rejects, line, id, field, reason);
}

/// One reject line (JSON Lines: line, account, field, reason).
pub fn write_reject(
    out: &mut Vec<u8>,
    line: u64,
    id: Option<&str>,
    field: Option<&str>,
    reason: &str,
) {
    let r = Reject {
        line,
        account: id.filter(|s| !s.is_empty()),
        field,
        reason,
    };
    let _ = serde_json::to_writer(&mut *out, &r);
    out.push(b'\n');
}

/// An action's members, `"type"` first, as its `Serialize` (the reference)
/// writes them: the kinds a batch writes most straight into `out`, a constant
/// flag as the members the policy rendered once, the rest through sonic-rs
/// (which writes serde_json's JSON, escaping with SIMD). The tests below hold
/// every kind to the reference.
fn write_kind(out: &mut Vec<u8>, scratch: &mut Vec<u8>, kind: &ActionKind) {
    let text = |out: &mut Vec<u8>, key: &[u8], s: &str| {
        out.extend_from_slice(key);
        write_json_str(out, s);
    };
    let or_null = |out: &mut Vec<u8>, key: &[u8], s: Option<&str>| match s {
        Some(s) => text(out, key, s),
        None => {
            out.extend_from_slice(key);
            out.extend_from_slice(b"null");
        }
    };
    match kind {
        ActionKind::Flag {
            values: FlagValues::Constant(flag),
            ..
        } => out.extend_from_slice(flag.kind_json().as_bytes()),
        ActionKind::OpenCase { category, reason } => {
            text(out, b"\"type\":\"open_case\",\"category\":", category);
            or_null(out, b",\"reason\":", reason.as_deref());
        }
        ActionKind::RetreatCase { category, reason } => {
            text(out, b"\"type\":\"retreat_case\",\"category\":", category);
            or_null(out, b",\"reason\":", reason.as_deref());
        }
        ActionKind::CloseCase { reason } => {
            or_null(
                out,
                b"\"type\":\"close_case\",\"reason\":",
                reason.as_deref(),
            );
        }
        ActionKind::CancelPendingEvents => {
            out.extend_from_slice(b"\"type\":\"cancel_pending_events\"");
        }
        ActionKind::AssignClass { class, template } => {
            or_null(
                out,
                b"\"type\":\"assign_class\",\"class\":",
                class.as_deref(),
            );
            text(out, b",\"template\":", template);
        }
        ActionKind::AssignArm {
            experiment,
            arm,
            template,
            holdout,
        } => {
            text(out, b"\"type\":\"assign_arm\",\"experiment\":", experiment);
            text(out, b",\"arm\":", arm);
            or_null(out, b",\"template\":", template.as_deref());
            out.extend_from_slice(match holdout {
                true => b",\"holdout\":true",
                false => b",\"holdout\":false",
            });
        }
        _ => {
            // `{…}`: its members spliced in.
            scratch.clear();
            sonic_rs::to_writer(&mut *scratch, kind).expect("action serialises");
            out.extend_from_slice(&scratch[1..scratch.len() - 1]);
        }
    }
}

/// One row's action lines, one per action; `line` is the row's, `None`
/// (`null`, an empty CSV cell) for actions no row caused (`--open-cases`). In
/// JSON Lines the lines' common start, `{"account":…,"row":…,`, is written
/// once and copied.
pub fn write_actions(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    format: OutputFormat,
    id: &str,
    line: Option<u64>,
    actions: &[Action],
) {
    let mut start: Option<std::ops::Range<usize>> = None;
    for action in actions {
        match format {
            OutputFormat::Jsonl => {
                match &start {
                    Some(range) => out.extend_from_within(range.clone()),
                    None => {
                        let at = out.len();
                        out.extend_from_slice(b"{\"account\":");
                        write_json_str(out, id);
                        match line {
                            Some(line) => {
                                out.extend_from_slice(b",\"row\":");
                                write_u64(out, line);
                                out.push(b',');
                            }
                            None => out.extend_from_slice(b",\"row\":null,"),
                        }
                        start = Some(at..out.len());
                    }
                }
                write_jsonl_action(out, scratch, action);
            }
            OutputFormat::Csv => write_csv_action(out, id, line, action),
        }
    }
}

/// An action's JSON Lines members after the account and row, and the line's end.
fn write_jsonl_action(out: &mut Vec<u8>, scratch: &mut Vec<u8>, action: &Action) {
    if let ActionKind::Flag {
        values: FlagValues::Constant(flag),
        ..
    } = &action.kind
    {
        if matches!(&action.rules[..], [rule] if **rule == *flag.rule) {
            // The whole action, its rules too, as the policy rendered it.
            out.extend_from_slice(flag.json.as_bytes());
            out.extend_from_slice(b"}\n");
            return;
        }
    }
    write_kind(out, scratch, &action.kind);
    out.extend_from_slice(b",\"rules\":[");
    for (i, rule) in action.rules.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_str(out, rule);
    }
    out.extend_from_slice(b"]}\n");
}

fn write_csv_action(out: &mut Vec<u8>, id: &str, line: Option<u64>, action: &Action) {
    let mut fields = serde_json::to_value(&action.kind).expect("action serialises");
    if let Some(map) = fields.as_object_mut() {
        // `shift_remove` keeps the other fields in their order.
        map.shift_remove("type");
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *out);
    let _ = w.write_record([
        id,
        &line.map(|l| l.to_string()).unwrap_or_default(),
        action.kind.name(),
        &action.rules.join(";"),
        &fields.to_string(),
    ]);
    let _ = w.flush();
}

#[cfg(test)]
mod json_text_tests {
    use proptest::prelude::*;

    use super::{write_actions, OutputFormat};
    use crate::policy::action::samples;
    use crate::policy::Action;

    /// An action line as the reference writes it: serde_json serialising the
    /// account, the row and the `Action` (its kind and rules).
    fn reference(id: &str, line: Option<u64>, action: &Action) -> String {
        #[derive(serde::Serialize)]
        struct Line<'a, 'p> {
            account: &'a str,
            row: Option<u64>,
            #[serde(flatten)]
            action: &'a Action<'p>,
        }
        let line = Line {
            account: id,
            row: line,
            action,
        };
        serde_json::to_string(&line).expect("serialises") + "\n"
    }

    fn written(id: &str, line: Option<u64>, action: &Action) -> String {
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        write_actions(
            &mut out,
            &mut scratch,
            OutputFormat::Jsonl,
            id,
            line,
            std::slice::from_ref(action),
        );
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every kind, its optional fields present and absent, with plain and
    /// hostile text, is written byte for byte as its `Serialize` writes it.
    #[test]
    fn every_action_is_written_as_serialize_writes_it() {
        for text in ["x", "", samples::TRICKY] {
            for kind in samples::variants(text) {
                // A sample flag's own rule is `text`: alone, its rules are the rendered ones.
                for rules in [vec![], vec![text], vec![text, "t:r"], vec!["t:r"]] {
                    let action = Action {
                        kind: kind.clone(),
                        rules: rules.into_iter().map(Into::into).collect(),
                    };
                    for line in [Some(7), None] {
                        assert_eq!(
                            written(text, line, &action),
                            reference(text, line, &action),
                            "{}",
                            kind.name()
                        );
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any text, control characters, quotes, backslashes and non-ASCII alike, is written as serde_json writes it.
        #[test]
        fn text_is_written_as_serde_json_writes_it(s in "(?s).{0,24}|[ -~\u{0}-\u{1f}\"\\\\é€😀]{0,24}") {
            let mut out = Vec::new();
            super::write_json_str(&mut out, &s);
            prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
        }

        /// Any bytes: the word-at-a-time check finds what a byte-at-a-time one finds.
        #[test]
        fn escapes_are_found_a_word_at_a_time(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let naive = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            prop_assert_eq!(super::needs_escape(&bytes), naive);
        }

        /// Any text in any action of any kind: the direct writer is the reference.
        #[test]
        fn any_text_in_any_action_is_written_as_serialize_writes_it(
            s in "(?s).{0,12}|[ -~\u{0}-\u{1f}\"\\\\é€😀]{0,12}",
            line in proptest::option::of(any::<u64>()),
        ) {
            let actions: Vec<Action> = samples::variants(&s)
                .into_iter()
                .map(|kind| Action { kind, rules: smallvec::smallvec![s.clone().into()] })
                .collect();
            for action in &actions {
                prop_assert_eq!(written(&s, line, action), reference(&s, line, action));
            }
            // A row's actions together: their common start written once, then copied.
            let (mut out, mut scratch) = (Vec::new(), Vec::new());
            write_actions(&mut out, &mut scratch, OutputFormat::Jsonl, &s, line, &actions);
            let each: String = actions.iter().map(|a| reference(&s, line, a)).collect();
            prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), each);
        }
    }
}
