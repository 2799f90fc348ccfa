//! Expressions compiled to closures: a table's computed input becomes one
//! [`Code`] whose operands are read in place (an account field path, a local,
//! a constant) or computed by the nested closure, so evaluating it walks no
//! tree and asks no node what it is; money and decimal arithmetic works on
//! `Decimal`s ([`Dec`]). A comprehension whose filter and body read its item
//! only through field paths ([`ItemCode`]), and a built-in over a projection
//! (`sum(account.items.amount)`), read the items in place: no item is copied
//! into the locals, no projected list is built, and a filter comparing a
//! field with a constant is tested without building a flag. It must mean
//! exactly what `semantics::eval` means: every operation is `semantics`' own
//! (`binary`, `unary`, `call`, `compare`, `extreme`, `decimal_op`,
//! `over_values`, `fold_each`, and the `Total` / `Extreme` its `Fold` keeps
//! for comprehensions); anything not specialised here
//! (a computed record's field) runs `eval` on the expression. Per-account
//! cell operands are compiled too (`cell::Operands`); row outputs still run
//! `eval`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use rust_decimal::Decimal;

use crate::lang::ir::{BinOp, Builtin, EachExpr, TExpr, TExprKind};
use crate::lang::semantics::{
    binary, call, compare, days_between, dec, decimal_op, eval, extreme, extreme_order, fold_each,
    is_lookup, lookup, ordering_holds, over_values, read_fields, ready, truthy, unary, zero_like,
    Env, Extreme, Result, Total, NULL,
};
use crate::lang::syntax::ast::{CompareOp, UnaryOp};
use crate::types::{Type, Value};

type Run = dyn Fn(&mut Env) -> Result<Value> + Send + Sync;

/// A compiled expression.
#[derive(Clone)]
pub struct Code(Arc<Run>);

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code")
    }
}

impl Code {
    #[inline]
    pub(crate) fn run(&self, env: &mut Env) -> Result<Value> {
        (self.0)(env)
    }

