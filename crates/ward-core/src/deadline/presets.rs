//! The deadline presets, regime × kind (checklist §F.2, the one source of truth for them).
//! Where a law sets no term for a kind, the preset's `basis` says so and names the term Ward
//! applies instead; where a regime has no such duty at all, there is no preset (`None`).

use super::{Regime, RequestKind, Term};

/// A kind's term under a regime: the term, the whole term once extended (if the law allows
/// an extension), and the law it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub term: Term,
    /// The whole term after an extension with a reasoned notice (10 + 5 working days is
    /// `WorkingDays(15)`); `None` when the term cannot be extended.
    pub extended: Option<Term>,
    pub basis: &'static str,
}

const fn p(term: Term, extended: Option<Term>, basis: &'static str) -> Option<Preset> {
    Some(Preset { term, extended, basis })
}

/// The preset for `kind` under `regime`, if the regime has one.
pub fn preset(regime: Regime, kind: RequestKind) -> Option<Preset> {
    use RequestKind::*;
    use Term::{CalendarDays as Cd, Hours, Immediate, Months, WorkingDays as Wd};
    match regime {
        Regime::Ru => match kind {
            Access => p(Wd(10), Some(Wd(15)), "152-FZ Art. 14 p. 3, Art. 20 p. 1-2"),
            Copy => p(
                Wd(10),
                Some(Wd(15)),
                "152-FZ has no right to a portable copy: it is answered as access (Art. 14 p. 3)",
            ),
            Rectification => p(Wd(7), None, "152-FZ Art. 20 p. 3, Art. 21 p. 2"),
            Blocking => p(Immediate, None, "152-FZ Art. 21 p. 1 (from the moment of the appeal)"),
            Erasure => p(
                Wd(7),
                None,
                "152-FZ Art. 20 p. 3 (data unlawfully obtained or not needed)",
            ),
            StopProcessing => p(Wd(10), Some(Wd(15)), "152-FZ Art. 21 p. 5.1"),
            WithdrawConsent => p(Cd(30), None, "152-FZ Art. 21 p. 5 (stop and destroy)"),
            Object => p(
                Immediate,
                None,
                "152-FZ Art. 15 p. 2 (direct marketing stops at once); an objection to an automated \
                 decision has 30 days (Art. 16 p. 4)",
            ),
            Transfer => p(
                Wd(10),
                Some(Wd(15)),
                "152-FZ has no right to a transfer to a third party: Ward applies the access term \
                 (Art. 14 p. 3)",
            ),
            Complaint => p(
                Wd(10),
                Some(Wd(15)),
                "152-FZ sets no term for a complaint: it is answered as an appeal (Art. 20 p. 1-2)",
            ),
            StopUnlawful => p(Wd(3), None, "152-FZ Art. 21 p. 3"),
            DestroyUnlawful => p(Wd(10), None, "152-FZ Art. 21 p. 3 (lawfulness cannot be ensured)"),
            PurposeAchieved => p(Cd(30), None, "152-FZ Art. 21 p. 4"),
            RegulatorRequest => p(Wd(10), Some(Wd(15)), "152-FZ Art. 20 p. 4"),
            IncidentNotice => p(Hours(24), None, "152-FZ Art. 21 p. 3.1 item 1"),
            IncidentResults => p(Hours(72), None, "152-FZ Art. 21 p. 3.1 item 2"),
        },
        Regime::Eu => {
            let month = |basis| p(Months(1), Some(Months(3)), basis);
            match kind {
                Access => month("GDPR Art. 15, Art. 12(3)"),
                Copy => month("GDPR Art. 20(1), Art. 12(3)"),
                Rectification => month("GDPR Art. 16, Art. 12(3)"),
                Blocking => month("GDPR Art. 18, Art. 12(3)"),
                Erasure => month("GDPR Art. 17, Art. 12(3)"),
                StopProcessing => month("GDPR has no separate demand to stop: an objection, Art. 21(1), Art. 12(3)"),
                WithdrawConsent => month(
                    "GDPR Art. 7(3): withdrawal stops consent-based processing at once; the erasure \
                     that follows, Art. 17(1)(b), Art. 12(3)",
                ),
                Object => month("GDPR Art. 21, Art. 12(3) (direct marketing stops at once, Art. 21(3))"),
                Transfer => month("GDPR Art. 20(2), Art. 12(3)"),
                Complaint => month("GDPR sets no term for a complaint to the controller: Ward applies Art. 12(3)"),
                IncidentNotice => p(Hours(72), None, "GDPR Art. 33(1)"),
                StopUnlawful | DestroyUnlawful | PurposeAchieved | RegulatorRequest | IncidentResults => None,
            }
        }
        Regime::UsCa => {
            let know = |basis| p(Cd(45), Some(Cd(90)), basis);
            let opt_out = |basis| p(Cd(15), None, basis);
            match kind {
                Access | Copy | Transfer => know("Cal. Civ. Code 1798.130(a)(2)"),
                Rectification | Erasure => know("Cal. Civ. Code 1798.130(a)(2), 11 CCR 7021"),
                Complaint => know("CCPA sets no term for a complaint: Ward applies 1798.130(a)(2)"),
                StopProcessing | Object | WithdrawConsent => opt_out(
                    "11 CCR 7026: 15 business days to opt out of sale or sharing; Ward has no US \
                     business-day calendar and counts 15 calendar days, which never end later",
                ),
                Blocking => opt_out(
                    "11 CCR 7027: 15 business days to limit the use of sensitive data; counted as \
                     15 calendar days, which never end later",
                ),
                StopUnlawful | DestroyUnlawful | PurposeAchieved | RegulatorRequest | IncidentNotice
                | IncidentResults => None,
            }
        }
    }
}
