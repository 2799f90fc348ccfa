//! The documentation of every diagnostic code: what it means, why it matters,
//! an example. `arrears lint --explain CODE` prints an entry; `docs/lint-codes.md`
//! is generated from this table (a test keeps them equal).
//! It must not decide whether a code is reported; the checker and the analysis
//! do.

/// One code's documentation.
pub struct CodeDoc {
    pub code: &'static str,
    pub severity: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    pub example: &'static str,
}

macro_rules! code {
    ($code:literal, $sev:literal, $what:literal, $why:literal, $example:literal) => {
        CodeDoc {
            code: $code,
            severity: $sev,
            what: $what,
            why: $why,
            example: $example,
        }
    };
}

/// Every code, sorted by name.
pub const CODES: &[CodeDoc] = &[
    code!("aggregate", "error", "An `aggregate` is unknown, or used where it cannot apply (not `collect`, or an output that cannot be summed).",
        "The table's single value would be undefined.", "hit: collect\naggregate: average   # sum, min, max or count"),
    code!("always-true-cell", "warning", "A condition cell whose alternatives together match every value of its column, decided exactly as the rest of the analysis: `>= 5, <= 29` (in a cell a comma means OR, so this is every number, not 5 to 29), `!= 5, != 6`, `< 10, >= 3`, `true, false`, or an enum cell listing every variant. The help shows the range the alternatives share (`[5..29]`), which is usually what was meant. A single test is never reported (`!= null` tests that a value is present), nor a cell that compares with a value read from the account.",
        "The row reads as a condition but tests nothing, so it fires for accounts it was written to leave out; `-` is how a cell says \"any value\". A warning, like `masked-row` and `subsumed-row`: the rules run, but a condition does nothing, and an enum cell listing every variant may be meant to leave out variants added later (errors are kept for tables that fail when run: `table-gap`, `table-overlap`). `--deny-warnings` makes it fail a CI run. The warnings such a row causes (rows it hides or that hide it) are not reported besides it, and it says how many were left out; an error it causes (an overlap under `unique`, which fails when run) stays, and says it follows from the cell.",
        "when: { dpd: \">= 5, <= 29\" }   # any dpd; meant [5..29]"),
    code!("arguments", "error", "A function gets the wrong number or kind of arguments.",
        "The call cannot be evaluated.", "effective_arrears: round(account.arrears, 2, 3)   # round(x) or round(x, places)"),
    code!("calendar", "error", "A calendar is malformed: an unknown weekday or observance rule, a holiday that is not a date or yearly rule (a month and day, a weekday of a month, or days from Easter: `easter - 2`, at most 80), or bad `from`/`until`/`except` years (an `except` year outside the holiday's years or listed twice, any of them on a one-off date).",
        "Event dates are moved by the calendar; a wrong calendar moves them wrongly.", "weekend: [saturday, sundae]"),
    code!("cell-too-long", "error", "A cell is longer than 4 KiB.",
        "Cells are meant to be read by analysts; the limit also bounds the parser.", "when: { dpd: '<4,000 characters>' }"),
    code!("currency", "error", "Money in a currency other than the schema's.",
        "All money in one rules directory is in one currency; mixing would compare unlike amounts.", "effective_arrears: '>= 5.00 EUR'   # schema currency: USD"),
    code!("default", "error", "A `default` on a `collect` or `rule_order` table, where it has no meaning.",
        "Under `collect` and `rule_order` no matching row is already a result: the empty collection.", "hit: rule_order\ndefault: { flag: none, note: null }"),
    code!("duplicate-name", "error", "Two calendars, templates or experiments share a name, or a template has two events with the same id.",
        "References by name would be ambiguous.", "template: card_early_std   # in two files"),
    code!("duplicate-policy", "error", "A rules directory holds a second `policy` document.",
        "One rules directory is one pipeline.", "policy: collections   # and another `policy:` in a second file"),
    code!("duplicate-row", "warning", "Under `hit: collect` or `rule_order`, a row with the same conditions and the same constant outputs as an earlier row.",
        "Both rows fire, so the value is collected (or listed) twice, counted twice by `count` and added twice by `sum`: almost always a copy-paste slip. Overlaps are the point of these hit policies and no row hides another, so gaps, overlaps, masked and subsumed rows are not analysed for them; only rows that can never match (`masked-row`) and duplicates are.",
        "hit: collect\nrows:\n  - { id: vulnerable,   when: { psr: 'true' }, then: { flag: vulnerable_customer } }\n  - { id: vulnerable-2, when: { psr: 'true' }, then: { flag: vulnerable_customer } }"),
    code!("duplicate-row-id", "error", "Two rows of one table share an id.",
        "Row ids name the rule behind every decision; they must be unique in their table.", "  - id: current   # the id of the first row, again"),
    code!("duplicate-schema", "error", "More than one schema document.",
        "Every field path is resolved against exactly one schema.", "schema: collections   # in two files"),
    code!("duplicate-table", "error", "Two tables share a name.",
        "Tables are referred to by name (`entry.category`).", "table: entry   # in two files"),
    code!("effective", "error", "An `effective` clause is wrong: a date that is not YYYY-MM-DD, no date at all, or an `until` before its `from`.",
        "A version's dates decide which rules are in force on a day; a wrong date puts the wrong rules in force.", "effective: { from: 2027-01-01, until: 2026-12-31 }"),
    code!("effective-gap", "warning", "Between two versions of a table, row or template, days when no version is in force.",
        "On those days the item does not exist: a table the policy reads is missing, a row no longer matches. Usually the later version was meant to start the day after the earlier ends (`until` is inclusive).", "effective: { until: 2026-12-30 }   # and the next version: { from: 2027-01-01 }"),
    code!("effective-overlap", "error", "Two versions of one table, row or template are in force on the same day; the message names both, each at file:line:col.",
        "Only one version may decide on a day; which one would be an accident of file order.", "effective: { from: 2026-06-01 }   # and the old version: { until: 2026-12-31 }"),
    code!("empty-file", "error", "A rule file is empty.",
        "An empty file is usually a mistake; delete it or give it content.", "# only comments"),
    code!("event-day", "error", "A template event's day is outside 0..3660, or it has both or neither of `day` and `date`.",
        "Events are scheduled at case start + day, or on their `date` expression; ten years is the limit.", "day: -3"),
    code!("event-type", "error", "A template event has an unknown type.",
        "The pipeline only knows the documented event types.", "type: send_telegram"),
    code!("experiment", "error", "An experiment is malformed: shares that do not total 100%, no arms, a bad share; bucket ranges that leave a bucket to no arm or give one to two, a `take_from` naming no arm or more buckets than it has, a share that is not its buckets' count.",
        "Arm assignment must split every account into exactly one arm.", "  - { name: soft_letter, share: 10%, template: card_early_soft }   # 80% + 10% + 5% = 95%"),
    code!("experiment-layout", "warning", "An experiment's arms are laid out by shares alone (consecutive ranges in declaration order); the help gives each arm's `buckets` for the same assignment.",
        "Adding, removing or resizing an arm then moves accounts between the other arms, and a live experiment whose accounts reshuffle measures nothing.", "  - { name: champion, share: 80% }   # write: buckets: 0-7999"),
    code!("experiment-reassigned", "warning", "`lint --base OLD`: an edit moves accounts between two arms that exist before and after it, or changes the salt (every account drawn again).",
        "Accounts that change arm mid-experiment have had two treatments; their outcome measures neither.", "  - { name: sms, share: 10% }   # added first, shifting every arm after it"),
    code!("experiment-small-arm", "warning", "`lint --population N`: an arm is expected to get fewer than 2,500 of the N accounts entering its experiment.",
        "2,500 accounts per arm show a 4-point difference in a 50% rate (80% power, 5% two-sided); a smaller arm cannot tell its treatment from noise.", "  - { name: holdout, buckets: 9500-9999, holdout: true }   # 5% of 10,000 = 500"),
    code!("file-too-large", "error", "A rule file is larger than 8 MiB.",
        "A limit instead of running out of memory.", "a generated 20 MB table"),
    code!("fmt-kept", "info", "`arrears fmt` left a cell written over several lines as it is, though its canonical form differs.",
        "Line breaks in a long expression are the author's layout, so `fmt` does not rewrite it; the note gives the canonical text to copy.", "total: >-\n  max( a,\n      b )"),
    code!("fmt-unsafe", "error", "`arrears fmt` could not rewrite a file without changing what it reads as.",
        "Every rewrite is read back before it is written; one that reads differently is refused and the file is left alone. Please report the file.", "(no known example)"),
    code!("for-each", "error", "A `for_each` is malformed or does not range over a list.",
        "A per-item table needs `item in list`.", "for_each: account.service_agreements   # needs `sa in account.service_agreements`"),
    code!("hit-policy", "error", "An unknown hit policy, or one that does not fit the table (e.g. `priority` without an enum output).",
        "The hit policy decides which rows give the result.", "hit: firts"),
    code!("input", "error", "An input column is malformed: a name that is not an identifier, or an input that does not type-check.",
        "Inputs are named in cells and outputs.", "  days past due: account.days_past_due"),
    code!("invalid-invariant", "error", "A guard-rail invariant cannot be read: its `when` does not parse, or its `action` names no `guarded_action` variant.",
        "An invariant lint cannot read is one nobody checks.", "invariants:\n  - never: { when: account.bankruptcy, action: [phone_call] }   # `call`"),
    code!("invariant-undecided", "warning", "A guard-rail invariant lint can neither prove nor refute: no guard table stops the action wherever the condition holds (as far as the exact table analysis can tell: a condition that is no input of a table, cells that depend on the account), and no account built from the open region and the rules' test accounts gets the action from the policy, proposed by the strategy or pending in its open case.",
        "Never assumed: the invariant is reviewed by hand, or the pack given a row whose input is the condition itself.", "invariants:\n  - never: { when: account.hardship, action: [call] }   # no guard row reads account.hardship alone"),
    code!("invariant-violated", "error", "A guard-rail invariant does not hold: an account where the condition holds gets the forbidden action from the whole policy. The message gives the account (JSON) and the rules that made the action, or the pending case event that goes out.",
        "The analysis found a region of a guard table's inputs where the action is let through, built an account in it from the rules' own test accounts, and ran the policy on it: the action is really proposed, or an event of its type pending in the account's open case (as a case opened before the condition arose carries) goes out unstopped. With effective-dated rules, a rule set's counterexample is dated on a day it is in force: a test account of another period is moved into it, its dates with it, and the message says from which day. `lint --counterexamples DIR` writes the account (`<pack>--<action>--invariant-violated.yaml`) with the `dry-run` line that runs it on that day.", "# rules/guardrails/stay_and_deceased.yaml without its bankruptcy_stay row\ninvariants:\n  - never: { when: account.bankruptcy, action: [call] }"),
    code!("invariants-proven", "info", "How many of the guard-rail packs' invariants lint proved.",
        "An invariant is proven when one guard table stops each forbidden action type (withholds, cancels or rechannels it, or postpones it: a nomination or plan offer cannot wait and is withheld, an event is asked about again on its new day) at every point of its inputs where the condition holds, first hit respected; the pack runs last on every proposal, so no strategy gets past it.", "info[invariants-proven]: 6 of 6 guard-rail invariants proven"),
    code!("mapping", "error", "A column mapping (`mapping:` document) names a field the schema does not declare, maps a record or list as if it were a scalar, or misses a required field.",
        "`arrears batch` would refuse every row of the extract; lint says so before the overnight run.", "DPD: days_past_du   # schema field: days_past_due"),
    code!("masked-row", "warning", "A row that can never give the result. Under `hit: first`: earlier rows match every input it matches (the fewest such rows are named). Under `hit: priority`: rows that rank higher (a higher first enum output, or the same and earlier) match every input it matches. Under any hit policy: its cells exclude every value, so it never matches.",
        "A row that never fires is dead policy: whoever reads the table believes it applies. The check is exact: each column's values are split into pieces at every boundary the cells draw (integers, days and dates are discrete, so `> 5` is `>= 6`); a null input is considered only when the input reads an optional field. A cell the analysis cannot decide (`unknown-cell`) counts as matching nothing in the rows that hide and anything in the hidden row, so a row is reported only when it is hidden whatever the account. `lint --counterexamples DIR` writes an account that the row matches (an earlier row fires instead).",
        "hit: first\nrows:\n  - { id: late,      when: { dpd: '>= 30' } }\n  - { id: very-late, when: { dpd: '>= 60' } }   # masked by `late`"),
    code!("missing-output", "error", "A row does not give a value for every output.",
        "Every matching row must produce the full result.", "then: { category: skip_trace }   # `reason` missing"),
    code!("no-guardrails", "warning", "The policy runs without a guard-rail pack: the rules directory has no `guardrails:` document.",
        "Guard rails withhold, postpone or rechannel what no strategy may do (a call under a bankruptcy stay, an eighth call in seven days); without them nothing does.", "# rules/guardrails/ removed: the policy is the only document that decides"),
    code!("no-schema", "error", "The rules directory has no schema document.",
        "Field paths cannot be resolved without one.", "rules/ with tables but no `schema:` file"),
    code!("not-analysed", "warning", "A check that guards against evaluation errors could not be completed exactly: a table without a `default` may have a gap, or two rows under `hit: unique` / `any` may overlap, but whether they do depends on cells the analysis cannot decide (named with file:line:col, see `unknown-cell`); or the table is too large for the work budget.",
        "The analysis never guesses; this says which inputs, rows and cells must be reviewed by hand. A table with a `default` cannot fail for want of a row, so a possible gap there is not reported.",
        "hit: unique\nrows:\n  - { id: over,  when: { balance: '> account.credit_limit' } }\n  - { id: under, when: { balance: '<= account.credit_limit * 90%' } }\n# a balance between 90% and 100% of the limit may match no row"),
    code!("not-utf8", "error", "A rule file is not UTF-8.",
        "Rule files are text; save it as UTF-8.", "a Latin-1 file with `£`"),
    code!("output", "error", "An output column is malformed: a name that is not an identifier, an unknown type, or a row value of the wrong type.",
        "Outputs are read by other tables and the policy.", "  reason: text?   # any output may be null already"),
    code!("policy", "error", "A policy role is wired to a table whose outputs do not fit the role's contract, or a required part is missing.",
        "The pipeline reads fixed outputs from each role (see docs/policy.md).", "entry: risk_segment   # has no `category` output"),
    code!("quoted-threshold", "warning", "A row id, or a text the row gives (a `reason`), quotes a number that is a threshold of that same row's conditions: `card-loan-5d-5usd` on a row testing `dpd: >= 5` and `effective_arrears: >= $5`, or the reason \"5 days and $5 past due\". The message names each quoted number and the column and cell it comes from, and points at the first one. Units are read where written (`$5`, `5usd`: money; `5d`, `5 days`: days; `10%`: a percentage), so `5d` is not matched with `$5`.",
        "An edit to the threshold leaves the id or the reason wrong, and traces, tests and case notes then state a rule the table no longer applies. Name the row for what it decides (`consumer-in-arrears`, \"consumer account past due\"); `dry-run --explain` shows each condition with its numbers, so nothing is lost. Numbers the row does not test are not reported, nor labels (`tier-2`, `stage-1`, `L1`, `2nd`, `BROKEN_PROMISE_1`), dates or times, nor the row's output values or texts it computes. A warning, not an info: the rules should change, and `--deny-warnings` keeps it from coming back.",
        "- id: card-loan-5d-5usd   # the row tests `dpd: \">= 5\"` and `effective_arrears: \">= $5\"`"),
    code!("reclassify-other-treatment", "warning", "A row (or the default) of the re-treatment table that only reassigns the class, `retreat: true` with `restart: false`, while its `retreat.same_treatment` cell admits false (or the table does not read `retreat.same_treatment`).",
        "Only reassigning the class keeps the case's events, arms and start date, which fits a class change into the same treatment (utility_res to utility_res_high). For an account whose treatment today is another one, the case would take a class and template whose events it never got. Test `same_treatment: \"true\"` in the row, or give `restart: not same_treatment`.",
        "    then: { retreat: \"true\", restart: \"false\", reason: '\"the collection class changed\"' }   # same treatment or not"),
    code!("reserved-event-id", "error", "A template event's id starts with a prefix the policy keeps for the events it makes itself: `callback-` (the callbacks customers ask for) or `promise-` (promises' follow-ups).",
        "The guard rails and the case state tell those events by their id: Reg F's consent exception lets a call named `callback-…` through within 7 days of a conversation, and a `promise-…` event would pass for a follow-up of a promise. A template event with such an id would get either treatment without being either.",
        "  - id: callback-first   # a template's call: name it `first-call`"),
    code!("row-id", "error", "A row id is empty or malformed.",
        "Row ids name the rule behind every decision.", "  - id: ''"),
    code!("schema", "error", "The schema is malformed: an unknown type, a duplicate field or variant, a bad currency or id field.",
        "Every rule is checked against the schema.", "arrears: mony"),
    code!("skipped-file", "warning", "A rule file that is not a regular file (a FIFO, socket or device), or a directory already read through another path (a symlink loop), was not read.",
        "Reading a FIFO blocks and a device never ends; a symlink loop would load every file again and again.", "ln -s . rules/again      # skipped: the directory is read through its own path"),
    code!("subsumed-row", "warning", "A row whose conditions are contained in another row's and whose outputs are the same constants (hit `first`, `unique`, `priority` or `any`; under `first` only when no row in between would take its inputs).",
        "Deleting it changes no decision; keeping it makes the table longer to review. Not reported under `collect` or `rule_order`: every matching row counts there, so deleting a row always changes the result; see `duplicate-row`.",
        "hit: first\nrows:\n  - { id: a, when: { dpd: '[30..59]' }, then: { bucket: b30 } }\n  - { id: b, when: { dpd: '>= 30' },   then: { bucket: b30 } }   # a is redundant"),
    code!("syntax", "error", "A cell or expression does not parse.",
        "The message points at the character and says what was expected.", "when: { dpd: '>= ' }"),
    code!("table-cycle", "error", "Tables refer to each other in a cycle.",
        "Tables are evaluated in dependency order; a cycle has none.", "a reads b.x and b reads a.y"),
    code!("table-gap", "error", "A table without a `default` (hit `first`, `unique`, `priority` or `any`) where some input matches no row. One diagnostic per gap region (at most 10 per table; the last says how many more), each region written as a row's `when` you could add, with an example point: input values no row matches. Regions that differ in one column only are merged.",
        "Such an account cannot be evaluated: it is an evaluation error at run time. Cells on numbers, money, dates, days, enums, booleans and text are analysed exactly (text: the literals written plus any other text). Integers, days and dates are discrete, so `[1..29]` and `[30..59]` leave no gap, while on money `< $5` and `> $5` leave `$5`. A null input is considered only when the input reads an optional field (`risk_score: integer?`); then only `-` and `null` cells match it. A cell the analysis cannot decide counts as matching anything, so a reported gap is a gap whatever the account (a gap that depends on such a cell is `not-analysed`). `lint --counterexamples DIR` writes an account in each gap.",
        "hit: first\ninputs: { arrears: account.arrears }\nrows:\n  - { id: small, when: { arrears: '< $5' } }\n  - { id: large, when: { arrears: '> $5' } }\n# no row matches `{ arrears: \"$5.00\" }`"),
    code!("table-name", "error", "A table name is not an identifier, or clashes with a reserved name.",
        "Other tables refer to it as `name.output`.", "table: treatment-flags"),
    code!("table-overlap", "error", "Under `hit: unique`, two rows that can match the same input; under `hit: any`, two such rows with different outputs. The message gives the shared input and both row ids.",
        "Such an account is an evaluation error at run time. A cell the analysis cannot decide counts as matching nothing here, so a reported overlap happens whatever the account (one that depends on such a cell is `not-analysed`).",
        "hit: unique\nrows:\n  - { id: a, when: { dpd: '<= 30' } }\n  - { id: b, when: { dpd: '>= 30' } }\n# rows `a` and `b` both match `dpd = 30`"),
    code!("table-reference", "error", "A reference to a table that is not single-result (`collect` without aggregate, `rule_order`) or to an unknown output.",
        "Only a single result can be read as `table.output`.", "flags: treatment_flags.flag   # treatment_flags is rule_order"),
    code!("test-document", "error", "A test document (`arrears test`) that cannot be used: an unknown key, a case that expects nothing, a date that is not a date, or a name the rules do not have (a row, a table, an output, an action type or field), or an account that cannot be found or decoded. `arrears lint DIR` checks the documents under `DIR/tests/` and those `--tests` names.",
        "A misspelt expectation would otherwise never match, or never fail: a test that cannot fail proves nothing.", "cases:\n  - name: never closed\n    account: card-arrears-7dpd\n    excludes: [{ type: close_cse }]   # did you mean `close_case`?"),
    code!("toml", "error", "A TOML file does not parse.",
        "The message points at the problem, often with a quoting hint.", "when = { promises = >= 1 }"),
    code!("too-many-bytes", "error", "The rule files of a directory add up to more than 64 MiB; the rest are not read.",
        "No policy is this large; it is a runaway generator or the wrong directory, and reading it all would exhaust memory.", "arrears lint /data/extracts   # a directory of extracts, not rules"),
    code!("too-many-rows", "error", "A table has more than 100,000 rows.",
        "A limit instead of running out of memory.", "a generated table"),
    code!("type-mismatch", "error", "Values of incompatible types meet: money compared with a date, a plain number with money, a text cell on an integer input.",
        "A checked program cannot fail at evaluation for type reasons.", "effective_arrears: \">= 5\"   # write `$5`"),
    code!("unknown-account-field", "warning", "An account in a test document (written in the case, or in its `accounts` file) has a field the schema does not have; the message names the nearest field, or the record the field belongs to. `arrears test` and `dry-run` warn of the same fields.",
        "Decoding ignores such a field (an extract carries columns no rule reads), so the case runs as if the field were not written: a misspelt `risk_scor` tests an account without a risk score. A warning, since the case still runs; `--deny-warnings` makes it fail a CI run.",
        "account:\n  id: card-1\n  risk_scor: 701   # did you mean `risk_score`?"),
    code!("unknown-cell", "info", "A cell the table analysis cannot decide, named at its file:line:col: it compares with a value that depends on the account (`> account.credit_limit * 10%`, `>= today`), orders text, or tests a column of a type the analysis does not model (records, lists). The rest of the table is still analysed.",
        "The analysis makes only exact claims. It takes the cell as possibly matching any value and as certainly matching none, and reports a gap, overlap, hidden or redundant row only when it holds either way; what the cell decides must be reviewed by hand. Info only: it does not fail `--deny-warnings`.",
        "rows:\n  - { id: over-limit-percent, when: { over_limit_amount: '> account.credit_limit * 10%' } }"),
    code!("unknown-column", "error", "A row names a column the table does not declare.",
        "Probably a typo; the cell would be ignored.", "when: { dpd: \">= 5\", arears: \">= $5\" }"),
    code!("unknown-document", "error", "A file's top-level key is not a known document kind, or it has several.",
        "The top-level key says what a file is (`schema`, `table`, `policy`, ...).", "tabel: entry"),
    code!("unknown-field", "error", "A field path that the schema does not declare.",
        "Every field path is resolved against the schema.", "dpd: account.days_pastdue"),
    code!("unknown-function", "error", "A call to a function that does not exist.",
        "Only the documented functions are available.", "effective_arrears: avg(account.arrears)"),
    code!("unknown-name", "error", "A bare name that is not an input, binder, table, `account` or `as_of`.",
        "Names resolve at lint time so evaluation cannot fail on them.", "dpd: \">= treshold\""),
    code!("unknown-reference", "error", "The policy names a table, calendar, template or experiment that does not exist.",
        "The pipeline would have nothing to run.", "entry: entyr"),
    code!("unknown-type", "error", "An output declares a type that is neither built in nor a schema enum.",
        "Output values are type-checked against it.", "  bucket: bucket_enum"),
    code!("unknown-variant", "error", "An enum variant that the enum does not declare.",
        "Enum cells and outputs are checked against the schema.", "customer_class: residental"),
    code!("unmapped-guard-field", "warning", "A column mapping (`mapping:` document) fills a field a guard rail reads from no column and no companion file (`time_zone`, `breathing_space_start`, a service agreement's `space_heating`, `contacts`), or from a column mapped `field?`, which an extract may lack without a word.",
        "A batch read with that mapping gives every account a null there, so the rail never applies in the nightly run while `dry-run` and `simulate`, which read whole accounts, apply it. Map a column to the field; the shipped `extract-v1` maps every field the shipped rails read.",
        "  # TIME_ZONE: time_zone   # the column left out of the mapping"),
    code!("unreachable-row", "warning", "A row of the promise follow-up table the pipeline never asks about: its `promise.status` / `promise.arrears_paid_in_full` cells admit only a kept promise with arrears paid in full. The table is asked about pending promises, promises kept with arrears remaining and broken promises.",
        "The row reads as policy but never decides anything: a kept promise with arrears paid in full closes the case before the table is asked.", "inputs:\n  status: promise.status\n  paid_in_full: promise.arrears_paid_in_full\nrows:\n  - { id: thanks, when: { status: kept, paid_in_full: \"true\" } }   # never asked"),
    code!("unused", "warning", "A template or experiment that nothing uses: no policy, the policy does not list the experiment, no class-table row or experiment arm names the template, or an experiment is aimed at a class no class-table row assigns.",
        "Dead configuration misleads readers: the treatment or experiment looks live but no new case reaches it.", "template: old_letters   # no class-table row or experiment arm names it"),
    code!("unused-field", "warning", "A schema field no rule reads: no input, cell, output, default or `for_each` refers to it, and the policy pipeline does not read it. For a record, only the record is reported when none of it is read.",
        "A field no rule reads is either dead data or a rule someone forgot to write.", "fields:\n  risk_score: integer?   # no table reads account.risk_score"),
    code!("unused-table", "warning", "With a policy: a table the policy gives no role and no other table refers to.",
        "It is evaluated by nobody; it is dead policy or a missing wiring.", "table: old_entry   # policy uses `entry`"),
    code!("yaml", "error", "A YAML file does not parse, or uses a feature refused for safety (too many alias expansions).",
        "The message points at the problem, often with a quoting hint.", "dpd: >= 5   # quote it: \">= 5\""),
];