    pub(crate) fn compile(e: &TExpr) -> Code {
        if let Some(d) = Dec::compile(e) {
            return Code::new(move |env| Ok(d.run(env)?.map_or(Value::Null, Value::Dec)));
        }
        match &e.kind {
            TExprKind::Const(v) => {
                let v = v.clone();
                Code::new(move |_| Ok(v.clone()))
            }
            _ if is_lookup(e) => match Operand::of(e) {
                Operand::Account(slots) => {
                    Code::new(move |env| Ok(read_fields(env.account, &slots).clone()))
                }
                Operand::Local(i, slots) => Code::new(move |env| {
                    let local = env.locals.get(i as usize).unwrap_or(&NULL);
                    Ok(read_fields(local, &slots).clone())
                }),
                Operand::Output(table, output, slots) => Code::new(move |env| {
                    let value = env.results.get(table, output).unwrap_or(&NULL);
                    Ok(read_fields(value, &slots).clone())
                }),
                _ => {
                    let e = e.clone();
                    Code::new(move |env| {
                        ready(&e, env)?;
                        Ok(lookup(&e, env).cloned().unwrap_or_default())
                    })
                }
            },
            TExprKind::Binary(BinOp::And, l, r) => {
                let (l, r) = (Code::compile(l), Code::compile(r));
                Code::new(move |env| Ok(Value::Bool(truthy(&l.run(env)?) && truthy(&r.run(env)?))))
            }
            TExprKind::Binary(BinOp::Or, l, r) => {
                let (l, r) = (Code::compile(l), Code::compile(r));
                Code::new(move |env| Ok(Value::Bool(truthy(&l.run(env)?) || truthy(&r.run(env)?))))
            }
            TExprKind::Binary(BinOp::Compare(op), l, r)
                if is_decimal(&l.ty) && is_decimal(&r.ty) =>
            {
                let (op, l, r) = (*op, Dec::operand(l), Dec::operand(r));
                let value = |d: Option<Decimal>| d.map_or(Value::Null, Value::Dec);
                Code::new(move |env| {
                    let (a, b) = (l.get(env)?, r.get(env)?);
                    Ok(Value::Bool(compare(op, &value(a), &value(b))))
                })
            }
            TExprKind::Binary(op, l, r) => {
                let op = *op;
                let (l, r) = (Operand::of(l), Operand::of(r));
                Code::new(move |env| {
                    let (lv, rv) = (l.compute(env)?, r.compute(env)?);
                    binary(op, l.get(&lv, env), r.get(&rv, env))
                })
            }
            TExprKind::Unary(op, inner) => {
                let (op, inner) = (*op, Code::compile(inner));
                Code::new(move |env| unary(op, inner.run(env)?))
            }
            TExprKind::Call(f @ (Builtin::Min | Builtin::Max), args) if args.len() >= 2 => {
                let want = extreme_order(*f);
                let args: Vec<Operand> = args.iter().map(Operand::of).collect();
                Code::new(move |env| {
                    let mut computed: SmallVec<[Option<Value>; 4]> = SmallVec::new();
                    for a in &args {
                        computed.push(a.compute(env)?);
                    }
                    let env = &*env;
                    Ok(extreme(
                        args.iter().zip(&computed).map(|(a, v)| a.get(v, env)),
                        want,
                    ))
                })
            }
            TExprKind::Call(
                f @ (Builtin::Min
                | Builtin::Max
                | Builtin::Any
                | Builtin::All
                | Builtin::Sum
                | Builtin::Count),
                args,
            ) if matches!(&args[..], [a] if matches!(a.kind, TExprKind::Project(..))) => {
                let TExprKind::Project(list, slot) = &args[0].kind else {
                    unreachable!("matched above")
                };
                let (f, ty, slot) = (*f, e.ty.clone(), *slot);
                let list = List::compile(list);
                // As `call` over the projected list: its fields read in place.
                Code::new(move |env| {
                    let mut owned = Value::Null;
                    match list.read(env, &mut owned)? {
                        Value::List(items) if f == Builtin::Count => {
                            Ok(Value::Int(items.len() as i64))
                        }
                        Value::List(items) => {
                            over_values(f, items.iter().map(|item| read_fields(item, &[slot])), &ty)
                        }
                        _ => call(f, &[Value::Null], &ty),
                    }
                })
            }
            TExprKind::Call(Builtin::DaysBetween, args) if args.len() == 2 => {
                let (l, r) = (Operand::of(&args[0]), Operand::of(&args[1]));
                Code::new(move |env| {
                    let (lv, rv) = (l.compute(env)?, r.compute(env)?);
                    Ok(days_between(l.get(&lv, env), r.get(&rv, env)))
                })
            }
            TExprKind::Call(f, args) => {
                let (f, ty) = (*f, e.ty.clone());
                let args: Vec<Code> = args.iter().map(Code::compile).collect();
                Code::new(move |env| {
                    let mut values: SmallVec<[Value; 4]> = SmallVec::with_capacity(args.len());
                    for a in &args {
                        values.push(a.run(env)?);
                    }
                    call(f, &values, &ty)
                })
            }
            TExprKind::Each(each) => match Comprehension::compile(each) {
                Some(c) => Code::new(move |env| c.run(env)),
                None => {
                    let each = Arc::new((**each).clone());
                    let list = Code::compile(&each.list);
                    let filter = each.filter.as_ref().map(Code::compile);
                    let body = each.body.as_ref().map(Code::compile);
                    Code::new(move |env| {
                        let items = list.run(env)?;
                        let items = env.overlay.extended(&each.list, &items);
                        fold_each(
                            &each,
                            &items,
                            env,
                            |env| match &filter {
                                Some(filter) => Ok(truthy(&filter.run(env)?)),
                                None => Ok(true),
                            },
                            |env| match &body {
                                Some(body) => body.run(env),
                                None => Ok(Value::Bool(true)),
                            },
                        )
                    })
                }
            },
            _ => {
                let e = e.clone();
                Code::new(move |env| eval(&e, env))
            }
        }
    }

    fn new(run: impl Fn(&mut Env) -> Result<Value> + Send + Sync + 'static) -> Code {
        Code(Arc::new(run))
    }
}

