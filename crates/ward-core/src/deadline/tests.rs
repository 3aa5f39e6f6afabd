use super::*;
use time::macros::{date, datetime};

fn ru(kind: RequestKind, received: OffsetDateTime, extended: bool) -> Result<Due, DeadlineError> {
    regimes(kind, &[Regime::Ru], received, extended)
}

fn regimes(kind: RequestKind, rs: &[Regime], received: OffsetDateTime, extended: bool) -> Result<Due, DeadlineError> {
    let q = DeadlineQuery {
        kind,
        regimes: rs.to_vec(),
        received,
        extended,
    };
    due(&q, &Calendars::shipped(), &Zone::default())
}

fn on(kind: RequestKind, received: OffsetDateTime, extended: bool) -> Date {
    ru(kind, received, extended).unwrap().applies().counted.due_date
}

/// Checklist §E, the worked examples (federal calendar): received, +3, +7, +10, +15 working
/// days, +30 calendar days.
#[test]
fn the_worked_examples_of_the_checklist() {
    use RequestKind::*;
    let rows = [
        (
            datetime!(2026-04-30 12:00 +3),
            [
                date!(2026 - 05 - 06),
                date!(2026 - 05 - 13),
                date!(2026 - 05 - 18),
                date!(2026 - 05 - 25),
            ],
            Some(date!(2026 - 05 - 30)),
        ),
        (
            datetime!(2026-02-20 12:00 +3),
            [
                date!(2026 - 02 - 26),
                date!(2026 - 03 - 04),
                date!(2026 - 03 - 10),
                date!(2026 - 03 - 17),
            ],
            Some(date!(2026 - 03 - 22)),
        ),
        (
            datetime!(2026-12-25 12:00 +3),
            [
                date!(2026 - 12 - 30),
                date!(2027 - 01 - 14),
                date!(2027 - 01 - 19),
                date!(2027 - 01 - 26),
            ],
            Some(date!(2027 - 01 - 24)),
        ),
        (
            datetime!(2027-02-18 12:00 +3),
            [
                date!(2027 - 02 - 24),
                date!(2027 - 03 - 02),
                date!(2027 - 03 - 05),
                date!(2027 - 03 - 15),
            ],
            None,
        ),
    ];
    for (received, [wd3, wd7, wd10, wd15], cd30) in rows {
        assert_eq!(on(StopUnlawful, received, false), wd3, "{received} +3");
        assert_eq!(on(Rectification, received, false), wd7, "{received} +7");
        assert_eq!(on(Access, received, false), wd10, "{received} +10");
        assert_eq!(on(Access, received, true), wd15, "{received} +15");
        assert_eq!(on(StopProcessing, received, true), wd15, "{received} 5.1 +15");
        if let Some(cd30) = cd30 {
            assert_eq!(on(WithdrawConsent, received, false), cd30, "{received} +30");
            assert_eq!(on(PurposeAchieved, received, false), cd30, "{received} +30");
        }
    }
}

#[test]
fn the_explanation_names_each_skipped_day_and_the_working_saturday() {
    let d = ru(RequestKind::Access, datetime!(2026-12-25 12:00 +3), false).unwrap();
    let r = d.applies();
    assert_eq!(r.term, Term::WorkingDays(10));
    let lines: Vec<String> = r.counted.steps.iter().map(Step::describe).collect();
    let text = lines.join("\n");
    assert!(
        text.contains("2026-12-31 Thu  skipped: day off: transferred from Sunday 4 January (Government Decree No. 1466 of 24.09.2025)"),
        "{text}"
    );
    assert!(
        text.contains("2027-01-07 Thu  skipped: holiday: Christmas (Labour Code Art. 112 p. 1)"),
        "{text}"
    );
    assert!(text.contains("2027-01-09 Sat  skipped: weekend (Saturday)"), "{text}");
    assert!(text.contains("2027-01-19 Tue  counted #10: working day"), "{text}");
    // The steps run from the day after receipt to the due day, one per day.
    assert_eq!(r.counted.steps.first().unwrap().date, date!(2026 - 12 - 26));
    assert_eq!(r.counted.steps.len(), 25);

    let d = ru(RequestKind::Access, datetime!(2027-02-18 12:00 +3), false).unwrap();
    let sat = &d.applies().counted.steps[1];
    assert_eq!(sat.date, date!(2027 - 02 - 20));
    assert_eq!(sat.counted, Some(2));
    assert_eq!(sat.act.as_deref(), Some("Government Decree No. 1187 of 17.09.2026"));
}

