//! References: the schema fields no rule (and no policy slot) reads, and the
//! tables the policy gives no role that no other table refers to; and what a
//! policy uses (`PolicyUse::of`). It looks at names only and must not reason
//! about which inputs a row matches.

use std::collections::{HashMap, HashSet};

use super::{Context, PolicyUse};
use crate::data::batch::mapping::Unmapped;
use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{Program, TExpr, TExprKind, TTest, Table};
use crate::model::doc::{FieldTypeDoc, SchemaDoc};
use crate::source::Span;
use crate::types::{RecordId, Type};

pub(super) fn walk(e: &TExpr, f: &mut dyn FnMut(&TExpr)) {
    f(e);
    match &e.kind {
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => walk(b, f),
        TExprKind::Binary(_, l, r) => {
            walk(l, f);
            walk(r, f);
        }
        TExprKind::Call(_, args) => args.iter().for_each(|a| walk(a, f)),
        TExprKind::Each(each) => {
            walk(&each.list, f);
            if let Some(x) = &each.filter {
                walk(x, f);
            }
            if let Some(x) = &each.body {
                walk(x, f);
            }
        }
        _ => {}
    }
}

/// The record field `e` reads itself (not through its operands), if any.
fn field_read(e: &TExpr) -> Option<(RecordId, usize)> {
    match &e.kind {
        TExprKind::Field(b, slot) => match &b.ty {
            Type::Record(id) => Some((*id, *slot as usize)),
            _ => None,
        },
        TExprKind::Project(b, slot) => match &b.ty {
            Type::List(inner) => match inner.as_ref() {
                Type::Record(id) => Some((*id, *slot as usize)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Every expression of a table: inputs, cells, outputs, default, `for_each` list.
fn table_exprs(table: &Table) -> Vec<&TExpr> {
    let mut v: Vec<&TExpr> = table.inputs.iter().map(|i| &i.expr).collect();
    for row in &table.rows {
        for cell in &row.cells {
            for t in &cell.tests {
                match t {
                    TTest::Compare(_, e) => v.push(e),
                    TTest::Range { low, high, .. } => {
                        v.push(low);
                        v.push(high);
                    }
                }
            }
        }
        v.extend(&row.outputs);
    }
    if let Some(d) = &table.default {
        v.extend(d);
    }
    if let Some(fe) = &table.for_each {
        v.push(&fe.list);
    }
    v
}

/// A field as declared: its record and slot, the path shown, where its type is written, its parent.
struct DeclaredField {
    record: RecordId,
    slot: usize,
    path: String,
    span: Span,
    parent: Option<(RecordId, usize)>,
}

fn declared_fields(schema: &Schema, doc: &SchemaDoc) -> Vec<DeclaredField> {
    struct W<'a> {
        schema: &'a Schema,
        next: RecordId,
        out: Vec<DeclaredField>,
    }
    impl W<'_> {
        fn record(
            &mut self,
            id: RecordId,
            fields: &indexmap::IndexMap<String, crate::model::spanned::Spanned<FieldTypeDoc>>,
            path: &str,
            parent: Option<(RecordId, usize)>,
        ) {
            for (slot, (name, ty)) in fields.iter().enumerate() {
                let name = name.strip_suffix('?').unwrap_or(name);
                let path = format!("{path}.{name}");
                if self
                    .schema
                    .records
                    .get(id as usize)
                    .and_then(|r| r.fields.get(slot))
                    .map(|f| f.name.as_str())
                    == Some(name)
                {
                    self.out.push(DeclaredField {
                        record: id,
                        slot,
                        path: path.clone(),
                        span: ty.span,
                        parent,
                    });
                }
                self.ty(&ty.value, &path, Some((id, slot)));
            }
        }
        fn ty(&mut self, ty: &FieldTypeDoc, path: &str, parent: Option<(RecordId, usize)>) {
            match ty {
                FieldTypeDoc::Named(_) => {}
                FieldTypeDoc::Record(fields) => {
                    let id = self.next;
                    self.next += 1;
                    self.record(id, fields, path, parent);
                }
                FieldTypeDoc::List(items) => {
                    if let [item] = items.as_slice() {
                        self.ty(&item.value, path, parent);
                    }
                }
            }
        }
    }
    let mut w = W {
        schema,
        next: 1,
        out: Vec::new(),
    };
    if let FieldTypeDoc::Record(fields) = &doc.fields.value {
        w.record(crate::data::schema::ACCOUNT, fields, "account", None);
    }
    w.out
}

pub(super) fn unused(program: &Program, ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut fields: HashSet<(RecordId, usize)> = HashSet::new();
    let mut referred: HashMap<u32, ()> = HashMap::new();
    for (t, table) in program.tables.iter().enumerate() {
        for e in table_exprs(table) {
            walk(e, &mut |x| match &x.kind {
                TExprKind::TableOutput { table: other, .. } if *other as usize != t => {
                    referred.insert(*other, ());
                }
                _ => fields.extend(field_read(x)),
            });
        }
    }
    let schema = &program.schema;
    fields.insert((crate::data::schema::ACCOUNT, schema.id_slot));
    if let Some(p) = &ctx.policy {
        fields.extend(p.fields.iter().copied());
    }
    if let Some((file, doc)) = ctx.schema_doc {
        for f in declared_fields(schema, doc) {
            let parent_used = f.parent.is_none_or(|p| fields.contains(&p));
            if parent_used && !fields.contains(&(f.record, f.slot)) {
                out.push(
                    Diagnostic::warning(
                        "unused-field",
                        file,
                        f.span,
                        format!("field `{}` is never read by a rule", f.path),
                    )
                    .with_help("remove it from the schema, or use it in a table; accounts may still carry it"),
                );
            }
        }
    }
    if let Some(p) = &ctx.policy {
        for (t, table) in program.tables.iter().enumerate() {
            let t = t as u32;
            if !p.tables.contains(&t) && !referred.contains_key(&t) {
                out.push(
                    Diagnostic::warning(
                        "unused-table",
                        &table.file,
                        table.span,
                        format!(
                            "table `{}` is not used: the policy gives it no role and no other table refers to it",
                            table.name
                        ),
                    )
                    .with_help("wire it into the policy (e.g. `entry: <table>`), refer to it from another table, or delete it"),
                );
            }
        }
    }
    out
}

impl PolicyUse {
    /// The tables a policy plays and the snapshot fields its pipeline reads.
    pub fn of(policy: &crate::policy::Policy) -> PolicyUse {
        let tables = policy.roles.tables();
        let schema = policy.plan.schema();
        let account = crate::data::schema::ACCOUNT;
        let record_of = |slot: usize| -> Option<RecordId> {
            crate::data::schema::record_of(&schema.account().fields.get(slot)?.ty)
        };
        let s = &policy.slots;
        let mut fields = vec![(account, s.arrears)];
        // Contact windows carry the account's time zone (the guard rails, `policy::run`).
        fields.extend(s.time_zone.map(|slot| (account, slot)));
        for template in policy.templates.values() {
            for event in &template.events {
                if let crate::policy::EventDate::Expr { expr, .. } = &event.date {
                    walk(expr, &mut |x| fields.extend(field_read(x)));
                }
            }
        }
        if let Some(c) = &s.case {
            fields.push((account, c.slot));
            if let Some(id) = record_of(c.slot) {
                // The case record is the state the policy keeps (`policy::case`):
                // every state field it declares, and their items' fields, are in use.
                let rec = schema.record(id);
                for (slot, f) in rec.fields.iter().enumerate() {
                    if !crate::policy::case::STATE_FIELDS.contains(&f.name.as_str()) {
                        continue;
                    }
                    fields.push((id, slot));
                    if let Some(item) = crate::data::schema::record_of(&f.ty) {
                        fields.extend((0..schema.record(item).fields.len()).map(|s| (item, s)));
                    }
                }
            }
        }
        // The account's contacts are state the case system (or `simulate`)
        // keeps for the rails, each contact whole, as the case's lists are.
        if let Some(slot) = schema.account().slot(crate::policy::case::CONTACTS_FIELD) {
            fields.push((account, slot));
            if let Some(item) = record_of(slot) {
                fields.extend((0..schema.record(item).fields.len()).map(|s| (item, s)));
            }
        }
        if let Some((slot, sa)) = &s.service_agreements {
            fields.push((account, *slot));
            if let Some(id) = record_of(*slot) {
                fields.push((id, sa.id));
                fields.push((id, sa.arrears));
            }
        }
        if let Some((slot, p)) = &s.promises {
            fields.push((account, *slot));
            if let Some(id) = record_of(*slot) {
                fields.extend([
                    (id, p.id),
                    (id, p.amount),
                    (id, p.due_date),
                    (id, p.payments),
                ]);
                fields.extend(p.plan.map(|x| (id, x)));
                // Payments are a list of records inside a promise.
                let payments = schema.record(id).fields.get(p.payments);
                if let Some(pay) = payments.and_then(|f| crate::data::schema::record_of(&f.ty)) {
                    fields.extend([(pay, p.payment_amount), (pay, p.payment_date)]);
                }
            }
        }
        PolicyUse { tables, fields }
    }
}

/// `unmapped-guard-field`: the fields a guard rail reads that a column
/// mapping fills from no column (nor companion file), so that a batch read
/// with it gives every account a null there and the rail never applies: one
/// warning per mapping and field, at the mapping's name, naming the rails.
/// `built` are the mappings as `policy::build` built them to check them
/// (`Loaded::mappings`, in the order of `mappings`).
pub fn unmapped_guard_fields(
    policy: &crate::policy::Policy,
    mappings: &[(
        std::sync::Arc<crate::source::SourceFile>,
        crate::model::doc::MappingDoc,
    )],
    built: &[Option<crate::data::batch::mapping::Mapping>],
) -> Vec<Diagnostic> {
    let program = &policy.plan.program;
    let schema = &program.schema;
    // Per field read, the rails that read it, in the policy's order.
    let mut read: Vec<((RecordId, usize), Vec<&str>)> = Vec::new();
    for role in &policy.roles.guards {
        let table = &program.tables[role.table as usize];
        // A rail's contact window is the consumer's local time: the pipeline reads the zone.
        if let Some(slot) = policy
            .slots
            .time_zone
            .filter(|_| table.outputs.iter().any(|o| o.name == "window_start"))
        {
            note(&mut read, (crate::data::schema::ACCOUNT, slot), &table.name);
        }
        for e in table_exprs(table) {
            walk(e, &mut |x| {
                if let Some(field) = field_read(x) {
                    note(&mut read, field, &table.name);
                }
            });
        }
    }
    let mut out = Vec::new();
    for ((file, doc), mapping) in mappings.iter().zip(built) {
        // A mapping that does not build has its own `mapping` errors.
        let Some(mapping) = mapping else {
            continue;
        };
        for (record, slot, path, how) in mapping.unmapped_fields(schema) {
            let Some((_, rails)) = read.iter().find(|(f, _)| *f == (record, slot)) else {
                continue;
            };
            let rails: Vec<String> = rails.iter().map(|r| format!("`{r}`")).collect();
            let rails = format!(
                "the guard rail{} {} never {} it",
                if rails.len() == 1 { "" } else { "s" },
                rails.join(", "),
                if rails.len() == 1 { "sees" } else { "see" },
            );
            let name = &doc.mapping.value;
            let (message, help) = match how {
                Unmapped::NoColumn => (
                    format!("mapping `{name}` fills `{path}` from no column: a batch read with it gives every account a null `{path}`, so {rails}"),
                    "map a column of the extract to it (in `columns`, or a list's `columns` for an item's field); an older extract without the column then runs only with `batch --no-column`, which the summary warns about".to_string(),
                ),
                Unmapped::NoFile => (
                    format!("mapping `{name}` reads `{path}` from no companion file: a batch read with it gives every account an empty `{path}`, so {rails}"),
                    "map the list to its companion file under `lists`; an older extract without the file then runs only with `batch --no-companion`, which the summary warns about".to_string(),
                ),
                Unmapped::MayBeAbsent(column) => (
                    format!("mapping `{name}` maps `{path}` from `{column}` with `?`: an extract without the column gives every account a null `{path}` and no warning, so {rails}"),
                    format!("drop the `?`: an extract without `{column}` then stops the batch, naming `--no-column`, which the summary warns about"),
                ),
            };
            out.push(
                Diagnostic::warning("unmapped-guard-field", file, doc.mapping.span, message)
                    .with_help(help),
            );
        }
    }
    out
}

/// `rail` reads `field`: added to the rails listed for it.
fn note<'p>(
    read: &mut Vec<((RecordId, usize), Vec<&'p str>)>,
    field: (RecordId, usize),
    rail: &'p str,
) {
    match read.iter_mut().find(|(f, _)| *f == field) {
        Some((_, rails)) if !rails.contains(&rail) => rails.push(rail),
        Some(_) => {}
        None => read.push((field, vec![rail])),
    }
}
