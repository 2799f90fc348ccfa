//! A table's header, checked in the first pass before any cell: its name (an
//! identifier, not reserved, not taken), hit policy, output names and types,
//! `aggregate` (only under `collect`, over one output it can combine), the
//! output whose enum order ranks `priority` rows, and the row limit. A new hit
//! policy's rules about a table's shape go here. It must not look at rows or
//! cells: other tables' cells see only the header.

use std::sync::Arc;

use super::{Checker, MAX_ROWS_PER_TABLE};
use crate::diagnostic::did_you_mean;
use crate::lang::ir::*;
use crate::model::doc::TableDoc;
use crate::source::SourceFile;
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn check_header(&mut self, file: &Arc<SourceFile>, doc: &TableDoc) -> Table {
        let name = doc.table.value.clone();
        if !crate::model::doc::is_identifier(&name) {
            self.error(
                "table-name",
                file,
                doc.table.span,
                format!("table name `{name}` is not an identifier"),
            )
            .help = Some(
                "other tables refer to it as `<name>.<output>`: use letters, digits and `_`".into(),
            );
        } else if matches!(name.as_str(), "account" | "as_of")
            || crate::lang::ir::Builtin::from_name(&name).is_some()
        {
            self.error(
                "table-name",
                file,
                doc.table.span,
                format!("`{name}` is reserved and cannot name a table"),
            );
        } else if let Some(first) = self.headers.iter().find(|h| h.name == name) {
            let at = first.defined_at.clone();
            self.error(
                "duplicate-table",
                file,
                doc.table.span,
                format!("a table named `{name}` is already defined at {at}"),
            )
            .help = Some(
                "rename one of them, or delete the copy (a copied file keeps its `table:` name)"
                    .into(),
            );
        }
        let hit = match HitPolicy::ALL
            .iter()
            .find(|(n, _)| *n == doc.hit.value.as_str())
        {
            Some((_, hit)) => *hit,
            None => {
                let help = did_you_mean(
                    doc.hit.value.as_str(),
                    HitPolicy::ALL.iter().map(|(n, _)| *n),
                )
                .unwrap_or_else(|| {
                    "hit policies: first, unique, priority, any, collect, rule_order".into()
                });
                self.error(
                    "hit-policy",
                    file,
                    doc.hit.span,
                    format!("unknown hit policy `{}`", doc.hit.value),
                )
                .help = Some(help);
                HitPolicy::First
            }
        };
        let mut outputs = Vec::new();
        for (out_name, ty) in &doc.outputs.value {
            if !crate::model::doc::is_identifier(out_name) {
                self.error(
                    "output",
                    file,
                    ty.span,
                    format!("output name `{out_name}` is not an identifier"),
                );
            }
            let base = match ty.value.trim().strip_suffix('?') {
                // Every output may be null already (a row writes `null`); a `?` would promise
                // a distinction the evaluator does not make, so it is refused, not ignored.
                Some(b) => {
                    let b = b.trim();
                    self.error(
                        "output",
                        file,
                        ty.span,
                        format!("output type `{}` cannot be optional", ty.value.trim()),
                    )
                    .help = Some(format!(
                        "write `{b}`: any output may be null (write `null` in a row); `?` marks optional schema fields only"
                    ));
                    b
                }
                None => ty.value.trim(),
            };
            let t = self.schema.named_type(base).unwrap_or_else(|| {
                let names = ["money", "decimal", "integer", "date", "days", "bool", "text"]
                    .into_iter()
                    .chain(self.schema.enums.iter().map(|e| e.name.as_str()));
                let help = did_you_mean(base, names)
                    .unwrap_or_else(|| "output types are money, decimal, integer, date, days, bool, text or an enum declared in the schema".into());
                self.error("unknown-type", file, ty.span, format!("unknown output type `{base}`")).help = Some(help);
                Type::Error
            });
            outputs.push(Output {
                name: out_name.clone(),
                ty: t,
            });
        }
        let aggregate = match &doc.aggregate {
            None => None,
            Some(a) => {
                let known = Aggregate::ALL
                    .iter()
                    .find(|(name, _)| *name == a.value.as_str());
                let agg = match known {
                    Some((_, agg)) => Some(*agg),
                    None => {
                        let other = &a.value;
                        self.error(
                            "aggregate",
                            file,
                            a.span,
                            format!("unknown aggregate `{other}`"),
                        )
                        .help = Some("aggregates are sum, min, max and count".into());
                        None
                    }
                };
                if hit != HitPolicy::Collect {
                    self.error(
                        "aggregate",
                        file,
                        a.span,
                        format!(
                            "`aggregate` applies only to `hit: collect`, not `{}`",
                            hit.name()
                        ),
                    )
                    .help = Some("remove `aggregate` or use `hit: collect`".into());
                }
                if matches!(agg, Some(Aggregate::Sum | Aggregate::Min | Aggregate::Max)) {
                    match outputs.as_slice() {
                        [only]
                            if matches!(
                                only.ty,
                                Type::Integer
                                    | Type::Decimal
                                    | Type::Money
                                    | Type::Days
                                    | Type::Error
                            ) || (agg != Some(Aggregate::Sum)
                                && matches!(only.ty, Type::Date)) => {}
                        [only] => {
                            let shown = self.show(&only.ty);
                            self.error(
                                "aggregate",
                                file,
                                a.span,
                                format!("cannot {} outputs of type {shown}", a.value),
                            );
                        }
                        _ => {
                            self.error(
                                "aggregate",
                                file,
                                a.span,
                                format!("`aggregate: {}` needs exactly one output", a.value),
                            );
                        }
                    }
                }
                agg
            }
        };
        let priority_output = if hit == HitPolicy::Priority {
            let found = outputs.iter().position(|o| matches!(o.ty, Type::Enum(_)));
            if found.is_none() {
                self.error(
                    "hit-policy",
                    file,
                    doc.hit.span,
                    "`priority` needs an enum output: its declaration order ranks the rows".into(),
                )
                .help = Some(
                    "declare the output's type as an enum listed from highest to lowest priority"
                        .into(),
                );
            }
            found.map(|i| i as u32)
        } else {
            None
        };
        if doc.rows.len() > MAX_ROWS_PER_TABLE {
            self.error(
                "too-many-rows",
                file,
                doc.table.span,
                format!(
                    "table has {} rows; the limit is {MAX_ROWS_PER_TABLE}",
                    doc.rows.len()
                ),
            );
        }
        Table {
            name,
            description: doc.description.clone(),
            file: file.clone(),
            span: doc.table.span,
            hit,
            aggregate,
            inputs: Vec::new(),
            outputs,
            rows: Vec::new(),
            default: None,
            default_spans: Vec::new(),
            priority_output,
            params: Vec::new(),
            for_each: None,
        }
    }
}