/// Labour Code Art. 112: holidays are not worked; a holiday on a weekend moves to the next
/// working day (p. 2), except in the New Year block, whose weekend days the decree moves.
#[test]
fn art_112_holidays_and_transfers() {
    // 8 March 2026 is a Sunday: 9 March is off. Received Friday 6 March: 1 working day is
    // Tuesday 10 March.
    let one_day = count(
        Term::WorkingDays(1),
        datetime!(2026-03-06 10:00 +3),
        &Calendars::shipped(),
        &Zone::default(),
    )
    .unwrap();
    assert_eq!(one_day.due_date, date!(2026 - 03 - 10));
    // New Year: 3 and 4 January 2026 (a weekend) are not moved to 9-10 January by Art. 112
    // p. 2 but by the decree, to 9 January and 31 December.
    let c = Calendars::shipped();
    assert!(!c.status(date!(2026 - 01 - 09)).unwrap().is_working());
    assert!(c.status(date!(2026 - 01 - 12)).unwrap().is_working());
    // Received 30 December 2026: one working day later is 11 January 2027.
    let next = count(
        Term::WorkingDays(1),
        datetime!(2026-12-30 18:00 +3),
        &c,
        &Zone::default(),
    )
    .unwrap();
    assert_eq!(next.due_date, date!(2027 - 01 - 11));
}

#[test]
fn the_operators_zone_decides_the_day_of_receipt_and_the_end_of_the_due_day() {
    // 23:30 UTC on Wednesday 29 April 2026 is already Thursday 30 April in Moscow.
    let d = ru(RequestKind::Access, datetime!(2026-04-29 23:30 UTC), false).unwrap();
    assert_eq!(d.received_on, date!(2026 - 04 - 30));
    assert_eq!(d.applies().counted.due_date, date!(2026 - 05 - 18));
    assert_eq!(d.applies().counted.due_at, datetime!(2026-05-18 23:59:59 +3));
    // In New York it is still Wednesday 29 April.
    let q = DeadlineQuery {
        kind: RequestKind::Access,
        regimes: vec![Regime::Ru],
        received: datetime!(2026-04-29 23:30 UTC),
        extended: false,
    };
    let ny = due(&q, &Calendars::shipped(), &Zone::named("America/New_York").unwrap()).unwrap();
    assert_eq!(ny.received_on, date!(2026 - 04 - 29));
    assert_eq!(ny.applies().counted.due_date, date!(2026 - 05 - 15));
    assert_eq!(ny.applies().counted.due_at, datetime!(2026-05-15 23:59:59 -4));
    assert!(Zone::named("Mars/Olympus").is_err());
    assert_eq!(Zone::default().name(), "Europe/Moscow");
}

#[test]
fn eu_months_end_on_the_same_day_or_the_last_of_the_month() {
    let eu = |received, extended| {
        regimes(RequestKind::Access, &[Regime::Eu], received, extended)
            .unwrap()
            .applies()
            .counted
            .due_date
    };
    assert_eq!(eu(datetime!(2026-01-31 12:00 +3), false), date!(2026 - 02 - 28));
    assert_eq!(eu(datetime!(2027-01-31 12:00 +3), false), date!(2027 - 02 - 28));
    assert_eq!(eu(datetime!(2026-01-31 12:00 +3), true), date!(2026 - 04 - 30));
    assert_eq!(eu(datetime!(2026-05-15 12:00 +3), false), date!(2026 - 06 - 15));
    // 2028 is a leap year; a month term needs no calendar.
    assert_eq!(eu(datetime!(2028-01-31 12:00 +3), false), date!(2028 - 02 - 29));
}