/// A money or decimal expression compiled to work on `Decimal`s (`None`:
/// null), so that arithmetic on amounts builds no `Value` between steps. It
/// covers what money arithmetic is made of (amounts and numbers read from the
/// account or written as constants, `+ - * /`, negation, `min` / `max` of
/// amounts, `abs`, `round`); any other operand is compiled as [`Code`] and
/// converted as `semantics` converts it (an integer is widened, anything
/// else is null).
#[derive(Clone)]
struct Dec(Arc<DecRun>);

type DecRun = dyn Fn(&mut Env) -> Result<Option<Decimal>> + Send + Sync;

fn is_decimal(ty: &Type) -> bool {
    matches!(ty, Type::Money | Type::Decimal)
}

impl Dec {
    #[inline]
    fn run(&self, env: &mut Env) -> Result<Option<Decimal>> {
        (self.0)(env)
    }

    fn new(run: impl Fn(&mut Env) -> Result<Option<Decimal>> + Send + Sync + 'static) -> Dec {
        Dec(Arc::new(run))
    }

    /// A money or decimal expression's own operation; `None` for anything
    /// else (a field read, a constant, a comprehension...).
    fn compile(e: &TExpr) -> Option<Dec> {
        if !is_decimal(&e.ty) {
            return None;
        }
        Some(match &e.kind {
            TExprKind::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), l, r)
                if is_decimal(&l.ty) || is_decimal(&r.ty) =>
            {
                let (op, l, r) = (*op, Dec::operand(l), Dec::operand(r));
                // As `semantics`: null when either side is null.
                Dec::new(move |env| match (l.get(env)?, r.get(env)?) {
                    (Some(x), Some(y)) => decimal_op(op, x, y).map(Some),
                    _ => Ok(None),
                })
            }
            TExprKind::Unary(UnaryOp::Neg, inner) => {
                let inner = Dec::operand(inner);
                Dec::new(move |env| Ok(inner.get(env)?.map(|d| -d)))
            }
            TExprKind::Call(f @ (Builtin::Min | Builtin::Max), args)
                if args.len() >= 2 && args.iter().all(|a| is_decimal(&a.ty)) =>
            {
                let want = extreme_order(*f);
                let args: Vec<DecArg> = args.iter().map(Dec::operand).collect();
                // As `semantics::extreme`: nulls are skipped, the first of equals kept.
                Dec::new(move |env| {
                    let mut best: Option<Decimal> = None;
                    for a in &args {
                        if let Some(v) = a.get(env)? {
                            if best.is_none_or(|b| crate::decimal::compare(&v, &b) == want) {
                                best = Some(v);
                            }
                        }
                    }
                    Ok(best)
                })
            }
            TExprKind::Call(Builtin::Abs, args) if args.len() == 1 => {
                let x = Dec::operand(&args[0]);
                Dec::new(move |env| Ok(x.get(env)?.map(|d| d.abs())))
            }
            _ => return None,
        })
    }

    /// An operand of a decimal operation: a constant, an account field, an
    /// operation of its own, or any other expression's value converted.
    fn operand(e: &TExpr) -> DecArg {
        if let Some(d) = Dec::compile(e) {
            return DecArg::Dec(d);
        }
        if let TExprKind::Each(each) = &e.kind {
            if let Some(c) = Comprehension::compile(each) {
                return DecArg::Each(Box::new(c));
            }
        }
        match Operand::of(e) {
            Operand::Const(v) => DecArg::Const(dec(&v)),
            Operand::Account(slots) => DecArg::Account(slots),
            Operand::Local(i, slots) => DecArg::Local(i, slots),
            Operand::AsOf => DecArg::Const(None),
            Operand::Output(table, output, slots) => DecArg::Dec(Dec::new(move |env| {
                Ok(dec(read_fields(
                    env.results.get(table, output).unwrap_or(&NULL),
                    &slots,
                )))
            })),
            Operand::Lookup(e) => DecArg::Dec(Dec::new(move |env| {
                ready(&e, env)?;
                Ok(lookup(&e, env).and_then(dec))
            })),
            Operand::Computed(code) => DecArg::Dec(Dec::new(move |env| Ok(dec(&code.run(env)?)))),
        }
    }
}