/// The documentation of a code.
pub fn find(code: &str) -> Option<&'static CodeDoc> {
    CODES.iter().find(|c| c.code == code)
}

impl CodeDoc {
    /// The first sentence of `what` (up to a `. ` before a capital, so `e.g. x`
    /// stays), for `arrears lint --list-codes`.
    pub fn summary(&self) -> &'static str {
        let bytes = self.what.as_bytes();
        let end = (0..bytes.len().saturating_sub(2)).find(|&i| {
            bytes[i] == b'.' && bytes[i + 1] == b' ' && bytes[i + 2].is_ascii_uppercase()
        });
        end.map_or(self.what, |end| &self.what[..=end])
    }

    /// The text `arrears lint --explain CODE` prints.
    pub fn explain(&self) -> String {
        format!(
            "{} ({})\n\nWhat: {}\n\nWhy: {}\n\nExample:\n{}\n",
            self.code,
            self.severity,
            self.what,
            self.why,
            indent(self.example)
        )
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

/// `docs/lint-codes.md`, generated from [`CODES`].
pub fn markdown() -> String {
    let mut s = String::from(
        "# Lint codes\n\n<!-- Generated from src/lang/analysis/codes.rs; `UPDATE_LINT_CODES=1 cargo test lint_codes_doc` rewrites it. -->\n\n\
         Every diagnostic `arrears lint` prints has one of these codes. `arrears lint --explain CODE` prints the entry;\n\
         `arrears lint --list-codes` lists them; `arrears lint --deny-warnings` makes warnings fail the run (exit 1).\n\n| code | severity |\n|---|---|\n",
    );
    for c in CODES {
        s.push_str(&format!("| [`{0}`](#{0}) | {1} |\n", c.code, c.severity));
    }
    for c in CODES {
        s.push_str(&format!(
            "\n## {}\n\n*{}*\n\n**What.** {}\n\n**Why.** {}\n\n**Example.**\n\n```yaml\n{}\n```\n",
            c.code, c.severity, c.what, c.why, c.example
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes passed as the first argument of `Diagnostic::error`/`warning` or a checker's `error`.
    fn emitted(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for opener in ["error(", "warning(", "info("] {
            let mut rest = text;
            while let Some(i) = rest.find(opener) {
                rest = &rest[i + opener.len()..];
                let arg = rest.trim_start();
                if let Some(arg) = arg.strip_prefix('"') {
                    if let Some(end) = arg.find('"') {
                        let code = &arg[..end];
                        if !code.is_empty()
                            && code
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            out.push(code.to_string());
                        }
                    }
                }
            }
        }
        out
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_emitted_code_is_documented() {
        let mut files = Vec::new();
        rust_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut seen = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for code in emitted(&text) {
                seen += 1;
                assert!(
                    find(&code).is_some(),
                    "code `{code}` used in {} has no entry in CODES",
                    file.display()
                );
            }
        }
        assert!(seen > 40, "the scan found only {seen} codes");
        for new in [
            "table-gap",
            "table-overlap",
            "masked-row",
            "subsumed-row",
            "unused-field",
            "unused-table",
            "not-analysed",
            "duplicate-row",
            "unknown-cell",
        ] {
            assert!(find(new).is_some());
        }
    }

    /// The `calendar` summary names each form of a holiday and each of its
    /// year keys the calendar checker refuses a mistake in
    /// (`policy::calendar`): Easter-relative days, `from`, `until`, `except`.
    #[test]
    fn calendar_summary_names_every_holiday_form_and_year_key() {
        let what = find("calendar").expect("the calendar code").what;
        for named in ["easter", "`from`", "`until`", "`except`", "observance"] {
            assert!(
                what.contains(named),
                "`calendar` does not name {named}: {what}"
            );
        }
    }

    #[test]
    fn codes_are_sorted_unique_kebab() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for c in CODES {
            assert!(c
                .code
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'));
            assert!(matches!(c.severity, "error" | "warning" | "info"));
        }
    }

    #[test]
    fn lint_codes_doc() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lint-codes.md");
        let want = markdown();
        if std::env::var_os("UPDATE_LINT_CODES").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/lint-codes.md is stale: run `UPDATE_LINT_CODES=1 cargo test lint_codes_doc`"
        );
    }
}
