//! Expression typing: literals (money in the schema's currency, text as an
//! enum variant in enum context), unary and binary operators (a comparison's
//! enum side is checked first), built-in calls and their `x in list` forms,
//! with each built-in's signature as the hint. Every node gets its type, or
//! `Type::Error` reported once. Which types combine is `typing`'s to say;
//! names are resolved in `names`.

use super::typing::{
    arithmetic, bool_like, comparable, money_hint, orderable, summable, unify_numeric,
};
use super::{error_expr, list_names, Checker, Scope};
use crate::diagnostic::did_you_mean;
use crate::lang::ir::*;
use crate::lang::syntax::ast::{self, Arg, CompareOp, ExprKind, Literal, UnaryOp};
use crate::source::Span;
use crate::types::{Type, Value};

impl Checker<'_> {
    pub(super) fn expr(
        &mut self,
        scope: &mut Scope,
        expr: &ast::Expr,
        expect: Option<&Type>,
    ) -> TExpr {
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
            (Builtin::NextMonthDay, [Type::Date, Type::Integer]) => {
                if let TExprKind::Const(Value::Int(md)) = &args[1].kind {
                    if crate::types::next_month_day(chrono::NaiveDate::MIN, *md).is_none() {
                        let s = scope.span(call.args_span(1));
                        self.error(
                            "arguments",
                            scope.file,
                            s,
                            format!("`{md}` is no month and day: write MMDD, 401 for 1 April, 1231 for 31 December"),
                        );
                    }
                }
                Some(Type::Date)
            }
            (Builtin::StartsWith, [Type::Text, Type::Text]) => Some(Type::Bool),
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
            let binder = &each.binder.name;
            let message = match body_ty {
                None => format!("`{name}({binder} in ...)` needs `: value` after the list"),
                Some(t) => format!("`{name}({binder} in ...)` cannot use {}", self.show(&t)),
            };
            self.error("arguments", scope.file, span, message).help =
                Some(signature(builtin).into());
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

fn is_enum_literal_candidate(e: &ast::Expr) -> bool {
    matches!(&e.kind, ExprKind::Literal(Literal::Text(_)))
        || matches!(&e.kind, ExprKind::Path(p) if p.len() == 1)
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
        Builtin::NextMonthDay => {
            "use next_month_day(date, 401): the first 1 April on or after the date, where a yearly window ends"
        }
        Builtin::StartsWith => {
            "use starts_with(text, prefix): true when the text begins with the prefix (false for null)"
        }
        Builtin::Any | Builtin::All => "use any(x in list : test) or any(list of bools)",
        Builtin::Count => "use count(list) or count(x in list where test)",
        Builtin::Sum => "use sum(list) or sum(x in list : value) with numbers, money or days",
    }
}
