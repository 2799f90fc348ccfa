//! Expressions compiled to closures: a computed input, a row's computed
//! output or a per-account cell operand becomes one [`Code`] whose operands
//! are read in place (an account field path, a constant) or computed by the
//! nested closure, so evaluating it walks no tree and asks no node what it
//! is. It must mean exactly what `semantics::eval` means: every operation is
//! `semantics`' own (`binary`, `unary`, `call`, `extreme`); anything not
//! specialised here (comprehensions, projections, a list's field) runs
//! `eval` on the expression.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::lang::ir::{BinOp, Builtin, TExpr, TExprKind};
use crate::lang::semantics::{
    binary, call, eval, extreme, is_lookup, lookup, read_fields, truthy, unary, Env, Result, NULL,
};
use crate::types::Value;

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
        match &e.kind {
            TExprKind::Const(v) => {
                let v = v.clone();
                Code::new(move |_| Ok(v.clone()))
            }
            _ if is_lookup(e) => match Operand::of(e) {
                Operand::Account(slots) => {
                    Code::new(move |env| Ok(read_fields(env.account, &slots).clone()))
                }
                _ => {
                    let e = e.clone();
                    Code::new(move |env| Ok(lookup(&e, env).cloned().unwrap_or_default()))
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
                let want = if *f == Builtin::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
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

/// An operand of an operation: read in place, or computed.
enum Operand {
    /// A field path of the account (outermost first).
    Account(Box<[u32]>),
    Const(Value),
    /// Another value named in place (`as_of`, an input, a local, a table's output).
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
        let mut slots = Vec::new();
        let mut at = e;
        while let TExprKind::Field(base, slot) = &at.kind {
            slots.push(*slot);
            at = base;
        }
        match at.kind {
            TExprKind::Account => {
                slots.reverse();
                Operand::Account(slots.into())
            }
            _ => Operand::Lookup(e.clone()),
        }
    }

    /// The operand's value when it must be computed; `None` when it is read in place.
    #[inline(always)]
    fn compute(&self, env: &mut Env) -> Result<Option<Value>> {
        match self {
            Operand::Computed(code) => code.run(env).map(Some),
            _ => Ok(None),
        }
    }

    #[inline(always)]
    fn get<'v>(&'v self, computed: &'v Option<Value>, env: &'v Env) -> &'v Value {
        match (self, computed) {
            (_, Some(v)) => v,
            (Operand::Account(slots), None) => read_fields(env.account, slots),
            (Operand::Const(v), None) => v,
            (Operand::Lookup(e), None) => lookup(e, env).unwrap_or(&NULL),
            (Operand::Computed(_), None) => &NULL,
        }
    }
}
