//! Data-subject requests (issue 19; checklist §A.8, §A.9, §B.3, §C.2, §F.1 item 6): their
//! kinds, states and the transitions between them, the reasons a request is refused or its
//! term extended, the channel it came in by, and the rules on its clock: which deadline
//! preset a kind uses, when a pause stops the clock, when an extension is allowed, and which
//! earlier requests make a new one a duplicate or a repeat. Pure: the vault supplies the
//! time, the calendars and the stored requests.

use crate::action::string_enum;
use crate::calendar::Calendars;
use crate::deadline::{self, DeadlineError, DeadlineQuery, Regime, Zone};
use time::{Date, Duration, OffsetDateTime};

string_enum! {
    /// What the subject asks for.
    RequestKind {
        /// Access: the Art. 14 p. 7 contents (GDPR Art. 15).
        Access => "access",
        /// A copy of the data (portability, GDPR Art. 20).
        Copy => "copy",
        Rectification => "rectification",
        /// Blocking (restriction, GDPR Art. 18).
        Blocking => "blocking",
        Erasure => "erasure",
        /// A demand to stop processing (152-FZ Art. 21 p. 5.1).
        StopProcessing => "stop_processing",
        WithdrawConsent => "withdraw_consent",
        /// An objection to direct marketing: takes effect at intake (152-FZ Art. 15 p. 2,
        /// GDPR Art. 21(3)).
        ObjectMarketing => "object_marketing",
        /// An objection to processing on legitimate interests: the officer decides, with
        /// reasons (GDPR Art. 21(1)).
        ObjectLegitimate => "object_legitimate",
        /// A transfer of the data to a named third party.
        Transfer => "transfer",
        /// A complaint or pre-trial claim, answered by the operator.
        Complaint => "complaint",
    }
}

impl RequestKind {
    /// The deadline engine's kind, whose presets (`deadline::preset`) give this kind's term.
    pub fn deadline_kind(self) -> deadline::RequestKind {
        use deadline::RequestKind as D;
        match self {
            RequestKind::Access => D::Access,
            RequestKind::Copy => D::Copy,
            RequestKind::Rectification => D::Rectification,
            RequestKind::Blocking => D::Blocking,
            RequestKind::Erasure => D::Erasure,
            RequestKind::StopProcessing => D::StopProcessing,
            RequestKind::WithdrawConsent => D::WithdrawConsent,
            RequestKind::ObjectMarketing | RequestKind::ObjectLegitimate => D::Object,
            RequestKind::Transfer => D::Transfer,
            RequestKind::Complaint => D::Complaint,
        }
    }

    /// Kinds a repeat within 30 days may be refused for (152-FZ Art. 14 p. 4-6: a repeat
    /// request for the information of Art. 14 p. 7; a copy is answered as access).
    pub fn repeat_limited(self) -> bool {
        matches!(self, RequestKind::Access | RequestKind::Copy)
    }
}

string_enum! {
    /// Where a request stands.
    RequestState {
        /// Filed, nothing done yet.
        Received => "received",
        /// The subject's identity is being verified.
        Verifying => "verifying",
        InProgress => "in_progress",
        /// Waiting for the subject's clarification.
        Paused => "paused",
        /// Answered and its effects carried out: final.
        Completed => "completed",
        /// Refused with a reason: final.
        Refused => "refused",
    }
}

impl RequestState {
    /// Completed and refused requests take no further transition.
    pub fn is_final(self) -> bool {
        matches!(self, RequestState::Completed | RequestState::Refused)
    }
}

string_enum! {
    /// Why a request is refused (a fixed list; the answer cites the law).
    RefusalReason {
        /// No subject on record matches the request.
        NoMatch => "no_match",
        /// The request does not identify the subject as 152-FZ Art. 14 p. 3 requires.
        InsufficientIdentification => "insufficient_identification",
        /// The identity could not be verified.
        InsufficientVerification => "insufficient_verification",
        /// None of the operator's regimes applies to the subject.
        OutsideJurisdiction => "outside_jurisdiction",
        /// A repeat request within 30 days of the first (152-FZ Art. 14 p. 4-6).
        RepeatRequest => "repeat_request",
        /// Manifestly unfounded or excessive (GDPR Art. 12(5)).
        ManifestlyUnfounded => "manifestly_unfounded",
        /// A federal law restricts the right (152-FZ Art. 14 p. 8); needs its citation.
        LegalRestriction => "legal_restriction",
    }
}

