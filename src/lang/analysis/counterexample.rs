//! Counterexample accounts for `arrears lint --counterexamples DIR`: one YAML
//! account per finding that has input values, complete enough to decode
//! against the schema (every required field at a valid default), with the
//! fields its inputs read set to the finding's values, so `arrears dry-run`
//! runs it; and for a violated guard-rail invariant, the account lint ran
//! and the day it gets the forbidden action.
//! It writes only into the directory it is given and must not change a finding.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::{Counterexample, Finding, Proofs, Violation};
use crate::data::schema::{Schema, ACCOUNT};
use crate::lang::ir::{Program, TExpr, TExprKind, Table};
use crate::types::{RecordId, Type, Value};

/// The first line of every file written; only such files are ever replaced.
pub const MARKER: &str = "# arrears lint counterexample";

/// The date required date fields get.
const DEFAULT_DATE: &str = "2000-01-01";

/// The account fields an input reads when it is a plain path (`account.pay_plan.active`).
fn field_path(e: &TExpr) -> Option<Vec<u32>> {
    path_from(e, &TExprKind::Account)
}

/// The fields of the value `root` names (the account, a `for_each` item) that
/// `e` reads when it is a plain path from it.
fn path_from(e: &TExpr, root: &TExprKind) -> Option<Vec<u32>> {
    match &e.kind {
        TExprKind::Account if matches!(root, TExprKind::Account) => Some(Vec::new()),
        TExprKind::Local(l) if matches!(root, TExprKind::Local(r) if r == l) => Some(Vec::new()),
        TExprKind::Field(base, slot) => {
            let mut path = path_from(base, root)?;
            path.push(*slot);
            Some(path)
        }
        _ => None,
    }
}

/// Gives the enum fields of `value` (a record `record`) that the finding does
/// not set (`fixed` slots) the variants of the schema's first
/// `valid_combinations` entry the set ones allow, so that the record decodes.
fn valid_combination(schema: &Schema, record: RecordId, value: &mut Json, fixed: &[usize]) {
    let def = schema.record(record);
    let Json::Object(map) = value else { return };
    let variant_of = |slot: usize, map: &Map<String, Json>| -> Option<u32> {
        let field = def.fields.get(slot)?;
        let Type::Enum(id) = field.ty else {
            return None;
        };
        let name = map.get(&field.name)?.as_str()?;
        schema.variant(id, name)
    };
    let allowed = def.valid_combinations.iter().find(|c| {
        c.0.iter().all(|(slot, variants)| {
            !fixed.contains(slot) || variant_of(*slot, map).is_some_and(|v| variants.contains(&v))
        })
    });
    for (slot, variants) in allowed.map_or(&[][..], |c| &c.0[..]) {
        let (Some(field), Some(&first)) = (def.fields.get(*slot), variants.first()) else {
            continue;
        };
        let Type::Enum(id) = field.ty else { continue };
        if !fixed.contains(slot) && !variant_of(*slot, map).is_some_and(|v| variants.contains(&v)) {
            if let Some(name) = schema.enum_def(id).variants.get(first as usize) {
                map.insert(field.name.clone(), Json::String(name.clone()));
            }
        }
    }
}

/// `account.a.b` for the field path `path` of the account.
fn path_name(schema: &Schema, path: &[u32]) -> String {
    let mut name = String::from("account");
    let mut record = ACCOUNT;
    for &slot in path {
        let Some(field) = schema.record(record).fields.get(slot as usize) else {
            break;
        };
        name.push('.');
        name.push_str(&field.name);
        if let Type::Record(inner) = field.ty {
            record = inner;
        }
    }
    name
}

/// A `for_each` table's list when it is an account field holding records:
/// its path and the items' record.
fn item_list(table: &Table) -> Option<(Vec<u32>, RecordId)> {
    let each = table.for_each.as_ref()?;
    let path = field_path(&each.list).filter(|p| !p.is_empty())?;
    match &each.list.ty {
        Type::List(item) => match **item {
            Type::Record(id) => Some((path, id)),
            _ => None,
        },
        _ => None,
    }
}

