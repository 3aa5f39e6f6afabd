use super::*;
use crate::calendar::Calendars;
use time::macros::{date, datetime};

fn sched(kind: RequestKind, regimes: &[Regime], received: OffsetDateTime) -> Schedule {
    schedule(kind, regimes, received, &Calendars::shipped(), &Zone::default()).unwrap()
}

#[test]
fn every_kind_has_a_term_under_every_regime_from_the_existing_presets() {
    for kind in RequestKind::ALL {
        for regime in Regime::ALL {
            let s = sched(*kind, &[*regime], datetime!(2026-04-30 12:00 +3));
            assert!(s.due_on >= date!(2026 - 04 - 30), "{kind} {regime}");
        }
    }
    // Access under 152-FZ: 10 working days, +5 with a reasoned notice (checklist §E example).
    let s = sched(RequestKind::Access, &[Regime::Ru], datetime!(2026-04-30 12:00 +3));
    assert_eq!(s.due_on, date!(2026 - 05 - 18));
    assert_eq!(s.extended_due_on, Some(date!(2026 - 05 - 25)));
    // Rectification: 7 working days, not extendable.
    let s = sched(
        RequestKind::Rectification,
        &[Regime::Ru],
        datetime!(2026-04-30 12:00 +3),
    );
    assert_eq!(s.due_on, date!(2026 - 05 - 13));
    assert_eq!(s.extended_due_on, None);
    // Withdrawal: 30 calendar days.
    let s = sched(
        RequestKind::WithdrawConsent,
        &[Regime::Ru],
        datetime!(2026-04-30 12:00 +3),
    );
    assert_eq!(s.due_on, date!(2026 - 05 - 30));
    // EU: one month, +2; California 45 (+45) days.
    let s = sched(RequestKind::Erasure, &[Regime::Eu], datetime!(2026-01-31 12:00 +3));
    assert_eq!(s.due_on, date!(2026 - 02 - 28));
    assert_eq!(s.extended_due_on, Some(date!(2026 - 04 - 30)));
    let s = sched(RequestKind::Access, &[Regime::UsCa], datetime!(2026-03-01 12:00 +3));
    assert_eq!(s.due_on, date!(2026 - 04 - 15));
    assert_eq!(s.extended_due_on, Some(date!(2026 - 05 - 30)));
    // Under several regimes the earliest applies.
    let s = sched(
        RequestKind::Access,
        &[Regime::Eu, Regime::Ru],
        datetime!(2026-04-30 12:00 +3),
    );
    assert_eq!(s.due_on, date!(2026 - 05 - 18));
}

#[test]
fn a_date_in_a_year_without_calendar_is_refused() {
    let e = schedule(
        RequestKind::Access,
        &[Regime::Ru],
        datetime!(2028-03-01 12:00 +3),
        &Calendars::shipped(),
        &Zone::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("2028"), "{e}");
}

#[test]
fn transitions_follow_the_state_machine_and_final_states_take_none() {
    use RequestState::*;
    use Transition as T;
    assert_eq!(next(Received, T::StartVerification), Some(Verifying));
    assert_eq!(next(Verifying, T::StartVerification), Some(Verifying));
    assert_eq!(next(Received, T::Verified), Some(InProgress));
    assert_eq!(next(Verifying, T::Verified), Some(InProgress));
    assert_eq!(next(InProgress, T::Pause), Some(Paused));
    assert_eq!(next(Paused, T::Resume), Some(InProgress));
    assert_eq!(next(Paused, T::Extend), Some(Paused));
    assert_eq!(next(InProgress, T::Complete), Some(Completed));
    assert_eq!(next(Verifying, T::Refuse), Some(Refused));
    assert_eq!(next(Verifying, T::Complete), None);
    assert_eq!(next(Received, T::Pause), None);
    assert_eq!(next(InProgress, T::Resume), None);
    assert_eq!(next(Paused, T::Complete), None);
    for t in Transition::ALL {
        assert_eq!(next(Completed, *t), None, "{t}");
        assert_eq!(next(Refused, *t), None, "{t}");
    }
}

#[test]
fn a_pause_stops_the_clock_only_where_every_regime_stops_it() {
    assert!(pause_stops(&[Regime::Eu]));
    assert!(pause_stops(&[Regime::Eu, Regime::UsCa]));
    assert!(!pause_stops(&[Regime::Ru]));
    assert!(!pause_stops(&[Regime::Eu, Regime::Ru]));
    assert!(!pause_stops(&[]));
    assert_eq!(pause_days(Duration::ZERO), 0);
    assert_eq!(pause_days(Duration::hours(1)), 1);
    assert_eq!(pause_days(Duration::days(3)), 3);
    assert_eq!(pause_days(Duration::days(3) + Duration::seconds(1)), 4);
}

#[test]
fn an_extension_is_once_before_the_due_date_where_a_regime_allows_it() {
    let due = date!(2026 - 05 - 18);
    assert_eq!(check_extension(false, true, due, due), Ok(()));
    assert_eq!(
        check_extension(true, true, due, date!(2026 - 05 - 01)),
        Err(ExtensionRefused::AlreadyExtended)
    );
    assert_eq!(
        check_extension(false, true, due, date!(2026 - 05 - 19)),
        Err(ExtensionRefused::AfterDueDate)
    );
    assert_eq!(
        check_extension(false, false, due, date!(2026 - 05 - 01)),
        Err(ExtensionRefused::NotExtendable)
    );
}

#[test]
fn duplicates_are_open_requests_of_the_kind_and_repeats_follow_a_completed_access_within_30_days() {
    let e = |id: u8, kind, state, received_at| Earlier {
        id,
        kind,
        state,
        received_at,
    };
    let earlier = [
        e(
            1,
            RequestKind::Access,
            RequestState::Completed,
            datetime!(2026-03-01 10:00 UTC),
        ),
        e(
            2,
            RequestKind::Erasure,
            RequestState::InProgress,
            datetime!(2026-03-02 10:00 UTC),
        ),
        e(
            3,
            RequestKind::Erasure,
            RequestState::Refused,
            datetime!(2026-03-01 10:00 UTC),
        ),
    ];
    assert_eq!(duplicate_of(RequestKind::Erasure, &earlier), Some(2));
    assert_eq!(duplicate_of(RequestKind::Access, &earlier), None);
    let now = datetime!(2026-03-20 10:00 UTC);
    assert_eq!(repeat_of(RequestKind::Access, now, &earlier), Some(1));
    assert_eq!(repeat_of(RequestKind::Copy, now, &earlier), Some(1));
    assert_eq!(repeat_of(RequestKind::Erasure, now, &earlier), None);
    assert_eq!(
        repeat_of(RequestKind::Access, datetime!(2026-03-31 10:00 UTC), &earlier),
        None
    );
}

#[test]
fn only_a_legal_restriction_needs_a_citation_and_every_reason_cites_its_law() {
    for r in RefusalReason::ALL {
        assert_eq!(r.needs_citation(), *r == RefusalReason::LegalRestriction);
        assert!(!r.basis().is_empty());
    }
}