impl RefusalReason {
    /// The law the refusal rests on, cited in the answer.
    pub fn basis(self) -> &'static str {
        match self {
            RefusalReason::NoMatch => "152-FZ Art. 20 p. 2; GDPR Art. 11(2)",
            RefusalReason::InsufficientIdentification => "152-FZ Art. 14 p. 3",
            RefusalReason::InsufficientVerification => "152-FZ Art. 14 p. 3; GDPR Art. 12(6)",
            RefusalReason::OutsideJurisdiction => "152-FZ Art. 1, GDPR Art. 3, Cal. Civ. Code 1798.140",
            RefusalReason::RepeatRequest => "152-FZ Art. 14 p. 4-6",
            RefusalReason::ManifestlyUnfounded => "GDPR Art. 12(5); 152-FZ Art. 14 p. 6",
            RefusalReason::LegalRestriction => "152-FZ Art. 14 p. 8",
        }
    }

    /// Whether the refusal must cite the restricting law itself.
    pub fn needs_citation(self) -> bool {
        self == RefusalReason::LegalRestriction
    }
}

string_enum! {
    /// How a request came in.
    Channel {
        /// By the website on the signed-in subject's behalf: its service key vouches.
        Website => "website",
        /// Recorded by the officer.
        Officer => "officer",
        /// By a representative with an authority document, recorded by the officer.
        Representative => "representative",
        /// By the subject themself through the portal: identity still to verify.
        Subject => "subject",
    }
}

string_enum! {
    /// Why a term is extended (the reasoned notice names it; a note may add more, sealed).
    ExtensionReason {
        /// The request is complex (GDPR Art. 12(3); the "reasoned notice" of 152-FZ Art. 14 p. 3).
        Complexity => "complexity",
        /// Many requests at once (GDPR Art. 12(3)).
        NumberOfRequests => "number_of_requests",
        /// Data held by a processor must be gathered first.
        ProcessorInvolved => "processor_involved",
    }
}

string_enum! {
    /// A step of the workflow.
    Transition {
        StartVerification => "start_verification",
        Verified => "verified",
        Pause => "pause",
        Resume => "resume",
        Extend => "extend",
        Complete => "complete",
        Refuse => "refuse",
    }
}

/// The state `transition` leads to from `state`; `None` if it is not allowed there.
/// Extending keeps the state. Completed and refused are final.
pub fn next(state: RequestState, transition: Transition) -> Option<RequestState> {
    use RequestState::*;
    use Transition as T;
    match (state, transition) {
        (s, _) if s.is_final() => None,
        (Received | Verifying, T::StartVerification) => Some(Verifying),
        (Received | Verifying, T::Verified) => Some(InProgress),
        (InProgress, T::Pause) => Some(Paused),
        (Paused, T::Resume) => Some(InProgress),
        (s, T::Extend) => Some(s),
        (InProgress, T::Complete) => Some(Completed),
        (_, T::Refuse) => Some(Refused),
        _ => None,
    }
}

/// Whether a pause waiting for the subject's clarification stops `regime`'s clock.
///
/// - EU: yes. Art. 12(6) lets the controller ask for what it needs to confirm the identity,
///   and the EDPB (Guidelines 01/2022 on the right of access, on clarifying a request) counts
///   the month from when it has what it needs.
/// - California: yes, as Ward reads 11 CCR 7021(b) and 7060 (the business asks for what it
///   needs to verify and the 45 days run on what it has); checklist level [K], to verify.
/// - Russia: no. 152-FZ counts the 10 working days "from the moment of the appeal or the
///   receipt of the request" (Art. 14 p. 3, Art. 20 p. 1) and provides no suspension; an
///   incomplete request is refused (Art. 14 p. 3) rather than paused. A paused Russian
///   request keeps its due date.
pub fn pause_stops_clock(regime: Regime) -> bool {
    !matches!(regime, Regime::Ru)
}