/// An operand of a decimal operation, read in place by the operation's own
/// code when it is a constant or a field (no call per operand).
enum DecArg {
    Const(Option<Decimal>),
    /// A field path of the account.
    Account(Box<[u32]>),
    /// A local or a field path of one.
    Local(u32, Box<[u32]>),
    /// A `sum`, `min` or `max` comprehension.
    Each(Box<Comprehension>),
    Dec(Dec),
}

impl DecArg {
    #[inline(always)]
    fn get(&self, env: &mut Env) -> Result<Option<Decimal>> {
        Ok(match self {
            DecArg::Const(d) => *d,
            DecArg::Account(slots) => dec(read_fields(env.account, slots)),
            DecArg::Local(i, slots) => dec(read_fields(
                env.locals.get(*i as usize).unwrap_or(&NULL),
                slots,
            )),
            DecArg::Each(c) => dec(&c.run(env)?),
            DecArg::Dec(d) => return d.run(env),
        })
    }
}

/// An operand of an operation: read in place, or computed.
enum Operand {
    /// A field path of the account (outermost first).
    Account(Box<[u32]>),
    /// A local (a comprehension's item, a param) or a field path of one.
    Local(u32, Box<[u32]>),
    Const(Value),
    /// `as_of`.
    AsOf,
    /// An earlier table's output, or a field path of one.
    Output(u32, u32, Box<[u32]>),
    /// Another value named in place (an input, a field of one).
    Lookup(TExpr),
    Computed(Code),
}

impl Operand {
    fn of(e: &TExpr) -> Operand {
        if let TExprKind::Const(v) = &e.kind {
            return Operand::Const(v.clone());
        }
        if !is_lookup(e) {
            return Operand::Computed(Code::compile(e));
        }
        let (at, slots) = super::field_path(e);
        match at.kind {
            TExprKind::Account => Operand::Account(slots.into()),
            TExprKind::Local(i) => Operand::Local(i, slots.into()),
            TExprKind::AsOf if slots.is_empty() => Operand::AsOf,
            TExprKind::TableOutput { table, output } => {
                Operand::Output(table, output, slots.into())
            }
            _ => Operand::Lookup(e.clone()),
        }
    }

    /// Whether reading it cannot fail (it computes nothing).
    fn infallible(&self) -> bool {
        matches!(
            self,
            Operand::Const(_)
                | Operand::Account(_)
                | Operand::Local(..)
                | Operand::AsOf
                | Operand::Output(..)
        )
    }

    /// The operand's value when it must be computed; `None` when it is read in place.
    #[inline(always)]
    fn compute(&self, env: &mut Env) -> Result<Option<Value>> {
        match self {
            Operand::Computed(code) => code.run(env).map(Some),
            Operand::Lookup(e) => ready(e, env).map(|_| None),
            _ => Ok(None),
        }
    }

    #[inline(always)]
    fn get<'v>(&'v self, computed: &'v Option<Value>, env: &'v Env) -> &'v Value {
        match (self, computed) {
            (_, Some(v)) => v,
            (Operand::Account(slots), None) => read_fields(env.account, slots),
            (Operand::Local(i, slots), None) => {
                read_fields(env.locals.get(*i as usize).unwrap_or(&NULL), slots)
            }
            (Operand::Const(v), None) => v,
            (Operand::AsOf, None) => &env.as_of,
            (Operand::Output(table, output, slots), None) => {
                read_fields(env.results.get(*table, *output).unwrap_or(&NULL), slots)
            }
            (Operand::Lookup(e), None) => lookup(e, env).unwrap_or(&NULL),
            (Operand::Computed(_), None) => &NULL,
        }
    }
}

/// The list a comprehension or projection reads: an account field path in
/// place, anything else computed.
enum List {
    Account(Box<[u32]>),
    Computed(Code),
}

impl List {
    fn compile(e: &TExpr) -> List {
        match Operand::of(e) {
            Operand::Account(slots) => List::Account(slots),
            _ => List::Computed(Code::compile(e)),
        }
    }

    /// The list's value: the account's in place, or computed into `owned`.
    #[inline(always)]
    fn read<'a: 'v, 'v>(&self, env: &mut Env<'a>, owned: &'v mut Value) -> Result<&'v Value> {
        Ok(match self {
            List::Account(slots) => {
                let account: &'v Value = env.account;
                read_fields(account, slots)
            }
            List::Computed(code) => {
                *owned = code.run(env)?;
                owned
            }
        })
    }
}

