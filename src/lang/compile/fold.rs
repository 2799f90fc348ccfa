//! Constant folding: subexpressions that read nothing of the account (no
//! field, input, local, table output or `as_of`) are replaced by their value,
//! once, at compile time; the analysis folds cells the same way. An expression
//! whose evaluation fails is left to fail per account, never folded to a guess.

use crate::lang::ir::{EachExpr, TExpr, TExprKind};
use crate::lang::semantics::eval_constant;

/// Whether an expression reads the account, inputs, locals or other tables.
fn is_constant(e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(_) => true,
        TExprKind::Account
        | TExprKind::AsOf
        | TExprKind::Local(_)
        | TExprKind::Input(_)
        | TExprKind::TableOutput { .. } => false,
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => {
            is_constant(b)
        }
        TExprKind::Binary(_, l, r) => is_constant(l) && is_constant(r),
        TExprKind::Call(_, args) => args.iter().all(is_constant),
        TExprKind::Each(_) => false,
    }
}

/// Replaces constant subexpressions by their value. An expression whose
/// evaluation fails (e.g. `1 / 0`) is left to fail per account.
pub(crate) fn fold(e: &mut TExpr) {
    if matches!(e.kind, TExprKind::Const(_)) {
        return;
    }
    if is_constant(e) {
        if let Some(v) = eval_constant(e) {
            e.kind = TExprKind::Const(v);
        }
        return;
    }
    match &mut e.kind {
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => fold(b),
        TExprKind::Binary(_, l, r) => {
            fold(l);
            fold(r);
        }
        TExprKind::Call(_, args) => args.iter_mut().for_each(fold),
        TExprKind::Each(each) => {
            let EachExpr {
                list, filter, body, ..
            } = each.as_mut();
            fold(list);
            if let Some(f) = filter {
                fold(f);
            }
            if let Some(b) = body {
                fold(b);
            }
        }
        _ => {}
    }
}
