//! The dataset: deterministic subjects with six fields and two consents each.
//!
//! Subject `i` always has the same values, so a run can look a subject up by the email it
//! was given without remembering it, and two runs insert the same bytes.

use serde_json::{json, Value};

/// Index ranges, so the workloads never touch each other's subjects.
pub const MAIN: u64 = 0;
/// Subjects that the withdrawal-and-erasure workload consumes.
pub const ERASE_POOL: u64 = 100_000_000;
/// Subjects registered one by one by the single-create workload.
pub const SINGLE: u64 = 200_000_000;
/// Subjects imported by `ward import FILE`.
pub const IMPORT: u64 = 300_000_000;
/// Subjects that the comparison of erasure with and without the WAL scrub consumes.
pub const SCRUB_POOL: u64 = 400_000_000;
/// Subjects the outbox workloads send notices to.
pub const MAIL_POOL: u64 = 500_000_000;
/// Subjects whose technical data the destruction job destroys.
pub const DESTROY_POOL: u64 = 600_000_000;

const FIRST: &[&str] = &[
    "Anna", "Boris", "Vera", "Gleb", "Daria", "Egor", "Zoya", "Ivan", "Kira", "Lev", "Maria", "Nikita", "Olga",
    "Pavel", "Raisa", "Sergei",
];
const LAST: &[&str] = &[
    "Petrova",
    "Ivanov",
    "Smirnova",
    "Kuznetsov",
    "Popova",
    "Vasiliev",
    "Sokolova",
    "Mikhailov",
    "Novikova",
    "Fedorov",
    "Morozova",
    "Volkov",
];
const STREETS: &[&str] = &[
    "Tverskaya",
    "Arbat",
    "Nevsky prospekt",
    "Lenina",
    "Sadovaya",
    "Pushkina",
    "Mira",
    "Gagarina",
];
const CITIES: &[&str] = &[
    "Moscow",
    "Saint Petersburg",
    "Kazan",
    "Novosibirsk",
    "Yekaterinburg",
    "Samara",
];

/// A cheap, well-mixed hash of `i` (splitmix64).
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], h: u64) -> &'a str {
    list[(h % list.len() as u64) as usize]
}

/// Subject `i`'s email: unique per index.
pub fn email(i: u64) -> String {
    let h = mix(i);
    format!("{}.{}.{i}@example.org", pick(FIRST, h), pick(LAST, h >> 8)).to_lowercase()
}

/// Subject `i`'s six fields, as (name, value) pairs.
pub fn fields(i: u64) -> [(&'static str, String); 6] {
    let h = mix(i);
    let first = pick(FIRST, h);
    let last = pick(LAST, h >> 8);
    // A valid Russian mobile number, unique per index below 10^7 (then reused: fine).
    let phone = format!("+7916{:07}", i % 10_000_000);
    let year = 1950 + (h >> 16) % 55;
    let month = 1 + (h >> 24) % 12;
    let day = 1 + (h >> 32) % 28;
    [
        ("full_name", format!("{first} {last}")),
        ("email", email(i)),
        ("phone", phone),
        ("birth_date", format!("{year:04}-{month:02}-{day:02}")),
        (
            "postal_address",
            format!(
                "{}, {} {}, apt {}",
                pick(CITIES, h >> 40),
                pick(STREETS, h >> 44),
                1 + (h >> 48) % 120,
                1 + (h >> 56) % 200
            ),
        ),
        (
            "username",
            format!("{}_{}{}", first.to_lowercase(), last.to_lowercase(), i),
        ),
    ]
}

/// The two consents every subject gives.
pub const CONSENTS: [&str; 2] = ["marketing", "analytics"];

/// Subject `i` as a `POST /v1/subjects` body (and a line of `ward import`'s JSON Lines).
pub fn subject_json(i: u64) -> Value {
    let fields: serde_json::Map<String, Value> = fields(i)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    json!({
        "purpose": "registration",
        "fields": fields,
        "consents": CONSENTS,
        "evidence": {"channel": "web_form"},
    })
}

/// `POST /v1/subjects/batch` body for subjects `range`.
pub fn batch_json(range: std::ops::Range<u64>) -> Value {
    json!({ "subjects": range.map(subject_json).collect::<Vec<_>>() })
}

/// `POST /v1/subjects/batch` body for subjects `range` as website visitors: an email, and the
/// technical data (IP address, browser) that only their analytics consent keeps.
pub fn visitors_batch_json(range: std::ops::Range<u64>) -> Value {
    let subjects: Vec<Value> = range
        .map(|i| {
            let h = mix(i);
            json!({
                "purpose": "registration",
                "fields": {
                    "email": email(i),
                    "last_ip": format!("10.{}.{}.{}", (h >> 8) & 0xFF, (h >> 16) & 0xFF, 1 + (h >> 24) % 254),
                    "user_agent": format!("Mozilla/5.0 (X11; Linux x86_64; rv:{}.0) Gecko/20100101 Firefox/{}.0", 100 + h % 40, 100 + h % 40),
                },
                "consents": ["analytics"],
                "evidence": {"channel": "web_form"},
            })
        })
        .collect();
    json!({ "subjects": subjects })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_deterministic_and_emails_unique() {
        assert_eq!(fields(7), fields(7));
        assert_ne!(email(1), email(2));
        assert!(fields(3)[2].1.starts_with("+7916"));
        assert_eq!(fields(3)[2].1.len(), 12);
    }
}