type ItemRun = dyn Fn(&Value, &mut Env) -> Result<Value> + Send + Sync;

/// A comprehension's filter or body compiled against its item, which it reads
/// in place instead of from a copy bound in the locals: for parts that read
/// the item only through field paths, in operations that `semantics` does
/// on values (`and`, `or`, comparisons, arithmetic, `not`, built-ins). A part
/// that does not read the item is [`Code`].
enum ItemCode {
    /// A field path of the item (empty: the item itself).
    Field(Box<[u32]>),
    Const(Value),
    /// A value named outside the item (`as_of`, an account field, an input).
    Outer(Operand),
    Code(Code),
    /// `days_between` of two parts that cannot fail (nor can it).
    Days(Box<(ItemCode, ItemCode)>),
    Run(Arc<ItemRun>),
}

impl ItemCode {
    fn compile(e: &TExpr, local: u32) -> Option<ItemCode> {
        if !mentions_local(e, local) {
            return Some(match &e.kind {
                TExprKind::Const(v) => ItemCode::Const(v.clone()),
                _ if is_lookup(e) => ItemCode::Outer(Operand::of(e)),
                _ => ItemCode::Code(Code::compile(e)),
            });
        }
        if let Some(slots) = item_path(e, local) {
            return Some(ItemCode::Field(slots));
        }
        let run = |f: Box<ItemRun>| Some(ItemCode::Run(f.into()));
        match &e.kind {
            TExprKind::Binary(BinOp::And, l, r) => {
                let (l, r) = (ItemCode::compile(l, local)?, ItemCode::compile(r, local)?);
                run(Box::new(move |item, env| {
                    Ok(Value::Bool(
                        truthy(&*l.get(item, env)?) && truthy(&*r.get(item, env)?),
                    ))
                }))
            }
            TExprKind::Binary(BinOp::Or, l, r) => {
                let (l, r) = (ItemCode::compile(l, local)?, ItemCode::compile(r, local)?);
                run(Box::new(move |item, env| {
                    Ok(Value::Bool(
                        truthy(&*l.get(item, env)?) || truthy(&*r.get(item, env)?),
                    ))
                }))
            }
            TExprKind::Binary(op, l, r) => {
                let (op, l, r) = (
                    *op,
                    ItemCode::compile(l, local)?,
                    ItemCode::compile(r, local)?,
                );
                run(Box::new(move |item, env| {
                    let a = l.get(item, env)?;
                    let b = r.get(item, env)?;
                    binary(op, &a, &b)
                }))
            }
            TExprKind::Unary(op, inner) => {
                let (op, inner) = (*op, ItemCode::compile(inner, local)?);
                run(Box::new(move |item, env| {
                    unary(op, inner.get(item, env)?.into_owned())
                }))
            }
            TExprKind::Call(Builtin::DaysBetween, args) if args.len() == 2 => {
                let (l, r) = (
                    ItemCode::compile(&args[0], local)?,
                    ItemCode::compile(&args[1], local)?,
                );
                if l.infallible() && r.infallible() {
                    return Some(ItemCode::Days(Box::new((l, r))));
                }
                run(Box::new(move |item, env| {
                    let a = l.get(item, env)?;
                    Ok(days_between(&a, &*r.get(item, env)?))
                }))
            }
            TExprKind::Call(f, args) => {
                let (f, ty) = (*f, e.ty.clone());
                let args = args
                    .iter()
                    .map(|a| ItemCode::compile(a, local))
                    .collect::<Option<Vec<_>>>()?;
                run(Box::new(move |item, env| {
                    let mut values: SmallVec<[Value; 4]> = SmallVec::with_capacity(args.len());
                    for a in &args {
                        values.push(a.get(item, env)?.into_owned());
                    }
                    call(f, &values, &ty)
                }))
            }
            _ => None,
        }
    }

