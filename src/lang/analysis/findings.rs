//! The findings about one table's rows: gaps, overlaps (`unique`, `any`),
//! masked rows (`first`, `priority`), subsumed and duplicate rows (`collect`,
//! `rule_order`), its undecided cells, and `not-analysed` when a budget runs
//! out or an answer depends on an undecided cell. It reads the boxes through
//! `search` and must never report a finding that does not hold for every account.

use std::collections::HashMap;

use super::bits::Bits;
use super::cell::constant;
use super::search::{common, contained, first_point, intersect, merge_regions, OverBudget, Search};
use super::show::{quoted_list, unknown_cells_text};
use super::space::{build_space, Bound, Space};
use super::{Counterexample, Finding, PAIR_BUDGET, SPACE_WORDS_BUDGET};
use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{HitPolicy, Table};
use crate::types::Value;

/// Gap regions collected per table before merging; more are counted as "more".
const GAPS_COLLECTED: usize = 100;
/// Gap regions reported per table.
const GAPS_SHOWN: usize = 10;
/// Unknown cells reported per table.
const UNKNOWN_SHOWN: usize = 10;

/// Outputs as constants, when every output is one.
fn const_outputs(row: &crate::lang::ir::Row) -> Option<Vec<Value>> {
    row.outputs
        .iter()
        .map(|e| {
            let mut e = e.clone();
            crate::lang::compile::fold(&mut e);
            constant(&e).cloned()
        })
        .collect()
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equals(y))
}

/// Gap, overlap, masked, subsumed and duplicate rows of one table, and its unknown cells.
pub(crate) fn analyse_table(
    schema: &Schema,
    table: &Table,
    table_index: u32,
    leaf_budget: u64,
) -> Vec<Finding> {
    analyse_table_for(schema, table, table_index, leaf_budget, false)
}

/// [`analyse_table`]; with `errors_only`, only what can be an error (gaps,
/// overlaps), so that a large `first` table costs a command's start-up nothing.
pub(crate) fn analyse_table_for(
    schema: &Schema,
    table: &Table,
    table_index: u32,
    leaf_budget: u64,
    errors_only: bool,
) -> Vec<Finding> {
    let too_large = || {
        Finding::plain(Diagnostic::warning(
            "not-analysed",
            &table.file,
            table.span,
            format!(
                "table `{}` was not checked for gaps and overlaps: the table is too large to analyse exactly (more than {leaf_budget} cases, {PAIR_BUDGET} row pairs or {} MiB of row boxes)",
                table.name,
                SPACE_WORDS_BUDGET >> 17
            ),
        )
        .with_help("the analysis only makes exact claims; this table needs review by hand"))
    };
    let Ok(space) = build_space(schema, table) else {
        return vec![too_large()];
    };
    let mut search = Search {
        space: &space,
        leaves: leaf_budget,
        pairs: PAIR_BUDGET,
    };
    let mut found = match findings(table, table_index, &mut search, errors_only) {
        Ok(found) => found,
        // The warnings' searches (masked, subsumed rows) spent the budget: the
        // error-only pass, with a budget of its own, is what every evaluating
        // command refuses on (`analysis::errors`), so lint reports its errors too.
        Err(OverBudget) if !errors_only => {
            let mut search = Search {
                space: &space,
                leaves: leaf_budget,
                pairs: PAIR_BUDGET,
            };
            match findings(table, table_index, &mut search, true) {
                Ok(mut errors) => {
                    errors.push(Finding::plain(
                        Diagnostic::warning(
                            "not-analysed",
                            &table.file,
                            table.span,
                            format!(
                                "table `{}` was checked for gaps and overlaps only, not for masked, redundant or duplicate rows: the table is too large for that search (more than {leaf_budget} cases or {PAIR_BUDGET} row pairs)",
                                table.name
                            ),
                        )
                        .with_help("the analysis only makes exact claims; review this table's rows by hand"),
                    ));
                    errors
                }
                Err(OverBudget) => vec![too_large()],
            }
        }
        Err(OverBudget) => vec![too_large()],
    };
    if !errors_only {
        found.extend(unknown_cells(table, &space));
    }
    found
}

