//! The checker: Doc types + parsed cells → a typed, resolved [`Program`].
//! It never stops at the first problem: every cell of every table is parsed
//! and checked, and each problem becomes a diagnostic with file, line, column.
//! It must not evaluate anything for an account or know the collections policy;
//! it never reads files.

use std::sync::Arc;

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::data::schema::{Schema, ACCOUNT};
use crate::diagnostic::{did_you_mean, nearest, Diagnostic};
use crate::lang::ir::*;
use crate::lang::syntax::ast::{
    self, Arg, CellKind, CompareOp, ExprKind, Literal, UnaryOp, UnaryTestKind,
};
use crate::lang::syntax::{parse_cell, parse_expr, ParseError};
use crate::model::doc::TableDoc;
use crate::model::spanned::{cell_text_offset, key_before, CellText, Spanned};
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

/// The checked tables, their evaluation order, and per table the tables it reads.
type CheckedTables = (Vec<Table>, Vec<u32>, Vec<Vec<u32>>);

struct Header {
    name: String,
    columns: Vec<Output>,
    single: bool,
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
                columns: shell.result_columns().into_owned(),
                single: shell.is_single_result(),
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

    fn check_header(&mut self, file: &Arc<SourceFile>, doc: &TableDoc) -> Table {
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
        } else if self.headers.iter().any(|h| h.name == name) {
            self.error(
                "duplicate-table",
                file,
                doc.table.span,
                format!("a table named `{name}` is already defined"),
            );
        }
        let hit = match HitPolicy::ALL.iter().find(|(n, _)| *n == doc.hit.value) {
            Some((_, hit)) => *hit,
            None => {
                let help = did_you_mean(&doc.hit.value, HitPolicy::ALL.iter().map(|(n, _)| *n))
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
                let agg = match a.value.as_str() {
                    "sum" => Some(Aggregate::Sum),
                    "min" => Some(Aggregate::Min),
                    "max" => Some(Aggregate::Max),
                    "count" => Some(Aggregate::Count),
                    other => {
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
            priority_output,
            params: Vec::new(),
            for_each: None,
        }
    }

    fn check_body(
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
                        let c = self.cell(&mut scope, cell, ty);
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
                        let help = money_hint(&expr.ty, &output.ty);
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

    fn parse_error(&mut self, scope: &Scope, err: ParseError) {
        let span = scope.span(err.span);
        let mut d = Diagnostic::error("syntax", scope.file, span, err.message);
        d.help = err.help;
        self.diags.push(d);
    }

    fn too_long(&mut self, scope: &Scope, cell: &Spanned<CellText>) -> bool {
        if cell.value.0.len() > MAX_CELL_BYTES {
            self.error(
                "cell-too-long",
                scope.file,
                Span::new(cell.span.start, cell.span.start + 1),
                format!(
                    "cell is {} bytes long; the limit is {MAX_CELL_BYTES}",
                    cell.value.0.len()
                ),
            )
            .help = Some("split the logic into an input column or another table".into());
            return true;
        }
        false
    }

    fn expression(
        &mut self,
        scope: &mut Scope,
        cell: &Spanned<CellText>,
        expect: Option<&Type>,
    ) -> TExpr {
        if self.too_long(scope, cell) {
            return error_expr();
        }
        if cell.value.0.trim().is_empty() {
            self.error(
                "syntax",
                scope.file,
                cell.span,
                "expected an expression, found an empty cell".into(),
            );
            return error_expr();
        }
        match parse_expr(&cell.value.0) {
            Ok(expr) => self.expr(scope, &expr, expect),
            Err(err) => {
                self.parse_error(scope, err);
                error_expr()
            }
        }
    }

    fn cell(&mut self, scope: &mut Scope, cell: &Spanned<CellText>, input: &Type) -> TCell {
        let text = cell.value.0.clone();
        if self.too_long(scope, cell) {
            return TCell {
                negated: false,
                tests: Vec::new(),
                text,
                span: cell.span,
            };
        }
        let parsed = match parse_cell(&cell.value.0) {
            Ok(parsed) => parsed,
            Err(err) => {
                self.parse_error(scope, err);
                return TCell {
                    negated: false,
                    tests: Vec::new(),
                    text,
                    span: cell.span,
                };
            }
        };
        match parsed.kind {
            CellKind::Any => TCell {
                negated: false,
                tests: Vec::new(),
                text,
                span: cell.span,
            },
            CellKind::Tests { negated, tests } => {
                let tests = tests.iter().map(|t| self.test(scope, t, input)).collect();
                TCell {
                    negated,
                    tests,
                    text,
                    span: cell.span,
                }
            }
        }
    }

    fn test(&mut self, scope: &mut Scope, test: &ast::UnaryTest, input: &Type) -> TTest {
        match &test.kind {
            UnaryTestKind::Compare(op, expr) => {
                let e = self.operand(scope, expr, input, *op);
                TTest::Compare(*op, e)
            }
            UnaryTestKind::Equals(expr) => {
                let e = self.operand(scope, expr, input, CompareOp::Eq);
                TTest::Compare(CompareOp::Eq, e)
            }
            UnaryTestKind::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let lo = self.operand(scope, low, input, CompareOp::Ge);
                let hi = self.operand(scope, high, input, CompareOp::Le);
                TTest::Range {
                    low: lo,
                    low_inclusive: *low_inclusive,
                    high: hi,
                    high_inclusive: *high_inclusive,
                }
            }
        }
    }

    /// An operand of a cell test, checked to be comparable with the input.
    fn operand(
        &mut self,
        scope: &mut Scope,
        expr: &ast::Expr,
        input: &Type,
        op: CompareOp,
    ) -> TExpr {
        let e = self.expr(scope, expr, Some(input));
        if !comparable(input, &e.ty, op) {
            let (i, o) = (self.show(input), self.show(&e.ty));
            let help = money_hint(&e.ty, input);
            let span = scope.span(expr.span);
            self.error(
                "type-mismatch",
                scope.file,
                span,
                format!("cannot compare the input ({i}) with {o}"),
            )
            .help = help;
        }
        e
    }

    fn expr(&mut self, scope: &mut Scope, expr: &ast::Expr, expect: Option<&Type>) -> TExpr {
        let span = scope.span(expr.span);
        match &expr.kind {
            ExprKind::Literal(lit) => self.literal(scope, lit, span, expect),
            ExprKind::Path(segments) => self.path(scope, segments, expect),
            ExprKind::Unary(op, inner) => {
                let e = self.expr(scope, inner, None);
                let ty = match (op, &e.ty) {
                    (_, t) if t.is_unknown() => e.ty.clone(),
                    (UnaryOp::Not, Type::Bool) => Type::Bool,
                    (UnaryOp::Neg, Type::Integer | Type::Decimal | Type::Money | Type::Days) => {
                        e.ty.clone()
                    }
                    (op, t) => {
                        let t = self.show(t);
                        let what = if *op == UnaryOp::Not {
                            "`not` needs a bool"
                        } else {
                            "`-` needs a number, money or days"
                        };
                        self.error(
                            "type-mismatch",
                            scope.file,
                            span,
                            format!("{what}, found {t}"),
                        );
                        Type::Error
                    }
                };
                TExpr {
                    kind: TExprKind::Unary(*op, Box::new(e)),
                    ty,
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(scope, *op, l, r, span),
            ExprKind::Call(call) => self.call(scope, call, span),
        }
    }

    fn literal(
        &mut self,
        scope: &Scope,
        lit: &Literal,
        span: Span,
        expect: Option<&Type>,
    ) -> TExpr {
        let (value, ty) = match lit {
            Literal::Integer(n) => (Value::Int(*n), Type::Integer),
            Literal::Decimal(d) => (Value::Dec(*d), Type::Decimal),
            Literal::Money { amount, currency } => {
                if let Some(c) = currency {
                    if *c != self.schema.currency {
                        self.error(
                            "currency",
                            scope.file,
                            span,
                            format!(
                                "`{c}` is not the schema's currency `{}`",
                                self.schema.currency
                            ),
                        )
                        .help = Some(format!(
                            "all money is in {}; write `${amount}`",
                            self.schema.currency
                        ));
                    }
                }
                (Value::Dec(*amount), Type::Money)
            }
            Literal::Percent(p) => (Value::Dec(*p), Type::Decimal),
            Literal::Date(d) => (Value::Date(*d), Type::Date),
            Literal::Days(n) => (Value::Int(*n), Type::Days),
            Literal::Text(t) => {
                if let Some(Type::Enum(e)) = expect {
                    return self.variant(scope, *e, t, span);
                }
                (Value::Text(t.as_str().into()), Type::Text)
            }
            Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
            Literal::Null => (Value::Null, Type::Null),
        };
        TExpr {
            kind: TExprKind::Const(value),
            ty,
        }
    }

    fn variant(&mut self, scope: &Scope, e: u32, name: &str, span: Span) -> TExpr {
        match self.schema.variant(e, name) {
            Some(v) => TExpr {
                kind: TExprKind::Const(Value::Enum(v)),
                ty: Type::Enum(e),
            },
            None => {
                let def = self.schema.enum_def(e);
                let help = did_you_mean(name, def.variants.iter().map(|s| s.as_str()))
                    .unwrap_or_else(|| {
                        format!(
                            "`{}` is one of: {}",
                            def.name,
                            list_names(def.variants.iter().map(|s| s.as_str()))
                        )
                    });
                self.error(
                    "unknown-variant",
                    scope.file,
                    span,
                    format!("`{name}` is not a variant of `{}`", def.name),
                )
                .help = Some(help);
                error_expr()
            }
        }
    }

    fn path(&mut self, scope: &mut Scope, segments: &[ast::Ident], expect: Option<&Type>) -> TExpr {
        let first = &segments[0];
        let first_span = scope.span(first.span);
        // A bare word where an enum is expected is a variant.
        if let (Some(Type::Enum(e)), [only]) = (expect, segments) {
            if self.schema.variant(*e, &only.name).is_some()
                || self.lookup_root(scope, &only.name).is_none()
            {
                return self.variant(scope, *e, &only.name, first_span);
            }
        }
        let Some(mut current) = self.lookup_root(scope, &first.name) else {
            // A table whose file failed to load, or a bare word where the type is unknown
            // because of an earlier error (it may be a variant of an enum that failed):
            // a follow-on of that error, already reported.
            if self.broken.contains(&first.name)
                || (expect == Some(&Type::Error) && segments.len() == 1)
            {
                return error_expr();
            }
            let mut candidates: Vec<String> = vec!["account".into(), "as_of".into()];
            candidates.extend(scope.locals.iter().map(|(n, _)| n.clone()));
            candidates.extend(
                scope
                    .inputs
                    .unwrap_or_default()
                    .iter()
                    .map(|(n, _)| n.clone()),
            );
            candidates.extend(self.headers.iter().map(|h| h.name.clone()));
            let help = if self.schema.account().slot(&first.name).is_some() {
                Some(format!(
                    "account fields are reached through `account`: write `account.{}`",
                    first.name
                ))
            } else {
                did_you_mean(&first.name, candidates.iter().map(|s| s.as_str()))
                    .or_else(|| expect.and_then(how_written))
            };
            self.error(
                "unknown-name",
                scope.file,
                first_span,
                format!("unknown name `{}`", first.name),
            )
            .help = help;
            return error_expr();
        };
        let mut rest = &segments[1..];
        // `table.output`
        if let TExprKind::TableOutput { table, .. } = current.kind {
            let header = &self.headers[table as usize];
            let Some(seg) = rest.first() else {
                let name = header.name.clone();
                self.error(
                    "unknown-name",
                    scope.file,
                    first_span,
                    format!("`{name}` is a table: name one of its outputs, `{name}.<output>`"),
                );
                return error_expr();
            };
            let seg_span = scope.span(seg.span);
            if !header.single {
                let name = header.name.clone();
                self.error("table-reference", scope.file, first_span, format!("table `{name}` gives several rows, so it cannot be referred to"))
                    .help = Some("refer to `first`, `unique`, `priority`, `any` tables, or `collect` with an `aggregate`".into());
                return error_expr();
            }
            let Some(out) = header.columns.iter().position(|c| c.name == seg.name) else {
                let help = did_you_mean(&seg.name, header.columns.iter().map(|c| c.name.as_str()));
                let name = header.name.clone();
                self.error(
                    "unknown-name",
                    scope.file,
                    seg_span,
                    format!("table `{name}` has no output `{}`", seg.name),
                )
                .help = help;
                return error_expr();
            };
            if table as usize == scope.table {
                self.error(
                    "table-cycle",
                    scope.file,
                    first_span,
                    format!("table `{}` refers to itself", header.name),
                );
                return error_expr();
            }
            scope.deps.push((table, first_span));
            current = TExpr {
                kind: TExprKind::TableOutput {
                    table,
                    output: out as u32,
                },
                ty: header.columns[out].ty.clone(),
            };
            rest = &rest[1..];
        }
        for seg in rest {
            let seg_span = scope.span(seg.span);
            let (record, through_list) = match &current.ty {
                Type::Record(r) => (*r, false),
                Type::List(inner) => match inner.as_ref() {
                    Type::Record(r) => (*r, true),
                    _ => {
                        let t = self.show(&current.ty);
                        self.error(
                            "unknown-field",
                            scope.file,
                            seg_span,
                            format!("`{}` is a {t} and has no fields", path_text(segments, seg)),
                        );
                        return error_expr();
                    }
                },
                Type::Error => return error_expr(),
                other => {
                    let t = self.show(other);
                    self.error(
                        "unknown-field",
                        scope.file,
                        seg_span,
                        format!(
                            "`{}` is {t} and has no field `{}`",
                            path_text(segments, seg),
                            seg.name
                        ),
                    );
                    return error_expr();
                }
            };
            let def = self.schema.record(record);
            let Some(slot) = def.slot(&seg.name) else {
                let help = did_you_mean(&seg.name, def.fields.iter().map(|f| f.name.as_str()));
                let at = path_text(segments, seg);
                self.error(
                    "unknown-field",
                    scope.file,
                    seg_span,
                    format!("unknown field `{}` in `{at}`", seg.name),
                )
                .help = help;
                return error_expr();
            };
            let ty = def.fields[slot].ty.clone();
            current = if through_list {
                TExpr {
                    kind: TExprKind::Project(Box::new(current), slot as u32),
                    ty: Type::List(Box::new(ty)),
                }
            } else {
                TExpr {
                    kind: TExprKind::Field(Box::new(current), slot as u32),
                    ty,
                }
            };
        }
        if let TExprKind::Account = current.kind {
            self.error(
                "type-mismatch",
                scope.file,
                first_span,
                "`account` is the whole account: name one of its fields, `account.<field>`".into(),
            );
            return error_expr();
        }
        current
    }

    fn lookup_root(&self, scope: &Scope, name: &str) -> Option<TExpr> {
        if let Some(i) = scope.locals.iter().rposition(|(n, _)| n == name) {
            return Some(TExpr {
                kind: TExprKind::Local(i as u32),
                ty: scope.locals[i].1.clone(),
            });
        }
        if let Some(inputs) = scope.inputs {
            if let Some(i) = inputs.iter().position(|(n, _)| n == name) {
                return Some(TExpr {
                    kind: TExprKind::Input(i as u32),
                    ty: inputs[i].1.clone(),
                });
            }
        }
        match name {
            "account" => {
                return Some(TExpr {
                    kind: TExprKind::Account,
                    ty: Type::Record(ACCOUNT),
                })
            }
            "as_of" => {
                return Some(TExpr {
                    kind: TExprKind::AsOf,
                    ty: Type::Date,
                })
            }
            _ => {}
        }
        self.headers
            .iter()
            .position(|h| h.name == name)
            .map(|t| TExpr {
                kind: TExprKind::TableOutput {
                    table: t as u32,
                    output: 0,
                },
                ty: Type::Error,
            })
    }

    fn binary(
        &mut self,
        scope: &mut Scope,
        op: ast::BinaryOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> TExpr {
        use ast::BinaryOp as B;
        // A bare word or text compared with an enum is a variant: check the other side first.
        let (le, re) = if op.is_comparison()
            && is_enum_literal_candidate(l)
            && !is_enum_literal_candidate(r)
        {
            let re = self.expr(scope, r, None);
            let le = self.expr(scope, l, Some(&re.ty));
            (le, re)
        } else {
            let le = self.expr(scope, l, None);
            let re = self.expr(scope, r, Some(&le.ty));
            (le, re)
        };
        let (lt, rt) = (le.ty.clone(), re.ty.clone());
        let bop = match op {
            B::Or => BinOp::Or,
            B::And => BinOp::And,
            B::Eq => BinOp::Compare(CompareOp::Eq),
            B::Ne => BinOp::Compare(CompareOp::Ne),
            B::Lt => BinOp::Compare(CompareOp::Lt),
            B::Le => BinOp::Compare(CompareOp::Le),
            B::Gt => BinOp::Compare(CompareOp::Gt),
            B::Ge => BinOp::Compare(CompareOp::Ge),
            B::Add => BinOp::Add,
            B::Sub => BinOp::Sub,
            B::Mul => BinOp::Mul,
            B::Div => BinOp::Div,
        };
        let ty = if lt == Type::Error || rt == Type::Error {
            Type::Error
        } else {
            match bop {
                BinOp::Or | BinOp::And => {
                    if bool_like(&lt) && bool_like(&rt) {
                        Type::Bool
                    } else {
                        let bad = if bool_like(&lt) { &rt } else { &lt };
                        let t = self.show(bad);
                        self.error(
                            "type-mismatch",
                            scope.file,
                            span,
                            format!("`{}` needs bools on both sides, found {t}", op.as_str()),
                        );
                        Type::Error
                    }
                }
                BinOp::Compare(c) => {
                    if comparable(&lt, &rt, c) {
                        Type::Bool
                    } else {
                        let (a, b) = (self.show(&lt), self.show(&rt));
                        let help = money_hint(&rt, &lt).or_else(|| money_hint(&lt, &rt));
                        self.error(
                            "type-mismatch",
                            scope.file,
                            span,
                            format!("cannot compare {a} with {b} using `{}`", op.as_str()),
                        )
                        .help = help;
                        Type::Error
                    }
                }
                _ => match arithmetic(bop, &lt, &rt) {
                    Some(t) => t,
                    None => {
                        let (a, b) = (self.show(&lt), self.show(&rt));
                        let help = money_hint(&rt, &lt).or_else(|| money_hint(&lt, &rt));
                        self.error(
                            "type-mismatch",
                            scope.file,
                            span,
                            format!("cannot apply `{}` to {a} and {b}", op.as_str()),
                        )
                        .help = help;
                        Type::Error
                    }
                },
            }
        };
        TExpr {
            kind: TExprKind::Binary(bop, Box::new(le), Box::new(re)),
            ty,
        }
    }

    fn call(&mut self, scope: &mut Scope, call: &ast::Call, span: Span) -> TExpr {
        let fspan = scope.span(call.function.span);
        let Some(builtin) = Builtin::from_name(&call.function.name) else {
            let help = did_you_mean(&call.function.name, Builtin::ALL.iter().map(|(n, _)| *n))
                .unwrap_or_else(|| {
                    format!(
                        "functions: {}",
                        list_names(Builtin::ALL.iter().map(|(n, _)| *n))
                    )
                });
            self.error(
                "unknown-function",
                scope.file,
                fspan,
                format!("unknown function `{}`", call.function.name),
            )
            .help = Some(help);
            return error_expr();
        };
        let name = &call.function.name;
        // The `x in list : body` form.
        if let [Arg::Each(each)] = call.args.as_slice() {
            return self.each(scope, builtin, name, each, span);
        }
        if call.args.iter().any(|a| matches!(a, Arg::Each(_))) {
            self.error(
                "arguments",
                scope.file,
                span,
                format!("`{name}(x in list ...)` takes that one argument only"),
            );
            return error_expr();
        }
        let args: Vec<TExpr> = call
            .args
            .iter()
            .map(|a| match a {
                Arg::Expr(e) => self.expr(scope, e, None),
                Arg::Each(_) => error_expr(),
            })
            .collect();
        if args.iter().any(|a| a.ty == Type::Error) {
            return TExpr {
                kind: TExprKind::Call(builtin, args),
                ty: Type::Error,
            };
        }
        let types: Vec<Type> = args.iter().map(|a| a.ty.clone()).collect();
        let ty = match (builtin, types.as_slice()) {
            (Builtin::Min | Builtin::Max, [Type::List(inner)]) if orderable(inner) => {
                Some(inner.as_ref().clone())
            }
            (Builtin::Min | Builtin::Max, [first, rest @ ..]) if !rest.is_empty() => rest
                .iter()
                .try_fold(first.clone(), |acc, t| unify_numeric(&acc, t))
                .filter(orderable),
            (Builtin::Abs, [t @ (Type::Integer | Type::Decimal | Type::Money | Type::Days)]) => {
                Some(t.clone())
            }
            (Builtin::Round, [t @ (Type::Integer | Type::Decimal | Type::Money)]) => {
                Some(t.clone())
            }
            (
                Builtin::Round,
                [t @ (Type::Integer | Type::Decimal | Type::Money), Type::Integer],
            ) => {
                if !matches!(args[1].kind, TExprKind::Const(Value::Int(0..=28))) {
                    let s = scope.span(call.args_span(1));
                    self.error(
                        "arguments",
                        scope.file,
                        s,
                        "the places of `round` must be a whole number from 0 to 28".into(),
                    );
                }
                Some(t.clone())
            }
            (Builtin::DaysBetween, [Type::Date, Type::Date]) => Some(Type::Integer),
            (Builtin::MonthDay, [Type::Date]) => Some(Type::Integer),
            (Builtin::Any | Builtin::All, [Type::List(inner)]) if bool_like(inner) => {
                Some(Type::Bool)
            }
            (Builtin::Count, [Type::List(_)]) => Some(Type::Integer),
            (Builtin::Sum, [Type::List(inner)]) if summable(inner) => Some(inner.as_ref().clone()),
            _ => None,
        };
        match ty {
            Some(ty) => TExpr {
                kind: TExprKind::Call(builtin, args),
                ty,
            },
            None => {
                let shown: Vec<String> = types.iter().map(|t| self.show(t)).collect();
                self.error(
                    "arguments",
                    scope.file,
                    span,
                    format!("`{name}` cannot take ({})", shown.join(", ")),
                )
                .help = Some(signature(builtin).into());
                error_expr()
            }
        }
    }

    fn each(
        &mut self,
        scope: &mut Scope,
        builtin: Builtin,
        name: &str,
        each: &ast::Each,
        span: Span,
    ) -> TExpr {
        let list = self.expr(scope, &each.list, None);
        let item = match &list.ty {
            Type::List(inner) => inner.as_ref().clone(),
            Type::Error => Type::Error,
            other => {
                let t = self.show(other);
                let s = scope.span(each.list.span);
                self.error(
                    "type-mismatch",
                    scope.file,
                    s,
                    format!("`{} in ...` needs a list, found {t}", each.binder.name),
                );
                Type::Error
            }
        };
        scope.locals.push((each.binder.name.clone(), item));
        let local = (scope.locals.len() - 1) as u32;
        let filter = each.filter.as_ref().map(|f| self.expr(scope, f, None));
        let body = each.body.as_ref().map(|b| self.expr(scope, b, None));
        scope.locals.pop();
        if let Some(f) = &filter {
            if !bool_like(&f.ty) && f.ty != Type::Error {
                let t = self.show(&f.ty);
                let s = scope.span(each.filter.as_ref().map_or(each.span, |f| f.span));
                self.error(
                    "type-mismatch",
                    scope.file,
                    s,
                    format!("`where` needs a bool, found {t}"),
                );
            }
        }
        let body_ty = body.as_ref().map(|b| b.ty.clone());
        let ty = match (builtin, &body_ty) {
            (_, Some(Type::Error)) => Some(Type::Error),
            (Builtin::Any | Builtin::All, Some(t)) if bool_like(t) => Some(Type::Bool),
            (Builtin::Count, None) => Some(Type::Integer),
            (Builtin::Count, Some(t)) if bool_like(t) => Some(Type::Integer),
            (Builtin::Sum, Some(t)) if summable(t) => Some(t.clone()),
            (Builtin::Min | Builtin::Max, Some(t)) if orderable(t) => Some(t.clone()),
            _ => None,
        };
        let Some(ty) = ty else {
            let got = body_ty.map_or_else(|| "no `: value`".to_string(), |t| self.show(&t));
            self.error(
                "arguments",
                scope.file,
                span,
                format!("`{name}({} in ...)` cannot use {got}", each.binder.name),
            )
            .help = Some(signature(builtin).into());
            return error_expr();
        };
        TExpr {
            kind: TExprKind::Each(Box::new(EachExpr {
                function: builtin,
                local,
                list,
                filter,
                body,
            })),
            ty,
        }
    }

    /// Evaluation order; reports reference cycles.
    fn order(&mut self, tables: &[Table], deps: &[Vec<(u32, Span)>]) -> Option<Vec<u32>> {
        let n = tables.len();
        let mut state = vec![0u8; n]; // 0 new, 1 visiting, 2 done
        let mut order = Vec::with_capacity(n);
        let mut ok = true;
        fn visit(
            t: usize,
            deps: &[Vec<(u32, Span)>],
            state: &mut [u8],
            order: &mut Vec<u32>,
            stack: &mut Vec<(usize, Span)>,
        ) -> Option<(usize, Span)> {
            state[t] = 1;
            for &(d, span) in &deps[t] {
                let d = d as usize;
                if state[d] == 1 {
                    return Some((t, span));
                }
                if state[d] == 0 {
                    stack.push((t, span));
                    if let Some(c) = visit(d, deps, state, order, stack) {
                        return Some(c);
                    }
                    stack.pop();
                }
            }
            state[t] = 2;
            order.push(t as u32);
            None
        }
        for t in 0..n {
            if state[t] == 0 {
                let mut stack = Vec::new();
                if let Some((at, span)) = visit(t, deps, &mut state, &mut order, &mut stack) {
                    let table = &tables[at];
                    self.error(
                        "table-cycle",
                        &table.file,
                        span,
                        format!(
                            "tables refer to each other in a cycle through `{}`",
                            table.name
                        ),
                    )
                    .help = Some(
                        "a table can only use outputs of tables that do not depend on it".into(),
                    );
                    ok = false;
                    break;
                }
            }
        }
        ok.then_some(order)
    }
}

impl ast::Call {
    /// Span of argument `i`, or of the whole call when it has no such argument.
    fn args_span(&self, i: usize) -> Span {
        match self.args.get(i) {
            Some(Arg::Expr(e)) => e.span,
            Some(Arg::Each(e)) => e.span,
            None => self.function.span,
        }
    }
}

fn error_expr() -> TExpr {
    TExpr {
        kind: TExprKind::Const(Value::Null),
        ty: Type::Error,
    }
}

fn is_enum_literal_candidate(e: &ast::Expr) -> bool {
    matches!(&e.kind, ExprKind::Literal(Literal::Text(_)))
        || matches!(&e.kind, ExprKind::Path(p) if p.len() == 1)
}

fn bool_like(t: &Type) -> bool {
    matches!(t, Type::Bool | Type::Null | Type::Error)
}

fn orderable(t: &Type) -> bool {
    matches!(
        t,
        Type::Integer | Type::Decimal | Type::Money | Type::Days | Type::Date | Type::Error
    )
}

fn summable(t: &Type) -> bool {
    matches!(
        t,
        Type::Integer | Type::Decimal | Type::Money | Type::Days | Type::Error
    )
}

fn unify_numeric(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Type::Integer, Type::Decimal) | (Type::Decimal, Type::Integer) => Some(Type::Decimal),
        (Type::Integer, Type::Days) | (Type::Days, Type::Integer) => Some(Type::Days),
        (Type::Error, t) | (t, Type::Error) => Some(t.clone()),
        _ => None,
    }
}

/// Whether an input of type `a` can be compared with `b` by `op`.
fn comparable(a: &Type, b: &Type, op: CompareOp) -> bool {
    if a.is_unknown() || b.is_unknown() {
        return true;
    }
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    let same_family = a == b
        || (a.is_numeric() && b.is_numeric())
        || matches!(
            (a, b),
            (Type::Days, Type::Integer) | (Type::Integer, Type::Days)
        );
    same_family && (!ordering || !matches!(a, Type::Bool | Type::Record(_) | Type::List(_)))
}

/// The result type of `a op b` for arithmetic operators.
fn arithmetic(op: BinOp, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    if a.is_unknown() || b.is_unknown() {
        return Some(if *a == Type::Null {
            b.clone()
        } else {
            a.clone()
        });
    }
    match (op, a, b) {
        (BinOp::Add | BinOp::Sub, Integer, Integer) => Some(Integer),
        (BinOp::Add | BinOp::Sub, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Add | BinOp::Sub, Money, Money) => Some(Money),
        (BinOp::Add | BinOp::Sub, Days, Days | Integer) | (BinOp::Add, Integer, Days) => Some(Days),
        (BinOp::Add | BinOp::Sub, Date, Days) | (BinOp::Add, Days, Date) => Some(Date),
        (BinOp::Sub, Date, Date) => Some(Days),
        (BinOp::Add, Text, Text) => Some(Text),
        (BinOp::Mul, Integer, Integer) => Some(Integer),
        (BinOp::Mul, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Mul, Money, Integer | Decimal) | (BinOp::Mul, Integer | Decimal, Money) => {
            Some(Money)
        }
        (BinOp::Mul, Days, Integer) | (BinOp::Mul, Integer, Days) => Some(Days),
        (BinOp::Div, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Div, Money, Integer | Decimal) => Some(Money),
        (BinOp::Div, Money, Money) => Some(Decimal),
        _ => None,
    }
}

/// Whether a value of type `actual` may fill an output declared `declared`.
fn fits(actual: &Type, declared: &Type) -> bool {
    actual == declared
        || actual.is_unknown()
        || *declared == Type::Error
        || matches!(
            (actual, declared),
            (Type::Integer, Type::Decimal | Type::Days)
        )
}

/// Integer constants stored as decimals where a decimal output expects them.
fn coerce(expr: TExpr, declared: &Type) -> TExpr {
    match (&expr.kind, &expr.ty, declared) {
        (TExprKind::Const(Value::Int(n)), Type::Integer, Type::Decimal) => TExpr {
            kind: TExprKind::Const(Value::Dec((*n).into())),
            ty: Type::Decimal,
        },
        _ => expr,
    }
}

/// How a value of a type is written, for a bare word where one was expected.
fn how_written(ty: &Type) -> Option<String> {
    Some(
        match ty {
            Type::Money => "money is written with its currency: `$5`, `$12.50` or `5.00 USD`",
            Type::Bool => "a boolean is written `true` or `false`",
            Type::Date => "a date is written `2026-11-22`",
            Type::Integer | Type::Decimal => "a number is written `5`, `12.5` or `20%`",
            Type::Days => "days are written `30 days` or as a number",
            _ => return None,
        }
        .into(),
    )
}

fn money_hint(value: &Type, wanted: &Type) -> Option<String> {
    match (value, wanted) {
        (Type::Integer | Type::Decimal, Type::Money) => {
            Some("write money with its currency: `$5` or `5.00 USD`".into())
        }
        (Type::Text, Type::Date) => Some("write dates bare, without quotes: `2026-11-22`".into()),
        (Type::Integer, Type::Date) => Some("write dates as `2026-11-22`".into()),
        _ => None,
    }
}

fn signature(b: Builtin) -> &'static str {
    match b {
        Builtin::Min | Builtin::Max => {
            "use min(a, b, ...) with values of one type, min(list), or min(x in list : value)"
        }
        Builtin::Abs => "use abs(number), abs(money) or abs(days)",
        Builtin::Round => "use round(x) or round(x, places) with a number or money",
        Builtin::DaysBetween => "use days_between(from_date, to_date)",
        Builtin::MonthDay => {
            "use month_day(date): 1201 for 1 December, for windows that recur every year"
        }
        Builtin::Any | Builtin::All => "use any(x in list : test) or any(list of bools)",
        Builtin::Count => "use count(list) or count(x in list where test)",
        Builtin::Sum => "use sum(list) or sum(x in list : value) with numbers, money or days",
    }
}

fn path_text(segments: &[ast::Ident], upto: &ast::Ident) -> String {
    segments
        .iter()
        .take_while(|s| !std::ptr::eq(*s, upto))
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

fn list_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