    /// Whether it cannot fail: it reads a field or is a constant (or
    /// `days_between` of such parts).
    fn infallible(&self) -> bool {
        match self {
            ItemCode::Field(_) | ItemCode::Const(_) | ItemCode::Days(_) => true,
            ItemCode::Outer(op) => op.infallible(),
            ItemCode::Code(_) | ItemCode::Run(_) => false,
        }
    }

    #[inline(always)]
    fn get<'v>(&'v self, item: &'v Value, env: &mut Env) -> Result<Cow<'v, Value>> {
        Ok(match self {
            ItemCode::Field(slots) => Cow::Borrowed(read_fields(item, slots)),
            ItemCode::Const(v) => Cow::Borrowed(v),
            ItemCode::Outer(op) => Cow::Owned(match op.compute(env)? {
                Some(v) => v,
                None => op.get(&None, env).clone(),
            }),
            ItemCode::Code(code) => Cow::Owned(code.run(env)?),
            ItemCode::Run(run) => Cow::Owned(run(item, env)?),
            ItemCode::Days(parts) => Cow::Owned(ItemCode::days(parts, item, env)?),
        })
    }

    /// `days_between` of two parts: out of line, so that `get` is not recursive.
    #[inline(never)]
    fn days(parts: &(ItemCode, ItemCode), item: &Value, env: &mut Env) -> Result<Value> {
        let a = parts.0.get(item, env)?;
        Ok(days_between(&a, &*parts.1.get(item, env)?))
    }
}

/// A comprehension whose filter and body read its item only through field
/// paths ([`ItemCode`]), run as `fold_each` and its `Fold` run it, but with
/// the item read in place and a loop of its own per function: `any`, `all`
/// and `count` test the item ([`Test`]) without building a flag, `sum`
/// adds amounts in place (`Total`), `min` / `max` keep the extreme
/// (`Extreme`). When no part can fail (a field read, compared with a
/// constant), `any` and `all` stop at the first item that decides them;
/// otherwise every item is evaluated, so that an error in any is raised.
struct Comprehension {
    function: Builtin,
    list: List,
    filter: Option<Test>,
    /// `any` / `all` / `count`: the body tested.
    test: Option<Test>,
    /// `sum` / `min` / `max`: the body's value.
    body: Option<ItemCode>,
    /// `sum` of no value.
    zero: Value,
    /// Whether no part can fail.
    infallible: bool,
}

impl Comprehension {
    fn compile(each: &EachExpr) -> Option<Comprehension> {
        let local = each.local;
        let filter = match &each.filter {
            Some(f) => Some(Test::compile(f, local)?),
            None => None,
        };
        let counts = matches!(each.function, Builtin::Any | Builtin::All | Builtin::Count);
        let (test, body) = match &each.body {
            Some(b) if counts => (Some(Test::compile(b, local)?), None),
            Some(b) => (None, Some(ItemCode::compile(b, local)?)),
            None => (None, None),
        };
        let infallible = filter.as_ref().is_none_or(Test::infallible)
            && test.as_ref().is_none_or(Test::infallible)
            && body.as_ref().is_none_or(ItemCode::infallible);
        Some(Comprehension {
            function: each.function,
            list: List::compile(&each.list),
            filter,
            test,
            body,
            zero: each
                .body
                .as_ref()
                .map_or(Value::Int(0), |b| zero_like(&b.ty)),
            infallible,
        })
    }

    /// Whether `item` passes the filter.
    #[inline(always)]
    fn passes(&self, item: &Value, env: &mut Env) -> Result<bool> {
        match &self.filter {
            Some(filter) => filter.holds(item, env),
            None => Ok(true),
        }
    }

    /// Whether `item`'s body is true (no body: true).
    #[inline(always)]
    fn tested(&self, item: &Value, env: &mut Env) -> Result<bool> {
        match &self.test {
            Some(test) => test.holds(item, env),
            None => Ok(true),
        }
    }

