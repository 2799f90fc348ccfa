//! A table's body, checked in the second pass once every header is known:
//! `for_each`, the input expressions, each row (a non-empty unique id, a
//! `when` cell per input column, a `then` value per output that fits its
//! type), the `default`, and `when`/`then` keys that name no column. It
//! collects the tables each cell reads for the evaluation order; it must not
//! parse or type a cell itself (`cells`, `expr`).

use std::sync::Arc;

use indexmap::IndexMap;

use super::typing::{coerce, fits, money_hint};
use super::{list_names, Checker};
use crate::diagnostic::nearest;
use crate::lang::ir::*;
use crate::lang::syntax::parse_expr;
use crate::model::doc::TableDoc;
use crate::model::spanned::{key_before, CellText, Spanned};
use crate::source::{SourceFile, Span};
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn check_body(
        &mut self,
        index: usize,
        file: &Arc<SourceFile>,
        doc: &TableDoc,
        table: &mut Table,
    ) -> Vec<(u32, Span)> {
        let mut deps = Vec::new();
        self.table_locals = table.params.clone();
        if let Some(for_each) = &doc.for_each {
            let (each, mut each_deps) = self.check_for_each(index, file, for_each);
            deps.append(&mut each_deps);
            if let Some(each) = &each {
                let item = match &each.list.ty {
                    Type::List(inner) => inner.as_ref().clone(),
                    _ => Type::Error,
                };
                self.table_locals.push((each.binder.clone(), item));
            }
            table.for_each = each;
        }
        // Inputs: expressions over the account and other tables.
        let mut input_types: Vec<(String, Type)> = Vec::new();
        for (name, cell) in &doc.inputs.value {
            if !crate::model::doc::is_identifier(name) {
                self.error(
                    "input",
                    file,
                    cell.span,
                    format!("input name `{name}` is not an identifier"),
                );
            }
            let mut scope = self.scope(file, cell, None, index);
            let expr = self.expression(&mut scope, cell, None);
            deps.append(&mut scope.deps);
            input_types.push((name.clone(), expr.ty.clone()));
            table.inputs.push(Input {
                name: name.clone(),
                expr,
                text: cell.value.0.clone(),
            });
        }
        if doc.inputs.value.is_empty() {
            self.error(
                "input",
                file,
                doc.inputs.span,
                "a table needs at least one input".into(),
            );
        }
        let mut seen_ids: IndexMap<String, Span> = IndexMap::new();
        for row in &doc.rows {
            let id = row.value.id.value.0.trim().to_string();
            if id.is_empty() {
                self.error(
                    "row-id",
                    file,
                    row.value.id.span,
                    "a row id cannot be empty".into(),
                );
            } else if let Some(first) = seen_ids.get(&id) {
                let (line, _) = file.line_col(first.start);
                self.error(
                    "duplicate-row-id",
                    file,
                    row.value.id.span,
                    format!("row id `{id}` is already used on line {line}"),
                )
                .help = Some(
                    "row ids are stable references in traces and tests: give each row its own"
                        .into(),
                );
            } else {
                seen_ids.insert(id.clone(), row.value.id.span);
            }
            let input_names: Vec<&str> = input_types.iter().map(|(n, _)| n.as_str()).collect();
            self.unknown_columns(file, &row.value.when, &input_names, "input", &table.name);
            let mut cells = Vec::new();
            for (column, ty) in &input_types {
                let cell = match row.value.when.get(column) {
                    Some(cell) => {
                        let mut scope = self.scope(file, cell, Some(&input_types), index);
                        let c = self.cell(&mut scope, cell, column, ty);
                        deps.append(&mut scope.deps);
                        c
                    }
                    None => TCell {
                        negated: false,
                        tests: Vec::new(),
                        text: "-".into(),
                        span: row.span,
                    },
                };
                cells.push(cell);
            }
            // A missing output is shown at `then`, or at the row when it has none.
            let then_at = key_before(file, row.value.then.span, "then")
                .unwrap_or(Span::new(row.span.start, row.span.start + 1));
            let outputs = self.outputs(
                index,
                file,
                &row.value.then.value,
                then_at,
                table,
                &input_types,
                &mut deps,
            );
            let output_spans = table
                .outputs
                .iter()
                .map(|o| {
                    row.value
                        .then
                        .value
                        .get(&o.name)
                        .map_or(row.span, |c| c.span)
                })
                .collect();
            table.rows.push(Row {
                id,
                id_span: row.value.id.span,
                description: row.value.description.clone(),
                cells,
                outputs,
                output_spans,
                span: row.span,
            });
        }
        if let Some(default) = &doc.default {
            let default_at = key_before(file, default.span, "default").unwrap_or(default.span);
            table.default = Some(self.outputs(
                index,
                file,
                &default.value,
                default_at,
                table,
                &input_types,
                &mut deps,
            ));
            table.default_spans = table
                .outputs
                .iter()
                .map(|o| default.value.get(&o.name).map_or(default_at, |c| c.span))
                .collect();
            if matches!(table.hit, HitPolicy::Collect | HitPolicy::RuleOrder) {
                self.error(
                    "default",
                    file,
                    default.span,
                    format!("`default` has no meaning under `hit: {}`", table.hit.name()),
                )
                .help =
                    Some("an empty collection is already the result when no row matches".into());
            }
        }
        deps
    }

    #[allow(clippy::too_many_arguments)]
    fn outputs(
        &mut self,
        index: usize,
        file: &Arc<SourceFile>,
        cells: &IndexMap<String, Spanned<CellText>>,
        span: Span,
        table: &Table,
        inputs: &[(String, Type)],
        deps: &mut Vec<(u32, Span)>,
    ) -> Vec<TExpr> {
        let output_names: Vec<&str> = table.outputs.iter().map(|o| o.name.as_str()).collect();
        let misspelt = self.unknown_columns(file, cells, &output_names, "output", &table.name);
        let mut exprs = Vec::new();
        for output in &table.outputs {
            match cells.get(&output.name) {
                Some(cell) => {
                    let mut scope = self.scope(file, cell, Some(inputs), index);
                    let expr = self.expression(&mut scope, cell, Some(&output.ty));
                    deps.append(&mut scope.deps);
                    if !fits(&expr.ty, &output.ty) {
                        let (got, want) = (self.show(&expr.ty), self.show(&output.ty));
                        let word = cell.value.0.trim();
                        let bare_word = !word.is_empty()
                            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                        let help = match &output.ty {
                            // `reason: deceased` names the input; the analyst meant the word.
                            Type::Text if bare_word => Some(format!(
                                "`{word}` is read as a name; text is written in double quotes inside the cell (in YAML: `'\"{word}\"'`)"
                            )),
                            _ => money_hint(&expr.ty, &output.ty),
                        };
                        self.error(
                            "type-mismatch",
                            file,
                            cell.span,
                            format!("output `{}` is {want}, but this cell is {got}", output.name),
                        )
                        .help = help;
                    }
                    exprs.push(coerce(expr, &output.ty));
                }
                None => {
                    // A misspelt output column is reported already; its output is not missing.
                    let reported = misspelt.contains(&output.name.as_str());
                    if !reported
                        && (table.hit != HitPolicy::Collect
                            || table.aggregate != Some(Aggregate::Count))
                    {
                        self.error(
                            "missing-output",
                            file,
                            span,
                            format!("no value for output `{}`", output.name),
                        )
                        .help = Some(format!(
                            "add `{}: <value>` (use `null` where no value applies)",
                            output.name
                        ));
                    }
                    exprs.push(TExpr {
                        kind: TExprKind::Const(Value::Null),
                        ty: Type::Null,
                    });
                }
            }
        }
        exprs
    }

    /// A `when` or `then` key that names no column of the table: a typo that would
    /// otherwise silently match everything (or set nothing). Shown at the key;
    /// returns the columns the typos were probably meant to be.
    fn unknown_columns<'c>(
        &mut self,
        file: &Arc<SourceFile>,
        cells: &IndexMap<String, Spanned<CellText>>,
        columns: &[&'c str],
        kind: &str,
        table: &str,
    ) -> Vec<&'c str> {
        let mut meant = Vec::new();
        for (name, cell) in cells {
            if columns.contains(&name.as_str()) {
                continue;
            }
            let meant_column = nearest(name, columns.iter().copied());
            meant.extend(meant_column);
            let help = match meant_column {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the {kind}s are: {}", list_names(columns.iter().copied())),
            };
            let at = key_before(file, cell.span, name).unwrap_or(cell.span);
            self.error(
                "unknown-column",
                file,
                at,
                format!("`{name}` is not an {kind} of table `{table}`"),
            )
            .help = Some(help);
        }
        meant
    }

    /// `sa in account.service_agreements`
    fn check_for_each(
        &mut self,
        index: usize,
        file: &Arc<SourceFile>,
        cell: &Spanned<CellText>,
    ) -> (Option<ForEach>, Vec<(u32, Span)>) {
        let text = &cell.value.0;
        let Some((binder, list)) = text.split_once(" in ") else {
            self.error(
                "for-each",
                file,
                cell.span,
                format!("`for_each: {text}` needs the form `item in list`"),
            )
            .help = Some("for example `for_each: sa in account.service_agreements`".into());
            return (None, Vec::new());
        };
        let binder = binder.trim();
        if !crate::model::doc::is_identifier(binder) {
            self.error(
                "for-each",
                file,
                cell.span,
                format!("`{binder}` cannot name the item: use an identifier"),
            );
            return (None, Vec::new());
        }
        let list_offset = text.len() - list.len();
        let mut scope = self.scope(file, cell, None, index);
        scope.offset = scope.offset.map(|o| o + list_offset);
        let expr = match parse_expr(list) {
            Ok(expr) => self.expr(&mut scope, &expr, None),
            Err(err) => {
                self.parse_error(&scope, err);
                return (None, Vec::new());
            }
        };
        if !matches!(expr.ty, Type::List(_) | Type::Error) {
            let t = self.show(&expr.ty);
            self.error(
                "for-each",
                file,
                cell.span,
                format!("`for_each` needs a list, but `{}` is {t}", list.trim()),
            );
        }
        (
            Some(ForEach {
                binder: binder.to_string(),
                list: expr,
            }),
            scope.deps,
        )
    }
}
