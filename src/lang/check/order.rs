//! The evaluation order of the tables, from the references their cells make
//! (a depth-first topological sort), and the `table-cycle` error when those
//! references form a cycle. It must not resolve references: `names` records
//! them while checking cells.

use super::Checker;
use crate::lang::ir::*;
use crate::source::Span;

impl Checker<'_> {
    /// Evaluation order; reports reference cycles.
    pub(super) fn order(
        &mut self,
        tables: &[Table],
        deps: &[Vec<(u32, Span)>],
    ) -> Option<Vec<u32>> {
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