    fn run(&self, env: &mut Env) -> Result<Value> {
        let mut owned = Value::Null;
        let list = self.list.read(env, &mut owned)?;
        // What the caller adds to an account list is read after its own items.
        let added = match &self.list {
            List::Account(slots) => env.overlay.on(slots),
            List::Computed(_) => &[],
        };
        let own: &[Value] = match list {
            Value::List(items) => items,
            Value::Null if !added.is_empty() => &[],
            _ => return Ok(Value::Null),
        };
        let items = || own.iter().chain(added);
        match self.function {
            Builtin::Any | Builtin::All => {
                // `any`: some item passes with a true body; `all`: none with a false one.
                let any = self.function == Builtin::Any;
                let mut decided = false;
                for item in items() {
                    if !self.passes(item, env)? {
                        continue;
                    }
                    if self.tested(item, env)? == any {
                        decided = true;
                        if self.infallible {
                            break;
                        }
                    }
                }
                Ok(Value::Bool(decided == any))
            }
            Builtin::Count => {
                let mut n = 0;
                for item in items() {
                    if self.passes(item, env)? && self.tested(item, env)? {
                        n += 1;
                    }
                }
                Ok(Value::Int(n))
            }
            Builtin::Sum => {
                let mut total = Total::default();
                for item in items() {
                    if self.passes(item, env)? {
                        total.add(&*self.value(item, env)?);
                    }
                }
                total.finish(self.zero.clone())
            }
            Builtin::Min | Builtin::Max => {
                let mut best = Extreme::new(extreme_order(self.function));
                for item in items() {
                    if self.passes(item, env)? {
                        best.offer(&*self.value(item, env)?);
                    }
                }
                Ok(best.finish())
            }
            Builtin::Abs
            | Builtin::Round
            | Builtin::DaysBetween
            | Builtin::MonthDay
            | Builtin::NextMonthDay
            | Builtin::StartsWith => Ok(Value::Null),
        }
    }

    /// `item`'s body value (no body: true).
    #[inline(always)]
    fn value<'v>(&'v self, item: &'v Value, env: &mut Env) -> Result<Cow<'v, Value>> {
        match &self.body {
            Some(body) => body.get(item, env),
            None => Ok(Cow::Owned(Value::Bool(true))),
        }
    }
}

/// A comprehension's filter or an `any` / `all` / `count` body: what
/// `truthy` says of its value, without building the value. Comparisons of a
/// field of the item with a constant (`sa.debt_class = water`, `sa.arrears >
/// $5`) or of the item's value with one read outside it (`sa.until >=
/// as_of`), and `and` / `or` of them, are tested in place; anything else is
/// its [`ItemCode`]'s value tested.
enum Test {
    /// A field path of the item.
    Field(Box<[u32]>),
    /// A field path of the item is (`true`: `=`) or is not (`!=`) a variant.
    Variant(Box<[u32]>, u32, bool),
    /// A field path of the item compared with a constant amount (also as a value).
    Amount(Box<[u32]>, CompareOp, Decimal, Value),
    /// A field path of the item compared with any other constant.
    Compare(Box<[u32]>, CompareOp, Value),
    /// A field path of the item compared with a value read in place
    /// outside it (`sa.until >= as_of`).
    FieldWith(Box<[u32]>, CompareOp, Operand),
    /// A value of the item compared with one that does not read it.
    With(ItemCode, CompareOp, Operand),
    And(Box<Test>, Box<Test>),
    Or(Box<Test>, Box<Test>),
    Value(ItemCode),
}

impl Test {
    fn compile(e: &TExpr, local: u32) -> Option<Test> {
        if let Some(slots) = item_path(e, local) {
            return Some(Test::Field(slots));
        }
        Some(match &e.kind {
            TExprKind::Binary(BinOp::And, l, r) => Test::And(
                Box::new(Test::compile(l, local)?),
                Box::new(Test::compile(r, local)?),
            ),
            TExprKind::Binary(BinOp::Or, l, r) => Test::Or(
                Box::new(Test::compile(l, local)?),
                Box::new(Test::compile(r, local)?),
            ),
            TExprKind::Binary(BinOp::Compare(op), l, r) => match (item_path(l, local), &r.kind) {
                (Some(slots), TExprKind::Const(Value::Enum(v)))
                    if matches!(op, CompareOp::Eq | CompareOp::Ne) =>
                {
                    Test::Variant(slots, *v, *op == CompareOp::Eq)
                }
                (Some(slots), TExprKind::Const(c @ Value::Dec(d))) => {
                    Test::Amount(slots, *op, *d, c.clone())
                }
                (Some(slots), TExprKind::Const(c)) => Test::Compare(slots, *op, c.clone()),
                _ if !mentions_local(r, local) => match (item_path(l, local), Operand::of(r)) {
                    (Some(slots), r) if r.infallible() => Test::FieldWith(slots, *op, r),
                    (_, r) => Test::With(ItemCode::compile(l, local)?, *op, r),
                },
                _ => Test::Value(ItemCode::compile(e, local)?),
            },
            _ => Test::Value(ItemCode::compile(e, local)?),
        })
    }