/// One `unknown-cell` note per cell the analysis could not decide (at most [`UNKNOWN_SHOWN`]).
fn unknown_cells(table: &Table, space: &Space) -> Vec<Finding> {
    let total = space.unknown.len();
    space
        .unknown
        .iter()
        .take(UNKNOWN_SHOWN)
        .enumerate()
        .map(|(k, u)| {
            let row = &table.rows[u.row];
            let cell = &row.cells[u.col];
            let mut message = format!(
                "row `{}`: cell `{}` of column `{}` is not analysed exactly: {}",
                row.id, cell.text, space.cols[u.col].name, u.why
            );
            if k + 1 == UNKNOWN_SHOWN && total > UNKNOWN_SHOWN {
                message.push_str(&format!(
                    " ({} more such cells in table `{}` are not listed)",
                    total - UNKNOWN_SHOWN,
                    table.name
                ));
            }
            Finding::plain(
                Diagnostic::info("unknown-cell", &table.file, cell.span, message).with_help(format!(
                    "the analysis takes this cell as possibly matching any value and as certainly matching none, and reports a finding only when it holds either way; where this cell decides whether row `{}` is hidden, hides, repeats or overlaps another row, check by hand",
                    row.id
                )),
            )
        })
        .collect()
}

#[allow(clippy::needless_range_loop)]
fn findings(
    table: &Table,
    t: u32,
    s: &mut Search,
    errors_only: bool,
) -> Result<Vec<Finding>, OverBudget> {
    let mut out = Vec::new();
    let n = table.rows.len();
    let space = s.space;
    let hit = table.hit.name();
    let single = matches!(
        table.hit,
        HitPolicy::First | HitPolicy::Unique | HitPolicy::Priority | HitPolicy::Any
    );
    let id = |i: usize| table.rows[i].id.as_str();
    let found = |d: Diagnostic, row: Option<usize>, point: Option<Vec<usize>>| Finding {
        counterexample: point.map(|p| Counterexample {
            table: t,
            row: row.map(|r| table.rows[r].id.clone()),
            code: d.code,
            inputs: space.point_values(&p),
        }),
        diagnostic: d,
    };
    let may = |r: usize| space.boxes(Bound::May, r);
    let must = |r: usize| space.boxes(Bound::Must, r);
    let all: Vec<usize> = (0..n).collect();
    if single && table.default.is_none() {
        let full: Vec<Bits> = space
            .cols
            .iter()
            .map(|c| Bits::full(c.shown.len()))
            .collect();
        // A gap is a point no row may match, whatever its unknown cells do.
        let mut gaps = Vec::new();
        let complete = match s.uncovered(&full, &all, Bound::May, GAPS_COLLECTED, &mut gaps) {
            Ok(()) => gaps.len() < GAPS_COLLECTED,
            Err(OverBudget) if !gaps.is_empty() => false,
            Err(e) => return Err(e),
        };
        merge_regions(&mut gaps);
        let total = gaps.len();
        for (k, gap) in gaps.iter().take(GAPS_SHOWN).enumerate() {
            let which = match (total, complete) {
                (1, true) => String::new(),
                (_, true) => format!(" ({} of {total})", k + 1),
                (_, false) => format!(" ({} of more than {total})", k + 1),
            };
            let region = s.show_region(gap);
            let point = first_point(gap);
            let mut help = format!(
                "under `hit: {hit}` an account no row matches cannot be evaluated; add a row `when: {region}` or a `default`"
            );
            if k + 1 == total.min(GAPS_SHOWN) && (total > GAPS_SHOWN || !complete) {
                help.push_str(&format!(
                    "; table `{}` has {} more gaps, not shown",
                    table.name,
                    if complete {
                        (total - GAPS_SHOWN).to_string()
                    } else {
                        "yet".into()
                    }
                ));
            }
            let d = Diagnostic::error(
                "table-gap",
                &table.file,
                table.span,
                format!(
                    "table `{}` has a gap{which}: no row matches `{region}`, e.g. `{}`",
                    table.name,
                    s.show(&point)
                ),
            )
            .with_help(help);
            out.push(found(d, None, Some(point)));
        }
        if gaps.is_empty() && !space.unknown.is_empty() {
            let mut maybe = Vec::new();
            s.uncovered(&full, &all, Bound::Must, 1, &mut maybe)?;
            if let Some(gap) = maybe.first() {
                out.push(Finding::plain(
                    Diagnostic::warning(
                        "not-analysed",
                        &table.file,
                        table.span,
                        format!(
                            "table `{}` was not fully checked for gaps: whether a row matches `{}`, e.g. `{}`, depends on cells the analysis cannot decide: {}",
                            table.name,
                            s.show_region(gap),
                            s.show(&first_point(gap)),
                            unknown_cells_text(table, space)
                        ),
                    )
                    .with_help("the analysis only makes exact claims; check by hand that some row matches these inputs, or add a `default`"),
                ));
            }
        }
    }
    let outputs: Vec<Option<Vec<Value>>> = table.rows.iter().map(const_outputs).collect();
    let rank = |r: usize| -> Option<u32> {
        let p = table.priority_output? as usize;
        match outputs[r].as_ref()?.get(p)? {
            Value::Enum(i) => Some(*i),
            _ => None,
        }
    };
    let mut possible_overlap: Option<(usize, usize)> = None;
    let mut conditions: HashMap<Vec<(&Bits, Option<&str>)>, Vec<usize>> = HashMap::new();
    // Only overlaps are errors among the row findings.
    let rows = if errors_only && !matches!(table.hit, HitPolicy::Unique | HitPolicy::Any) {
        0
    } else {
        n
    };
    for j in 0..rows {
        let row = &table.rows[j];
        if may(j).iter().any(Bits::is_empty) {
            out.push(found(
                Diagnostic::warning(
                    "masked-row",
                    &table.file,
                    row.span,
                    format!(
                        "row `{}` can never fire: no input matches all of its cells",
                        row.id
                    ),
                )
                .with_help("a cell excludes every value; fix the cell or delete the row"),
                None,
                None,
            ));
            continue;
        }
        match table.hit {
            HitPolicy::Unique | HitPolicy::Any => {
                for i in 0..j {
                    s.tick_pair()?;
                    let conflict = table.hit == HitPolicy::Unique
                        || match (&outputs[i], &outputs[j]) {
                            (Some(a), Some(b)) => !same_values(a, b),
                            _ => false,
                        };
                    if !conflict {
                        continue;
                    }
                    if !intersect(must(i), must(j)) {
                        if possible_overlap.is_none() && intersect(may(i), may(j)) {
                            possible_overlap = Some((i, j));
                        }
                        continue;
                    }
                    let point = common(must(i), must(j));
                    let shown = s.show(&point);
                    let (message, help) = if table.hit == HitPolicy::Unique {
                        (
                            format!("rows `{}` and `{}` both match `{shown}`", id(i), row.id),
                            "under `hit: unique` at most one row may match; narrow one of them or use `hit: first`".to_string(),
                        )
                    } else {
                        (
                            format!(
                                "rows `{}` and `{}` both match `{shown}` but give different outputs",
                                id(i),
                                row.id
                            ),
                            "under `hit: any` matching rows must agree; narrow one of them, make their outputs equal, or use `hit: first`".to_string(),
                        )
                    };
                    out.push(found(
                        Diagnostic::error("table-overlap", &table.file, row.span, message)
                            .with_help(help),
                        Some(j),
                        Some(point),
                    ));
                    break;
                }
            }
            HitPolicy::First => {
                let mut earlier = Vec::new();
                for i in 0..j {
                    s.tick_pair()?;
                    if intersect(must(i), may(j)) {
                        earlier.push(i);
                    }
                }
                if !earlier.is_empty() && s.covers(may(j), &earlier, Bound::Must)? {
                    let earlier = s.fewest(may(j), earlier)?;
                    let ids: Vec<&str> = earlier.iter().map(|&i| id(i)).collect();
                    out.push(found(
                        Diagnostic::warning(
                            "masked-row",
                            &table.file,
                            row.span,
                            format!(
                                "row `{}` can never fire: earlier {} {} {} every input it matches",
                                row.id,
                                if ids.len() == 1 { "row" } else { "rows" },
                                quoted_list(&ids),
                                if ids.len() == 1 { "matches" } else { "match" }
                            ),
                        )
                        .with_help("under `hit: first` the first matching row wins; move this row up, narrow the earlier rows, or delete it"),
                        Some(j),
                        Some(first_point(may(j))),
                    ));
                    continue;
                }
            }
            HitPolicy::Priority => {
                if let Some(mine) = rank(j) {
                    // Rows that win over this one: a higher rank, or the same rank and earlier.
                    let mut winners = Vec::new();
                    for i in (0..n).filter(|&i| i != j) {
                        s.tick_pair()?;
                        let wins = rank(i).is_some_and(|r| r < mine || (r == mine && i < j));
                        if wins && intersect(must(i), may(j)) {
                            winners.push(i);
                        }
                    }
                    if !winners.is_empty() && s.covers(may(j), &winners, Bound::Must)? {
                        let winners = s.fewest(may(j), winners)?;
                        let ids: Vec<&str> = winners.iter().map(|&i| id(i)).collect();
                        let output =
                            &table.outputs[table.priority_output.unwrap_or(0) as usize].name;
                        out.push(found(
                            Diagnostic::warning(
                                "masked-row",
                                &table.file,
                                row.span,
                                format!(
                                    "row `{}` can never be chosen: {} {} {} every input it matches and {} before it",
                                    row.id,
                                    if ids.len() == 1 { "row" } else { "rows" },
                                    quoted_list(&ids),
                                    if ids.len() == 1 { "matches" } else { "match" },
                                    if ids.len() == 1 { "ranks" } else { "rank" },
                                ),
                            )
                            .with_help(format!("under `hit: priority` the matching row with the highest `{output}` wins (the earlier row on a tie); narrow those rows or delete this one")),
                            Some(j),
                            Some(first_point(may(j))),
                        ));
                        continue;
                    }
                }
            }
            HitPolicy::Collect | HitPolicy::RuleOrder => {
                // Identical conditions: the same pieces in every column, and
                // the same text in every unknown cell.
                let key: Vec<(&Bits, Option<&str>)> = may(j)
                    .iter()
                    .enumerate()
                    .map(|(c, b)| (b, space.is_unknown(j, c).then(|| row.cells[c].text.trim())))
                    .collect();
                let same = conditions.entry(key).or_default();
                let twin = same.iter().copied().find(|&i| {
                    matches!((&outputs[i], &outputs[j]), (Some(a), Some(b)) if same_values(a, b))
                });
                same.push(j);
                if let Some(i) = twin {
                    let effect = match (table.hit, table.aggregate) {
                        (HitPolicy::RuleOrder, _) => {
                            "both fire, so their outputs are listed twice".to_string()
                        }
                        (_, Some(agg)) => format!(
                            "both fire, so `{}` takes the value twice",
                            format!("{agg:?}").to_lowercase()
                        ),
                        (_, None) => "both fire, so every value is collected twice".to_string(),
                    };
                    out.push(found(
                        Diagnostic::warning(
                            "duplicate-row",
                            &table.file,
                            row.span,
                            format!(
                                "row `{}` repeats row `{}`: the same conditions and the same outputs",
                                row.id,
                                id(i)
                            ),
                        )
                        .with_help(format!("under `hit: {hit}` {effect}; delete one of them unless that is meant")),
                        Some(j),
                        Some(first_point(may(j))),
                    ));
                }
                continue;
            }
        }
        if errors_only {
            continue;
        }
        // Subsumed: another row matches everything this one does, with the same constant outputs.
        let Some(mine) = &outputs[j] else { continue };
        let candidates: Box<dyn Iterator<Item = usize>> = if table.hit == HitPolicy::First {
            Box::new(j + 1..n)
        } else {
            Box::new((0..n).filter(|&i| i != j))
        };
        for i in candidates {
            s.tick_pair()?;
            let same = outputs[i].as_ref().is_some_and(|o| same_values(o, mine));
            if !same || !contained(may(j), must(i)) {
                continue;
            }
            if table.hit != HitPolicy::First && i > j && contained(may(i), must(j)) {
                // Identical rows: report the later one only.
                continue;
            }
            if table.hit == HitPolicy::First {
                // Removing the row must not hand its inputs to a different row in between.
                let mut safe = true;
                for k in j + 1..i {
                    s.tick_pair()?;
                    if intersect(may(j), may(k))
                        && !outputs[k].as_ref().is_some_and(|o| same_values(o, mine))
                    {
                        safe = false;
                        break;
                    }
                }
                if !safe {
                    continue;
                }
            }
            out.push(found(
                Diagnostic::warning(
                    "subsumed-row",
                    &table.file,
                    row.span,
                    format!(
                        "row `{}` is redundant: row `{}` matches every input it matches and gives the same outputs",
                        row.id, table.rows[i].id
                    ),
                )
                .with_help(format!("under `hit: {hit}` deleting `{}` changes no decision", row.id)),
                Some(j),
                Some(first_point(may(j))),
            ));
            break;
        }
    }
    if let Some((i, j)) = possible_overlap {
        out.push(Finding::plain(
            Diagnostic::warning(
                "not-analysed",
                &table.file,
                table.rows[j].span,
                format!(
                    "rows `{}` and `{}` were not fully checked for overlap: whether both match `{}` depends on cells the analysis cannot decide: {}",
                    id(i),
                    id(j),
                    s.show(&common(may(i), may(j))),
                    unknown_cells_text(table, space)
                ),
            )
            .with_help(format!("the analysis only makes exact claims; check by hand that at most one row matches under `hit: {hit}`")),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::analysis::LEAF_BUDGET;
    use crate::lang::ir::Program;

    fn analyse_first(p: &Program, budget: u64) -> Vec<Diagnostic> {
        analyse_table(&p.schema, &p.tables[0], 0, budget)
            .into_iter()
            .map(|f| f.diagnostic)
            .collect()
    }

    fn program(schema: &str, table: &str) -> Program {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), schema).unwrap();
        std::fs::write(dir.path().join("t.yaml"), table).unwrap();
        let docs = crate::model::load_dir(dir.path()).unwrap();
        let loaded = crate::policy::build(&docs);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.plan.unwrap().program
    }

    const SCHEMA: &str = "schema: t\nfields:\n  id: text\n  n: integer\n  m: integer\n";

    #[test]
    fn over_budget_is_not_analysed_never_partial() {
        let p = program(
            SCHEMA,
            "table: t\nhit: first\ninputs: { n: account.n, m: account.m }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '[0..9]', m: '< 5' }, then: { r: 1 } }\n\
             - { id: b, when: { n: '[10..19]', m: '>= 5' }, then: { r: 2 } }\n\
             - { id: c, when: { n: '>= 0' }, then: { r: 3 } }\n",
        );
        let found = analyse_first(&p, 0);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["not-analysed"]);
        assert!(found[0].message.contains("too large"));
        // The warnings' searches give up; the error-only pass the commands
        // refuse on, with a budget of its own, reports the gap it found first
        // and says there may be more, and lint reports it too.
        let found = analyse_first(&p, 2);
        let shown: Vec<String> = found
            .iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        assert_eq!(
            shown,
            [
                "table-gap: table `t` has a gap (1 of more than 1): no row matches `{ n: \"<= -1\" }`, e.g. `n = -1, m = 4`",
                "not-analysed: table `t` was checked for gaps and overlaps only, not for masked, redundant or duplicate rows: the table is too large for that search (more than 2 cases or 5000000 row pairs)",
            ]
        );
        let found = analyse_first(&p, LEAF_BUDGET);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["table-gap"]);
        assert!(
            found[0].message.contains("`n = -1, m = 4`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn dynamic_cell_of_a_default_table_is_named() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '> account.m' }, then: { r: 1 } }\ndefault: { r: 0 }\n",
        );
        let found = analyse_first(&p, LEAF_BUDGET);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["unknown-cell"]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Info);
        assert_eq!(found[0].line_col(), (6, 23), "{}", found[0].message);
    }

    #[test]
    fn constant_folded_operands_are_exact() {
        let p = program(
            SCHEMA,
            "table: t\nhit: unique\ninputs: { n: account.n }\noutputs: { r: integer }\nrows:\n\
             - { id: a, when: { n: '< 2 * 5' }, then: { r: 1 } }\n\
             - { id: b, when: { n: '> 10' }, then: { r: 2 } }\n",
        );
        let found = analyse_first(&p, LEAF_BUDGET);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("`n = 10`"),
            "{}",
            found[0].message
        );
    }
}
