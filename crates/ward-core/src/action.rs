//! The vocabulary of processing: 152-FZ Art. 3 item 3 operations and Art. 6 legal bases.

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::action::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err($crate::action::UnknownName {
                        kind: stringify!($name),
                        expected: &[$($s),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use string_enum;

/// A name that is not one of an enumeration's values.
#[derive(Debug, Clone, thiserror::Error)]
#[error("expected one of: {}", expected.join(", "))]
pub struct UnknownName {
    pub kind: &'static str,
    pub expected: &'static [&'static str],
}

string_enum! {
    /// Operations with personal data, as 152-FZ Art. 3 item 3 lists them. Distribution (to an
    /// unlimited circle) and provision (to a defined person) are kept apart: different rules.
    ProcessingAction {
        /// сбор
        Collection => "collection",
        /// запись
        Recording => "recording",
        /// систематизация
        Systematisation => "systematisation",
        /// накопление
        Accumulation => "accumulation",
        /// хранение
        Storage => "storage",
        /// уточнение (обновление, изменение)
        Rectification => "rectification",
        /// извлечение
        Retrieval => "retrieval",
        /// использование
        Use => "use",
        /// передача: распространение
        Distribution => "distribution",
        /// передача: предоставление
        Provision => "provision",
        /// передача: доступ
        Access => "access",
        /// обезличивание
        Depersonalisation => "depersonalisation",
        /// блокирование
        Blocking => "blocking",
        /// удаление
        Deletion => "deletion",
        /// уничтожение
        Destruction => "destruction",
    }
}

string_enum! {
    /// Why processing is lawful. Each maps to a 152-FZ Art. 6 p. 1 item and a GDPR Art. 6(1) point.
    LegalBasis {
        Consent => "consent",
        Contract => "contract",
        LegalObligation => "legal_obligation",
        VitalInterests => "vital_interests",
        PublicTask => "public_task",
        LegitimateInterests => "legitimate_interests",
    }
}

impl LegalBasis {
    /// The 152-FZ Art. 6 p. 1 items this basis may cite.
    pub fn fz152_items(self) -> &'static [&'static str] {
        match self {
            LegalBasis::Consent => &["1"],
            LegalBasis::Contract => &["5"],
            LegalBasis::LegalObligation => &["2", "3"],
            LegalBasis::VitalInterests => &["6"],
            LegalBasis::PublicTask => &["4"],
            LegalBasis::LegitimateInterests => &["7", "8", "9", "9.1", "10", "11"],
        }
    }

    /// The GDPR Art. 6(1) point for this basis.
    pub fn gdpr_point(self) -> &'static str {
        match self {
            LegalBasis::Consent => "a",
            LegalBasis::Contract => "b",
            LegalBasis::LegalObligation => "c",
            LegalBasis::VitalInterests => "d",
            LegalBasis::PublicTask => "e",
            LegalBasis::LegitimateInterests => "f",
        }
    }

    /// Whether processing on this basis needs the subject's consent on record.
    pub fn needs_consent(self) -> bool {
        self == LegalBasis::Consent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in ProcessingAction::ALL {
            assert_eq!(a.as_str().parse::<ProcessingAction>().unwrap(), *a);
        }
        for b in LegalBasis::ALL {
            assert_eq!(b.as_str().parse::<LegalBasis>().unwrap(), *b);
        }
    }

    #[test]
    fn unknown_name_lists_the_choices() {
        let e = "colection".parse::<ProcessingAction>().unwrap_err();
        assert!(e.to_string().contains("collection"));
    }
}
