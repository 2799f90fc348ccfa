//! Name resolution: a path's root (a local: table parameter, `for_each` item
//! or `x in list` binder; an input; `account`; `as_of`; a table), `table.output`
//! references (to a table that gives one row, not the table itself; each is
//! recorded for the evaluation order), fields of records and of lists of
//! records, and bare words as enum variants where an enum is expected. An
//! unknown name gets a did-you-mean. It must not type operators (`expr`).

use super::typing::how_written;
use super::{error_expr, list_names, Checker, Scope};
use crate::data::schema::ACCOUNT;
use crate::data::snapshot::{list_place, not_read_here};
use crate::diagnostic::did_you_mean;
use crate::lang::ir::*;
use crate::lang::syntax::ast;
use crate::source::Span;
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn variant(&mut self, scope: &Scope, e: u32, name: &str, span: Span) -> TExpr {
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

    pub(super) fn path(
        &mut self,
        scope: &mut Scope,
        segments: &[ast::Ident],
        expect: Option<&Type>,
    ) -> TExpr {
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
            // `name.output` reads a table's output (inputs, items and `account` were looked up),
            // unless the name is a misspelling of one of those (`acount.days_past_due`).
            let reads_a_table = segments.len() > 1
                && did_you_mean(&first.name, candidates.iter().map(|s| s.as_str())).is_none()
                && pipeline_record_table(&first.name).is_none();
            candidates.extend(self.headers.iter().map(|h| h.name.clone()));
            let help = if let Some(table) = pipeline_record_table(&first.name) {
                Some(format!(
                    "the pipeline gives `{}` only to the table the policy wires as `{table}`; \
                     another table decides from the account's fields",
                    first.name
                ))
            } else if self.schema.account().slot(&first.name).is_some() {
                Some(format!(
                    "account fields are reached through `account`: write `account.{}`",
                    first.name
                ))
            } else if reads_a_table {
                let tables = self.headers.iter().filter(|h| !h.guard);
                did_you_mean(&first.name, candidates.iter().map(|s| s.as_str())).or_else(|| {
                    Some(format!(
                        "was its file deleted, or its `table:` renamed? The tables are {}",
                        list_names(tables.map(|h| h.name.as_str()))
                    ))
                })
            } else {
                did_you_mean(&first.name, candidates.iter().map(|s| s.as_str()))
                    .or_else(|| match expect {
                        // A word where text is expected: text without its quotes.
                        Some(Type::Text) if segments.len() == 1 => Some(format!(
                            "text is written in double quotes inside the cell (in YAML: `'\"{}\"'`)",
                            first.name
                        )),
                        _ => expect.and_then(how_written),
                    })
            };
            self.error(
                "unknown-name",
                scope.file,
                first_span,
                if reads_a_table {
                    format!("unknown name `{}`: no table has that name", first.name)
                } else {
                    format!("unknown name `{}`", first.name)
                },
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
            if header.guard {
                let name = header.name.clone();
                self.error("table-reference", scope.file, first_span, format!("`{name}` is a guard rail: no table can read what a guard rail decides"))
                    .help = Some("guard rails apply after every strategy area and cannot be read or switched off; decide from the account's fields instead".into());
                return error_expr();
            }
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
                // A list written in its old place (`account.case.contacts`) is no typo.
                let moved = list_place(self.schema, record, &seg.name).map(|list| {
                    let not_read = not_read_here(&list);
                    format!("{not_read}; write `{list}`")
                });
                let help = moved.or_else(|| {
                    did_you_mean(&seg.name, def.fields.iter().map(|f| f.name.as_str()))
                });
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
}

fn path_text(segments: &[ast::Ident], upto: &ast::Ident) -> String {
    segments
        .iter()
        .take_while(|s| !std::ptr::eq(*s, upto))
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The policy role whose table the pipeline gives the built-in record `name`
/// (`promise.status`, `retreat.same_treatment`), if it is one.
fn pipeline_record_table(name: &str) -> Option<&'static str> {
    match name {
        crate::model::load::PROMISE_LOCAL => Some("promise_follow_up"),
        crate::model::load::RETREAT_LOCAL => Some("retreat"),
        _ => None,
    }
}