fn default_value(schema: &Schema, ty: &Type, optional: bool) -> Json {
    if optional {
        return Json::Null;
    }
    match ty {
        Type::Text => Json::String(String::new()),
        Type::Integer | Type::Days => Json::from(0),
        Type::Decimal => Json::from("0"),
        Type::Money => Json::from("0.00"),
        Type::Bool => Json::Bool(false),
        Type::Date => Json::from(DEFAULT_DATE),
        Type::Enum(id) => schema
            .enum_def(*id)
            .variants
            .first()
            .map_or(Json::Null, |v| Json::String(v.clone())),
        Type::List(_) => Json::Array(Vec::new()),
        Type::Record(id) => record_default(schema, *id),
        Type::Null | Type::Error => Json::Null,
    }
}

fn record_default(schema: &Schema, id: RecordId) -> Json {
    let fields = &schema.record(id).fields;
    Json::Object(
        fields
            .iter()
            .map(|f| (f.name.clone(), default_value(schema, &f.ty, f.optional)))
            .collect(),
    )
}

/// A value as the account JSON holds it.
pub(super) fn json_of(schema: &Schema, ty: &Type, v: &Value) -> Json {
    match (v, ty) {
        (Value::Null, _) => Json::Null,
        (Value::Bool(b), _) => Json::Bool(*b),
        (Value::Int(n), _) => Json::from(*n),
        (Value::Dec(d), _) => Json::String(d.to_string()),
        (Value::Date(d), _) => Json::String(d.to_string()),
        (Value::Text(t), _) => Json::String(t.to_string()),
        (Value::Enum(i), Type::Enum(id)) => schema
            .enum_def(*id)
            .variants
            .get(*i as usize)
            .map_or(Json::Null, |v| Json::String(v.clone())),
        _ => Json::Null,
    }
}

/// Sets the field at `path` of the account, creating records a missing optional one needs.
fn set_path(schema: &Schema, account: &mut Json, path: &[u32], value: Json) {
    set_path_in(schema, ACCOUNT, account, path, value);
}

/// [`set_path`] in a value of record `record`.
fn set_path_in(schema: &Schema, record: RecordId, node: &mut Json, path: &[u32], value: Json) {
    let mut record = record;
    let mut node = node;
    for (k, &slot) in path.iter().enumerate() {
        let Some(field) = schema.record(record).fields.get(slot as usize) else {
            return;
        };
        let Json::Object(map) = node else { return };
        if k + 1 == path.len() {
            map.insert(field.name.clone(), value);
            return;
        }
        let Type::Record(inner) = field.ty else {
            return;
        };
        let child = map.entry(field.name.clone()).or_insert(Json::Null);
        if child.is_null() {
            *child = record_default(schema, inner);
        }
        record = inner;
        node = child;
    }
}