    fn infallible(&self) -> bool {
        match self {
            Test::Field(_)
            | Test::Variant(..)
            | Test::Amount(..)
            | Test::Compare(..)
            | Test::FieldWith(..) => true,
            Test::With(l, _, r) => l.infallible() && r.infallible(),
            Test::And(l, r) | Test::Or(l, r) => l.infallible() && r.infallible(),
            Test::Value(code) => code.infallible(),
        }
    }

    /// The test; a field compared with a constant inline, anything else out of line.
    #[inline(always)]
    fn holds(&self, item: &Value, env: &mut Env) -> Result<bool> {
        Ok(match self {
            Test::Field(slots) => truthy(read_fields(item, slots)),
            // As `compare`: a null is neither equal nor unequal to a variant.
            Test::Variant(slots, v, true) => {
                matches!(read_fields(item, slots), Value::Enum(x) if x == v)
            }
            Test::Variant(slots, v, false) => match read_fields(item, slots) {
                Value::Enum(x) => x != v,
                Value::Null => false,
                _ => true,
            },
            Test::Amount(slots, op, d, c) => match read_fields(item, slots) {
                Value::Dec(x) => ordering_holds(*op, crate::decimal::compare(x, d)),
                other => compare(*op, other, c),
            },
            _ => return self.holds_otherwise(item, env),
        })
    }

    #[inline(never)]
    fn holds_otherwise(&self, item: &Value, env: &mut Env) -> Result<bool> {
        Ok(match self {
            Test::Compare(slots, op, c) => compare(*op, read_fields(item, slots), c),
            // Read in place: `r` computes nothing (`Operand::infallible`).
            Test::FieldWith(slots, op, r) => {
                compare(*op, read_fields(item, slots), r.get(&None, env))
            }
            Test::With(l, op, r) => {
                let a = l.get(item, env)?;
                let computed = r.compute(env)?;
                compare(*op, &a, r.get(&computed, env))
            }
            // As `truthy(l) && truthy(r)`: `r` is not evaluated when `l` is false.
            Test::And(l, r) => l.holds(item, env)? && r.holds(item, env)?,
            Test::Or(l, r) => l.holds(item, env)? || r.holds(item, env)?,
            Test::Value(code) => truthy(&*code.get(item, env)?),
            Test::Field(_) | Test::Variant(..) | Test::Amount(..) => self.holds(item, env)?,
        })
    }
}

/// The field path `e` reads of local `local` (outermost first), if it is one.
fn item_path(e: &TExpr, local: u32) -> Option<Box<[u32]>> {
    let (root, slots) = super::field_path(e);
    matches!(root.kind, TExprKind::Local(i) if i == local).then(|| slots.into())
}

/// Whether `e` reads local `local` anywhere.
pub(crate) fn mentions_local(e: &TExpr, local: u32) -> bool {
    match &e.kind {
        TExprKind::Local(i) => *i == local,
        TExprKind::Const(_)
        | TExprKind::Account
        | TExprKind::AsOf
        | TExprKind::Input(_)
        | TExprKind::TableOutput { .. } => false,
        TExprKind::Field(base, _) | TExprKind::Project(base, _) | TExprKind::Unary(_, base) => {
            mentions_local(base, local)
        }
        TExprKind::Binary(_, l, r) => mentions_local(l, local) || mentions_local(r, local),
        TExprKind::Call(_, args) => args.iter().any(|a| mentions_local(a, local)),
        TExprKind::Each(each) => [Some(&each.list), each.filter.as_ref(), each.body.as_ref()]
            .into_iter()
            .flatten()
            .any(|e| mentions_local(e, local)),
    }
}
