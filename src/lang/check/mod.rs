//! The checker: Doc types + parsed cells → a typed, resolved [`Program`].
//! It never stops at the first problem: every cell of every table is parsed
//! and checked, and each problem becomes a diagnostic with file, line, column.
//! It must not evaluate anything for an account or know the collections policy;
//! it never reads files. This file holds the entry points, the `Checker` and a
//! cell's `Scope`, and the walk over a document: the schema, then every table's
//! header (`header`), then every table's body (`body`, its cells in `cells`,
//! their names in `names`, their expressions in `expr` by the rules of
//! `typing`), then the evaluation order (`order`).

mod body;
mod cells;
mod expr;
mod header;
mod names;
mod order;
mod typing;

use std::sync::Arc;

use std::collections::HashMap;

use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::*;
use crate::model::doc::TableDoc;
use crate::model::spanned::{cell_text_offset, CellText, Spanned};
use crate::model::RuleDocs;
use crate::source::{SourceFile, Span};
use crate::types::{ShowType, Type, Value};

/// Rows per table above which a table is refused: a sign of a generated file gone wrong.
pub const MAX_ROWS_PER_TABLE: usize = 100_000;
/// Cells longer than this are refused unparsed.
pub const MAX_CELL_BYTES: usize = 4096;

pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error)
    }
}

/// Checks a loaded rules directory. `program` is `None` when there are errors.
pub fn check(docs: &RuleDocs) -> Checked {
    check_with_params(docs, |_| HashMap::new())
}

/// Checks with caller-provided table parameters, known once the schema is:
/// `params(schema)` maps table names to the values their caller will provide.
pub fn check_with_params(
    docs: &RuleDocs,
    params: impl FnOnce(&Schema) -> HashMap<String, Vec<(String, Type)>>,
) -> Checked {
    let mut diags = docs.diagnostics.clone();
    let schema = match docs.schemas.as_slice() {
        [] => {
            if (docs.tables.is_empty() && !docs.files.is_empty()) || docs.broken.maybe_schema {
                // The schema may be among the files that failed to load; those errors say enough.
            } else if let Some(file) = docs.files.first() {
                diags.push(
                    Diagnostic::error(
                        "no-schema",
                        file,
                        Span::default(),
                        "the rules directory has no schema",
                    )
                    .with_help(
                        "add a `schema.yaml` declaring the account fields (see docs/rule-files.md)",
                    ),
                );
            }
            None
        }
        [(file, doc), rest @ ..] => {
            for (other, doc) in rest {
                diags.push(
                    Diagnostic::error(
                        "duplicate-schema",
                        other,
                        doc.schema.span,
                        format!("a second schema; the first is in `{}`", file.name),
                    )
                    .with_help(
                        "a rules directory has exactly one schema: merge the two, or remove one",
                    ),
                );
            }
            let (schema, schema_diags) = Schema::build(file, doc);
            diags.extend(schema_diags);
            schema
        }
    };
    let Some(schema) = schema else {
        return Checked {
            program: None,
            diagnostics: diags,
        };
    };
    let schema = Arc::new(schema);
    let params = params(&schema);
    let mut checker = Checker {
        schema: &schema,
        diags: Vec::new(),
        headers: Vec::new(),
        params: &params,
        table_locals: Vec::new(),
        broken: &docs.broken,
    };
    let tables = checker.check_tables(&docs.tables);
    diags.append(&mut checker.diags);
    let program = tables.and_then(|(tables, order, deps)| {
        (!diags
            .iter()
            .any(|d| d.severity == crate::diagnostic::Severity::Error))
        .then(|| Program {
            schema: schema.clone(),
            tables,
            order,
            deps,
        })
    });
    Checked {
        program,
        diagnostics: diags,
    }
}

/// Checks one expression that stands outside any table (a template event's
/// date): it may read the account, `as_of` and `locals`, not tables, and must
/// have type `expect`. The expression, or `None` with the diagnostics why.
pub fn standalone_expression(
    schema: &Schema,
    file: &Arc<SourceFile>,
    cell: &Spanned<CellText>,
    locals: &[(String, Type)],
    expect: &Type,
) -> (Option<TExpr>, Vec<Diagnostic>) {
    let broken = crate::model::load::Broken::default();
    let params = HashMap::new();
    let mut checker = Checker {
        schema,
        diags: Vec::new(),
        headers: Vec::new(),
        params: &params,
        table_locals: locals.to_vec(),
        broken: &broken,
    };
    let mut scope = checker.scope(file, cell, None, usize::MAX);
    let expr = checker.expression(&mut scope, cell, Some(expect));
    if !typing::fits(&expr.ty, expect) {
        let (want, found) = (checker.show(expect), checker.show(&expr.ty));
        checker.error(
            "type-mismatch",
            file,
            cell.span,
            format!("expected {want}, found {found}"),
        );
    }
    let ok = checker.diags.is_empty();
    (ok.then_some(expr), checker.diags)
}