#[test]
fn a_date_without_a_calendar_is_refused_naming_the_year() {
    let e = ru(RequestKind::Access, datetime!(2028-03-01 12:00 +3), false).unwrap_err();
    assert_eq!(e, DeadlineError::CalendarMissing(MissingCalendar { year: 2028 }));
    assert!(e.to_string().contains("2028"), "{e}");
    // A count that runs from 2027 into 2028 stops there too.
    let e = ru(RequestKind::Access, datetime!(2027-12-28 12:00 +3), false).unwrap_err();
    assert_eq!(e, DeadlineError::CalendarMissing(MissingCalendar { year: 2028 }));
    // Calendar days need no calendar.
    assert_eq!(
        on(RequestKind::WithdrawConsent, datetime!(2028-03-01 12:00 +3), false),
        date!(2028 - 03 - 31)
    );
}

#[test]
fn several_regimes_give_the_earliest() {
    use Regime::*;
    let received = datetime!(2026-12-28 12:00 +3);
    let d = regimes(RequestKind::Access, &[Eu, UsCa, Ru], received, false).unwrap();
    let dates: Vec<(Regime, Date)> = d.regimes.iter().map(|r| (r.regime, r.counted.due_date)).collect();
    assert_eq!(
        dates,
        vec![
            (Eu, date!(2027 - 01 - 28)),
            (UsCa, date!(2027 - 02 - 11)),
            (Ru, date!(2027 - 01 - 20)),
        ]
    );
    assert_eq!(d.applies().regime, Ru);
    // Extended: RU 15 working days (27 January), EU 3 months (28 March), CA 90 days.
    let d = regimes(RequestKind::Access, &[Eu, Ru, UsCa], received, true).unwrap();
    assert_eq!(d.applies().regime, Ru);
    assert_eq!(d.applies().counted.due_date, date!(2027 - 01 - 27));
    assert!(d.regimes.iter().all(|r| r.extended));
    // Rectification has no extension under 152-FZ: RU stays at 7 working days.
    let d = regimes(RequestKind::Rectification, &[Eu, Ru], received, true).unwrap();
    assert_eq!((d.applies().regime, d.applies().extended), (Ru, false));
    assert!(d
        .applies()
        .counted
        .notes
        .iter()
        .any(|n| n.contains("cannot be extended")));
    // A duty only one regime has: the others are listed as without a term.
    let d = regimes(RequestKind::StopUnlawful, &[Eu, Ru], received, false).unwrap();
    assert_eq!((d.applies().regime, d.without_term.clone()), (Ru, vec![Eu]));
    let e = regimes(RequestKind::PurposeAchieved, &[Eu, UsCa], received, false).unwrap_err();
    assert!(
        e.to_string().contains("purpose_achieved has no term under eu, us-ca"),
        "{e}"
    );
    assert_eq!(
        regimes(RequestKind::Access, &[], received, false).unwrap_err(),
        DeadlineError::NoRegime
    );
}

#[test]
fn hours_and_immediate_terms_are_clock_time() {
    let received = datetime!(2026-12-31 22:00 +3);
    let d = regimes(RequestKind::IncidentNotice, &[Regime::Ru, Regime::Eu], received, false).unwrap();
    assert_eq!(d.applies().regime, Regime::Ru);
    assert_eq!(d.applies().counted.due_at, datetime!(2027-01-01 22:00 +3));
    assert_eq!(d.regimes[1].counted.due_at, datetime!(2027-01-03 22:00 +3));
    let d = ru(RequestKind::Blocking, received, false).unwrap();
    assert_eq!(d.applies().term, Term::Immediate);
    assert_eq!(d.applies().counted.due_at, received);
}

#[test]
fn every_request_kind_has_a_term_under_every_regime() {
    use RequestKind::*;
    for kind in [
        Access,
        Copy,
        Rectification,
        Blocking,
        Erasure,
        StopProcessing,
        WithdrawConsent,
        Object,
        Transfer,
        Complaint,
    ] {
        for &regime in Regime::ALL {
            let p = preset(regime, kind).unwrap_or_else(|| panic!("{regime} {kind}"));
            assert!(!p.basis.is_empty());
        }
    }
    assert_eq!(
        preset(Regime::Ru, Access).map(|p| (p.term, p.extended)),
        Some((Term::WorkingDays(10), Some(Term::WorkingDays(15))))
    );
    assert_eq!(
        preset(Regime::UsCa, Erasure).map(|p| (p.term, p.extended)),
        Some((Term::CalendarDays(45), Some(Term::CalendarDays(90))))
    );
}