fn scalar(j: &Json) -> String {
    match j {
        Json::String(s) => format!("'{}'", s.replace('\'', "''")),
        Json::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn emit(map: &Map<String, Json>, indent: usize, out: &mut String) {
    for (k, v) in map {
        out.push_str(&" ".repeat(indent));
        match v {
            Json::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{k}:\n"));
                emit(inner, indent + 2, out);
            }
            _ => out.push_str(&format!("{k}: {}\n", scalar(v))),
        }
    }
}

/// A comment line per line of `text`.
fn comment(text: &str) -> String {
    text.lines().map(|l| format!("# {l}\n")).collect()
}

/// A name as a file name's part: letters, digits, `-` and `_`, anything else `_`.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file name of a finding's account: `<table>--<row>--<code>.yaml`, `gap-N` for a gap.
pub fn file_name(program: &Program, cx: &Counterexample, gap: usize) -> String {
    let table = &program.tables[cx.table as usize].name;
    let row = cx.row.clone().unwrap_or_else(|| format!("gap-{gap}"));
    format!("{}--{}--{}.yaml", clean(table), clean(&row), cx.code)
}

/// The account of a violated invariant (`<pack>--<action>--invariant-violated.yaml`)
/// as lint built and ran it, with the day it gets the forbidden action.
fn violation_yaml(violation: &Violation, finding: &str, run: &str) -> String {
    let mut out = format!(
        "{MARKER}: `invariant-violated` in guard-rail pack `{}`\n",
        violation.pack
    );
    out.push_str(&comment(finding));
    out.push_str(&format!("#\n# Run it: {run}\n"));
    out.push_str(&format!(
        "# On {} this account gets `{}` while the invariant's condition holds: it is a rules test's\n# account with the fields the guard rail's open region reads set to its values.\n",
        violation.as_of, violation.action
    ));
    if let Some(event) = &violation.pending {
        out.push_str(&format!(
            "# The `{}` is the case's pending event `{event}`: dry-run shows no action for it, since no guard\n# rail withholds, cancels or postpones it, and the case system carries it out that day.\n",
            violation.action
        ));
    }
    if let Json::Object(map) = &violation.account {
        let mut body = String::new();
        emit(map, 2, &mut body);
        out.push_str("- ");
        out.push_str(body.get(2..).unwrap_or_default());
    }
    out
}

/// The YAML account (a list of one) showing a finding, with comments on what was set.
pub fn account_yaml(
    program: &Program,
    cx: &Counterexample,
    finding: &str,
    id: &str,
    run: &str,
) -> String {
    let schema = &program.schema;
    let table = &program.tables[cx.table as usize];
    let mut account = record_default(schema, ACCOUNT);
    if let Some(field) = schema.account().fields.get(schema.id_slot) {
        set_path(
            schema,
            &mut account,
            &[schema.id_slot as u32],
            match field.ty {
                Type::Integer => Json::from(0),
                _ => Json::String(id.to_string()),
            },
        );
    }
    // A per-item table decides nothing for an account without items: the
    // account gets one, the item the finding is about, holding its inputs.
    let item_local = TExprKind::Local(table.params.len() as u32);
    let mut item =
        item_list(table).map(|(path, record)| (path, record, record_default(schema, record)));
    let mut set = Vec::new();
    let mut unset = Vec::new();
    let mut fixed = Vec::new();
    for (c, value) in &cx.inputs {
        let input = &table.inputs[*c];
        let shown = crate::types::ShowValue(value, &input.expr.ty, schema.as_ref()).to_string();
        let json = json_of(schema, &input.expr.ty, value);
        let in_item = item
            .as_mut()
            .zip(path_from(&input.expr, &item_local).filter(|p| !p.is_empty()));
        match (in_item, field_path(&input.expr).filter(|p| !p.is_empty())) {
            (Some(((_, record, item), path)), _) => {
                fixed.push(path[0] as usize);
                set_path_in(schema, *record, item, &path, json);
                set.push(format!("{} = {shown}   ({})", input.name, input.text));
            }
            (None, Some(path)) => {
                set_path(schema, &mut account, &path, json);
                set.push(format!("{} = {shown}   ({})", input.name, input.text));
            }
            (None, None) => unset.push(format!("{} = {shown}   ({})", input.name, input.text)),
        }
    }
    let mut out = format!("{MARKER}: `{}` in table `{}`\n", cx.code, table.name);
    out.push_str(&comment(finding));
    out.push_str(&format!("#\n# Run it: {run}\n"));
    if let (Some((path, record, mut value)), Some(each)) = (item, &table.for_each) {
        valid_combination(schema, record, &mut value, &fixed);
        let list = path_name(schema, &path);
        set_path(schema, &mut account, &path, Json::Array(vec![value]));
        out.push_str(&format!(
            "# The table runs once per item of `{list}`: the account has one, `{}` (its decision is `{}[0]`), the item the finding is about.\n",
            each.binder, table.name
        ));
    }
    if !set.is_empty() {
        out.push_str("# Inputs set from the finding:\n");
        set.iter().for_each(|s| out.push_str(&format!("#   {s}\n")));
    }
    if !unset.is_empty() {
        out.push_str("# Inputs NOT set: they are computed, and lint does not invert them; set the fields\n# they read by hand so that they take these values:\n");
        unset
            .iter()
            .for_each(|s| out.push_str(&format!("#   {s}\n")));
    }
    out.push_str(&format!(
        "# Every other field holds a default: 0, 0.00, false, empty text, the first enum variant,\n# {DEFAULT_DATE}, empty lists, null when optional.\n"
    ));
    if let Json::Object(map) = &account {
        let mut body = String::new();
        emit(map, 2, &mut body);
        out.push_str("- ");
        out.push_str(body.get(2..).unwrap_or_default());
    }
    out
}

/// `name`, or `name-2.yaml`, `name-3.yaml`… when a file of `files` has it.
fn unique_name(files: &[(PathBuf, String)], name: String) -> String {
    let mut unique = name.clone();
    let mut n = 1;
    while files.iter().any(|(p, _)| p.ends_with(&unique)) {
        n += 1;
        unique = format!("{}-{n}.yaml", name.trim_end_matches(".yaml"));
    }
    unique
}

/// Writes one account per finding with input values, and one per violated
/// invariant, into `dir` (created if missing), each saying how to dry-run it
/// against `rules`. A file of the same name is replaced only when an earlier run
/// wrote it; otherwise nothing is written. Returns the files written.
pub fn write_all(
    dir: &Path,
    rules: &Path,
    program: &Program,
    findings: &[Finding],
    proofs: &Proofs,
) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut gap = 0;
    for f in findings {
        let Some(cx) = &f.counterexample else {
            continue;
        };
        if cx.row.is_none() {
            gap += 1;
        }
        let name = unique_name(&files, file_name(program, cx, gap));
        let id = format!("cx-{}", name.trim_end_matches(".yaml"));
        let message = format!("{}: {}", f.diagnostic.location(), f.diagnostic.message);
        let path = dir.join(&name);
        // An error (a gap, an overlap) makes dry-run refuse the rules unless told.
        let allow = if f.diagnostic.severity == crate::diagnostic::Severity::Error {
            " --allow-analysis-errors"
        } else {
            ""
        };
        let run = format!(
            "arrears dry-run{allow} --rules {} --as-of <date> {}",
            rules.display(),
            path.display()
        );
        files.push((path, account_yaml(program, cx, &message, &id, &run)));
    }
    for violation in &proofs.violations {
        let Some(d) = proofs.diagnostics.get(violation.diagnostic) else {
            continue;
        };
        let name = unique_name(
            &files,
            format!(
                "{}--{}--invariant-violated.yaml",
                clean(&violation.pack),
                clean(&violation.action)
            ),
        );
        let path = dir.join(&name);
        // The violation is an error of the analysis: dry-run refuses the rules unless told.
        let run = format!(
            "arrears dry-run --allow-analysis-errors --rules {} --as-of {} {}",
            rules.display(),
            violation.as_of,
            path.display()
        );
        let message = format!("{}: {}", d.location(), d.message);
        files.push((path, violation_yaml(violation, &message, &run)));
    }
    for (path, _) in &files {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.starts_with(MARKER) {
                return Err(format!(
                    "`{}` exists and was not written by `arrears lint --counterexamples`; not replacing it (nothing written)",
                    path.display()
                ));
            }
        } else if path.exists() {
            return Err(format!(
                "`{}` exists and is not a counterexample file; not replacing it (nothing written)",
                path.display()
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    for (path, text) in &files {
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}