/// Whether a pause stops the request's clock: only if it stops every regime's (the earliest
/// deadline applies, and a regime whose clock runs on keeps it).
pub fn pause_stops(regimes: &[Regime]) -> bool {
    !regimes.is_empty() && regimes.iter().all(|r| pause_stops_clock(*r))
}

/// The whole days a pause of `paused` moves the due date by (part of a day counts whole).
pub fn pause_days(paused: Duration) -> i64 {
    let secs = paused.whole_seconds().max(0);
    (secs + 86_399) / 86_400
}

/// A request's due dates as counted at intake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub due_on: Date,
    /// The due date once extended; `None` when no regime of the request allows an extension.
    pub extended_due_on: Option<Date>,
}

/// The due dates of a `kind` request under `regimes` received at `received`: the existing
/// presets, the earliest regime's, counted on the calendars in the operator's zone.
pub fn schedule(
    kind: RequestKind,
    regimes: &[Regime],
    received: OffsetDateTime,
    calendars: &Calendars,
    zone: &Zone,
) -> Result<Schedule, DeadlineError> {
    let query = |extended| DeadlineQuery {
        kind: kind.deadline_kind(),
        regimes: regimes.to_vec(),
        received,
        extended,
    };
    let due = deadline::due(&query(false), calendars, zone)?;
    let due_on = due.applies().counted.due_date;
    let extended = deadline::due(&query(true), calendars, zone)?;
    let extended_due_on = Some(extended.applies().counted.due_date).filter(|d| *d > due_on);
    Ok(Schedule {
        due_on,
        extended_due_on,
    })
}

/// Why an extension is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionRefused {
    /// A term is extended once.
    AlreadyExtended,
    /// The notice must go out before the due date has passed.
    AfterDueDate,
    /// None of the request's regimes allows extending this kind's term.
    NotExtendable,
}

/// Checks an extension on `today` (the operator's day) of a request due on `due_on`.
pub fn check_extension(already: bool, extendable: bool, due_on: Date, today: Date) -> Result<(), ExtensionRefused> {
    if already {
        Err(ExtensionRefused::AlreadyExtended)
    } else if today > due_on {
        Err(ExtensionRefused::AfterDueDate)
    } else if !extendable {
        Err(ExtensionRefused::NotExtendable)
    } else {
        Ok(())
    }
}

/// An earlier request of the same subject, as the duplicate and repeat rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earlier<Id> {
    pub id: Id,
    pub kind: RequestKind,
    pub state: RequestState,
    pub received_at: OffsetDateTime,
}

/// The days within which a repeat request may be refused (152-FZ Art. 14 p. 4).
pub const REPEAT_DAYS: i64 = 30;

/// The open request of the same kind a new one duplicates, if any (the oldest).
pub fn duplicate_of<Id: Copy>(kind: RequestKind, earlier: &[Earlier<Id>]) -> Option<Id> {
    earlier
        .iter()
        .filter(|e| e.kind == kind && !e.state.is_final())
        .min_by_key(|e| e.received_at)
        .map(|e| e.id)
}

/// The completed request a new one of `kind` received at `received` repeats: of a
/// repeat-limited kind, received less than 30 days after that one (152-FZ Art. 14 p. 4: "not
/// earlier than 30 days after the first request"). The latest such one.
pub fn repeat_of<Id: Copy>(kind: RequestKind, received: OffsetDateTime, earlier: &[Earlier<Id>]) -> Option<Id> {
    if !kind.repeat_limited() {
        return None;
    }
    earlier
        .iter()
        .filter(|e| e.kind.repeat_limited() && e.state == RequestState::Completed)
        .filter(|e| e.received_at <= received && received - e.received_at < Duration::days(REPEAT_DAYS))
        .max_by_key(|e| e.received_at)
        .map(|e| e.id)
}

#[cfg(test)]
mod tests;