#[test]
fn a_moment_at_the_end_of_time_is_refused_not_a_panic() {
    let end = datetime!(9999-12-31 23:00 UTC);
    for kind in [
        RequestKind::WithdrawConsent,
        RequestKind::Access,
        RequestKind::IncidentNotice,
    ] {
        for &regime in Regime::ALL {
            // Either a clean error or an answer; never a panic.
            let _ = regimes(kind, &[regime], end, true);
        }
    }
    assert_eq!(
        regimes(RequestKind::Access, &[Regime::Eu], end, false).unwrap_err(),
        DeadlineError::OutOfRange
    );
}

/// Every day of the shipped years (the domain is finite, so every case rather than a sample):
/// a working-day count ends on a working day, counts exactly `n` days, explains each day from
/// the day after receipt to the due day once, grows with `n`, and fails only by reaching 2028.
#[test]
fn working_day_counts_hold_their_invariants_on_every_day_of_the_shipped_years() {
    let c = Calendars::shipped();
    let mut day = date!(2026 - 01 - 01);
    while day.year() < 2028 {
        let mut last = day;
        for n in 1..=15 {
            match working_days(&c, day, n) {
                Ok((due, steps)) => {
                    assert!(c.status(due).unwrap().is_working(), "{day} +{n}");
                    assert!(due > last, "{day} +{n}");
                    last = due;
                    assert_eq!(steps.iter().filter(|s| s.counted.is_some()).count(), n as usize);
                    let mut expected = day;
                    for s in &steps {
                        expected = expected.next_day().unwrap();
                        assert_eq!(s.date, expected, "{day} +{n}");
                        assert_eq!(s.counted.is_some(), c.status(s.date).unwrap().is_working());
                    }
                    assert_eq!(expected, due);
                }
                Err(e) => {
                    assert_eq!(e, MissingCalendar { year: 2028 }, "{day} +{n}");
                    assert_eq!(day.year(), 2027);
                }
            }
        }
        day = day.next_day().unwrap();
    }
}

/// Every day of 2026-2028 and 1-3 months: the later month, the same day or its last.
#[test]
fn month_ends_hold_on_every_day() {
    let mut day = date!(2026 - 01 - 01);
    while day.year() < 2029 {
        for n in 1..=3u8 {
            let end = months(day, u32::from(n)).unwrap();
            let index = |d: Date| d.year() * 12 + i32::from(u8::from(d.month()));
            assert_eq!(index(end) - index(day), i32::from(n), "{day} +{n}");
            assert_eq!(end.day(), day.day().min(end.month().length(end.year())), "{day} +{n}");
        }
        day = day.next_day().unwrap();
    }
}

/// Under several regimes the deadline is the earliest single regime's, and an extension
/// never ends earlier; for every kind, on every ninth day of 2026 (each weekday in turn).
#[test]
fn several_regimes_are_the_earliest_single_one_and_extensions_never_shorten() {
    let all = [Regime::Ru, Regime::Eu, Regime::UsCa];
    let mut day = date!(2026 - 01 - 01);
    while day.year() == 2026 {
        let received = day.with_hms(12, 0, 0).unwrap().assume_offset(time::macros::offset!(+3));
        for &kind in RequestKind::ALL {
            let single: Vec<Option<OffsetDateTime>> = all
                .iter()
                .map(|r| {
                    regimes(kind, &[*r], received, false)
                        .ok()
                        .map(|d| d.applies().counted.due_at)
                })
                .collect();
            let earliest = single.iter().flatten().min().copied();
            let combined = regimes(kind, &all, received, false)
                .ok()
                .map(|d| d.applies().counted.due_at);
            assert_eq!(combined, earliest, "{day} {kind}");
            for r in all {
                if let (Ok(plain), Ok(ext)) = (
                    regimes(kind, &[r], received, false),
                    regimes(kind, &[r], received, true),
                ) {
                    assert!(
                        ext.applies().counted.due_at >= plain.applies().counted.due_at,
                        "{day} {kind} {r}"
                    );
                }
            }
        }
        day = day.checked_add(Duration::days(9)).unwrap();
    }
}
