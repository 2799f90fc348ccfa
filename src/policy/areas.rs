//! What the pipeline reads of each area, resolved when the policy is built:
//! the roles (which table plays each area, and the index of every output column
//! it reads, `Out`), the meaning of each built-in enum variant (`Variants`,
//! `FollowUp`), the nomination rule and the plan-offer limit. Plain data; it must
//! not check documents (that is `contracts`) nor evaluate anything.

use super::promise;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nomination {
    All,
    HighestArrears,
}

impl Nomination {
    /// What a policy's `nominate` may say (default `all`).
    pub const ALL: [(&'static str, Nomination); 2] = [
        ("all", Nomination::All),
        ("highest_arrears", Nomination::HighestArrears),
    ];
}

/// An output column a policy area reads, resolved to its index at build time
/// so the pipeline reads outputs by position, never by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Category,
    Reason,
    Close,
    Todo,
    Remove,
    Class,
    Template,
    ToleranceAmount,
    TolerancePercent,
    ToleranceRule,
    PlanTolerance,
    GraceDays,
    GraceBusinessDays,
    FollowUp,
    Detail,
    EventDate,
    Instalments,
    Amount,
    FirstDueIn,
    Eligible,
    PostponeUntil,
    Retreat,
    Restart,
    Hold,
    Book,
    Effect,
    Until,
    Channel,
    WindowStart,
    WindowEnd,
}

impl Out {
    pub(super) const COUNT: usize = Out::WindowEnd as usize + 1;

    /// The column's name in the area's table.
    pub fn name(self) -> &'static str {
        match self {
            Out::Category => "category",
            Out::Reason => "reason",
            Out::Close => "close",
            Out::Todo => "todo",
            Out::Remove => "remove",
            Out::Class => "class",
            Out::Template => "template",
            Out::ToleranceAmount => "tolerance_amount",
            Out::TolerancePercent => "tolerance_percent",
            Out::ToleranceRule => "tolerance_rule",
            Out::PlanTolerance => "plan_tolerance",
            Out::GraceDays => "grace_days",
            Out::GraceBusinessDays => "grace_business_days",
            Out::FollowUp => "follow_up",
            Out::Detail => "detail",
            Out::Instalments => "instalments",
            Out::Amount => "amount",
            Out::FirstDueIn => "first_due_in",
            Out::Eligible => "eligible",
            Out::PostponeUntil => "postpone_until",
            Out::EventDate => "date",
            Out::Retreat => "retreat",
            Out::Restart => "restart",
            Out::Hold => "hold",
            Out::Book => "book",
            Out::Effect => "effect",
            Out::Until => "until",
            Out::Channel => "channel",
            Out::WindowStart => "window_start",
            Out::WindowEnd => "window_end",
        }
    }
}

/// A table playing a role, with the output columns the role reads.
#[derive(Debug, Clone)]
pub struct Role {
    pub table: u32,
    /// Output index per [`Out`]; `None` for an optional column the table lacks
    /// (a required one missing is a lint error, so it is always `Some`).
    pub(super) columns: [Option<u32>; Out::COUNT],
}

/// The pipeline's meaning of each variant of the built-in enums it reads,
/// by variant index, resolved at build time (no text matching per account).
#[derive(Debug, Clone, Default)]
pub struct Variants {
    /// The entry category that opens no case (`none`), if the category enum has one.
    pub no_case: Option<u32>,
    pub tolerance_rule: Vec<promise::ToleranceRule>,
    pub plan_tolerance: Vec<promise::PlanTolerance>,
    pub follow_up: Vec<FollowUp>,
    /// The `promise_status` variant of pending, kept and broken.
    pub promise_status: [u32; 3],
}

/// What the promise follow-up table decides (the built-in enum `follow_up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    None,
    CloseCase,
    Retreat,
    PartPaymentPath,
    SendLetter,
    SendEmail,
    Call,
    SendSms,
    PreviousTreatment,
}

impl FollowUp {
    pub(super) fn from_name(name: &str) -> Option<FollowUp> {
        Some(match name {
            "none" => FollowUp::None,
            "close_case" => FollowUp::CloseCase,
            "retreat" => FollowUp::Retreat,
            "part_payment_path" => FollowUp::PartPaymentPath,
            "send_letter" => FollowUp::SendLetter,
            "send_email" => FollowUp::SendEmail,
            "call" => FollowUp::Call,
            "send_sms" => FollowUp::SendSms,
            "previous_treatment" => FollowUp::PreviousTreatment,
            _ => return None,
        })
    }
}

/// The most instalments a payment-plan offer may have (about three years, monthly).
pub const MAX_PLAN_INSTALMENTS: i64 = 36;

impl Roles {
    /// Every table the policy gives a role.
    pub fn tables(&self) -> Vec<u32> {
        let optional = [
            &self.exit,
            &self.sa_exit,
            &self.promise_terms,
            &self.promise_follow_up,
            &self.callback,
            &self.payment_plan,
            &self.severance,
            &self.retreat,
            &self.contact_hold,
        ];
        [self.entry.table, self.class.table]
            .into_iter()
            .chain(optional.into_iter().flatten().map(|r| r.table))
            .chain(self.flags.iter().map(|r| r.table))
            .chain(self.guards.iter().map(|r| r.table))
            .collect()
    }
}

impl Role {
    pub(super) fn col(&self, out: Out) -> Option<usize> {
        self.columns[out as usize].map(|i| i as usize)
    }
}

#[derive(Debug, Clone)]
pub struct Roles {
    pub entry: Role,
    pub exit: Option<Role>,
    pub sa_exit: Option<Role>,
    pub class: Role,
    pub promise_terms: Option<Role>,
    pub promise_follow_up: Option<Role>,
    /// Per disposition: whether, when and how the callback the customer asked for is booked.
    pub callback: Option<Role>,
    pub payment_plan: Option<Role>,
    pub severance: Option<Role>,
    pub retreat: Option<Role>,
    pub contact_hold: Option<Role>,
    /// The guard-rail pack (every `guardrails` document), asked about every
    /// proposed action after all the areas above.
    pub guards: Vec<Role>,
    /// Tables whose matching rows become `flag` actions; any hit policy.
    pub flags: Vec<Role>,
}