/// The checked tables, their evaluation order, and per table the tables it reads.
type CheckedTables = (Vec<Table>, Vec<u32>, Vec<Vec<u32>>);

struct Header {
    name: String,
    /// `file:line` of its `table:` key, for a second table of the same name.
    defined_at: String,
    columns: Vec<Output>,
    single: bool,
    /// A guard rail (its caller gives it the built-in `action` record): no table may read it.
    guard: bool,
}

struct Checker<'s> {
    schema: &'s Schema,
    diags: Vec<Diagnostic>,
    headers: Vec<Header>,
    /// Caller-provided values per table name (from the policy's roles).
    params: &'s HashMap<String, Vec<(String, Type)>>,
    /// Locals every cell of the table being checked starts with: params, then the `for_each` item.
    table_locals: Vec<(String, Type)>,
    /// Names defined by files that failed to load: their uses are not reported again.
    broken: &'s crate::model::load::Broken,
}

/// Where names resolve while checking one cell or expression.
struct Scope<'a> {
    file: &'a Arc<SourceFile>,
    /// File offset of the cell text, when spans inside it map exactly.
    offset: Option<usize>,
    cell_span: Span,
    inputs: Option<&'a [(String, Type)]>,
    locals: Vec<(String, Type)>,
    table: usize,
    deps: Vec<(u32, Span)>,
}

impl Scope<'_> {
    fn span(&self, s: Span) -> Span {
        match self.offset {
            Some(o) => s.shifted(o),
            None => self.cell_span,
        }
    }
}

impl<'s> Checker<'s> {
    fn show(&self, ty: &Type) -> String {
        ShowType(ty, self.schema).to_string()
    }

    fn error(
        &mut self,
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Span,
        message: String,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, file, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn check_tables(&mut self, docs: &[(Arc<SourceFile>, TableDoc)]) -> Option<CheckedTables> {
        // Pass 1: headers, so tables can refer to each other in any file order.
        let mut shells = Vec::new();
        for (file, doc) in docs {
            let mut shell = self.check_header(file, doc);
            shell.params = self.params.get(&shell.name).cloned().unwrap_or_default();
            if doc.for_each.is_some() {
                // Known before pass 2: other tables must not refer to a per-item table.
                shell.for_each = Some(ForEach {
                    binder: String::new(),
                    list: error_expr(),
                });
            }
            self.headers.push(Header {
                name: shell.name.clone(),
                defined_at: format!("{}:{}", file.name, file.line_col(doc.table.span.start).0),
                columns: shell.result_columns().into_owned(),
                single: shell.is_single_result(),
                guard: shell
                    .params
                    .iter()
                    .any(|(_, ty)| *ty == Type::Record(self.schema.guard_action_record)),
            });
            shells.push(shell);
        }
        // Pass 2: cells and expressions.
        let mut all_deps = Vec::new();
        for (index, ((file, doc), shell)) in docs.iter().zip(shells.iter_mut()).enumerate() {
            all_deps.push(self.check_body(index, file, doc, shell));
        }
        let order = self.order(&shells, &all_deps)?;
        let deps = all_deps
            .iter()
            .map(|d| {
                let mut tables: Vec<u32> = d.iter().map(|&(t, _)| t).collect();
                tables.sort_unstable();
                tables.dedup();
                tables
            })
            .collect();
        Some((shells, order, deps))
    }

    fn scope<'a>(
        &self,
        file: &'a Arc<SourceFile>,
        cell: &Spanned<CellText>,
        inputs: Option<&'a [(String, Type)]>,
        table: usize,
    ) -> Scope<'a> {
        Scope {
            file,
            offset: cell_text_offset(file, cell.span, &cell.value.0),
            cell_span: cell.span,
            inputs,
            locals: self.table_locals.clone(),
            table,
            deps: Vec::new(),
        }
    }
}

fn error_expr() -> TExpr {
    TExpr {
        kind: TExprKind::Const(Value::Null),
        ty: Type::Error,
    }
}

fn list_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
