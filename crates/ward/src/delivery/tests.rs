//! The delivery job against a real SMTP server (`aiosmtpd`, see `tests/smtpd`), on a real
//! store with a fake clock: content, language and Message-ID as delivered; a retry after the
//! server comes up late; dead-lettering after the last attempt; an erased subject's mail gone.

use super::config::{DeliveryConfig, TlsMode};
use super::*;
use crate::app;
use crate::binding::{self, NewKeks};
use crate::config::{Config, Overrides};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::Duration;
use ward_core::outbox::{MessageState, RetryRule};
use ward_core::{Caller, Clock, FakeClock, SubjectId};
use ward_vault::{NewSubjectInput, PolicySource, VaultConfig};

#[path = "../../tests/smtpd/mod.rs"]
mod smtpd;
use smtpd::Smtpd;

struct Env {
    dir: tempfile::TempDir,
    clock: FakeClock,
    vault: Vault,
}

impl Env {
    async fn new() -> Env {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let over = Overrides::default();
        app::init(dir.path(), &over).await.expect("ward init");
        let cfg = Config::load(dir.path(), &over).expect("the configuration");
        let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + Duration::seconds(1);
        let clock = FakeClock::new(start);
        let (material, store) = binding::open(&cfg, NewKeks::Refuse).await.expect("the store");
        let (policy, source) = app::load_policy_source(&cfg.policy_path).expect("the policy");
        let vault = Vault::open(
            store,
            material,
            policy,
            source,
            Arc::new(clock.clone()),
            VaultConfig::default(),
        )
        .await
        .expect("open the vault");
        Env { dir, clock, vault }
    }

    fn delivery(&self, port: u16, max_attempts: u32) -> Delivery {
        self.delivery_with(port, max_attempts, TlsMode::None)
    }

    fn delivery_with(&self, port: u16, max_attempts: u32, tls: TlsMode) -> Delivery {
        let cfg = DeliveryConfig {
            host: "127.0.0.1".into(),
            port,
            tls,
            from: "Example Operator <privacy@example.ru>".into(),
            domain: "example.ru".into(),
            credentials: None,
            timeout: std::time::Duration::from_secs(10),
            interval_secs: 1,
            batch: 10,
            concurrency: 4,
            claim: Duration::seconds(60),
            retry: RetryRule {
                max_attempts,
                first_backoff: Duration::seconds(30),
                max_backoff: Duration::seconds(600),
            },
        };
        Delivery::new(&self.vault, cfg, "test-worker".into()).expect("the delivery job")
    }

    async fn subject(&self, email: &str) -> SubjectId {
        let fields: BTreeMap<String, String> = [("email".to_owned(), email.to_owned())].into();
        self.vault
            .subjects()
            .create(
                &Caller::cli(),
                NewSubjectInput {
                    bases: vec![],
                    purpose: "registration".into(),
                    fields,
                    consents: Vec::new(),
                    age_band: None,
                    evidence: None,
                },
            )
            .await
            .expect("a subject")
    }

    async fn notice(&self, id: SubjectId) -> ward_core::MessageId {
        self.vault
            .outbox()
            .send_notice(&Caller::cli(), id, "policy_changed")
            .await
            .expect("queued")
            .id
    }

    async fn state(&self, id: ward_core::MessageId) -> Option<MessageState> {
        self.vault.store().find_message(id).await.unwrap().map(|m| m.state)
    }

    fn maildir(&self) -> std::path::PathBuf {
        self.dir.path().join("maildir")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_the_subjects_language_with_a_stable_message_id() {
    let env = Env::new().await;
    let smtpd = Smtpd::start_any(&env.maildir());
    let job = env.delivery(smtpd.port, 3);
    let anna = env.subject("anna@example.ru").await;
    let first = env.notice(anna).await;
    // Russian from the next version on.
    let ru = std::fs::read_to_string(env.dir.path().join("policy.toml"))
        .unwrap()
        .replace("version = \"1\"", "version = \"2\"")
        .replace("language = \"en\"", "language = \"ru\"");
    env.vault
        .policies()
        .publish(&Caller::cli(), PolicySource::from(ru.as_str()), None)
        .await
        .expect("published");
    let second = env.notice(anna).await;

    let tally = job.drain().await.expect("a run");
    assert_eq!(
        tally,
        Tally {
            sent: 2,
            failed: 0,
            dead: 0
        }
    );
    assert_eq!(env.state(first).await, Some(MessageState::Sent));
    let mail = smtpd.messages();
    assert_eq!(mail.len(), 2);
    let find = |id: ward_core::MessageId| {
        let mid = format!("<{id}@example.ru>");
        mail.iter()
            .find(|m| smtpd::header(m, "Message-ID").as_deref() == Some(mid.as_str()))
            .unwrap_or_else(|| panic!("no message {mid} in {mail:?}"))
    };
    let en = find(first);
    assert_eq!(smtpd::header(en, "To").as_deref(), Some("anna@example.ru"));
    assert!(smtpd::header(en, "From").is_some_and(|f| f.contains("privacy@example.ru")));
    assert_eq!(smtpd::subject(en), "Our personal data policy has changed (version 1)");
    assert!(smtpd::body(en).contains("Example Operator LLC has published version 1"));
    let ru = find(second);
    assert_eq!(
        smtpd::subject(ru),
        "Изменилась политика обработки персональных данных (редакция 2)"
    );
    assert!(
        smtpd::body(ru).contains("опубликовал редакцию 2"),
        "{}",
        smtpd::body(ru)
    );

    // Nothing more is due: nothing is sent twice.
    env.clock.advance(Duration::hours(1));
    assert_eq!(job.drain().await.expect("a run"), Tally::default());
    assert_eq!(smtpd::Smtpd::messages(&smtpd).len(), 2);
    // The journal has ids only, and the openings for delivery.
    let entries = env.vault.store().find_journal_entries(0, 10_000).await.unwrap();
    let sent: Vec<_> = entries.iter().filter(|e| e.action == "message.sent").collect();
    assert_eq!(sent.len(), 2);
    assert!(entries
        .iter()
        .any(|e| e.detail.as_deref() == Some(format!("opened:delivery message:{first}").as_str())));
    for e in &entries {
        assert!(!format!("{e:?}").contains("anna@example.ru"), "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_comes_up_late_gets_the_message_after_the_backoff() {
    let env = Env::new().await;
    let port = smtpd::free_port();
    let job = env.delivery(port, 5);
    let id = env.subject("late@example.ru").await;
    let msg = env.notice(id).await;
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 0,
            failed: 1,
            dead: 0
        }
    );
    let stored = env.vault.store().find_message(msg).await.unwrap().expect("queued");
    assert_eq!((stored.state, stored.attempts), (MessageState::Queued, 1));
    assert_eq!(stored.next_attempt_at, env.clock.now() + Duration::seconds(30));

    let smtpd = Smtpd::start(port, &env.maildir());
    env.clock.advance(Duration::seconds(29));
    assert_eq!(job.drain().await.expect("a run"), Tally::default(), "not due yet");
    env.clock.advance(Duration::seconds(1));
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 1,
            failed: 0,
            dead: 0
        }
    );
    assert_eq!(smtpd.messages().len(), 1);
    let entries = env.vault.store().find_journal_entries(0, 10_000).await.unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e.action.starts_with("message."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["message.queued", "message.failed", "message.sent"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_dead_after_its_last_attempt_and_the_officer_can_retry_it() {
    let env = Env::new().await;
    let port = smtpd::free_port();
    let job = env.delivery(port, 3);
    let id = env.subject("never@example.ru").await;
    let msg = env.notice(id).await;
    let mut tallies = Vec::new();
    for _ in 0..3 {
        tallies.push(job.drain().await.expect("a run"));
        env.clock.advance(Duration::seconds(600));
    }
    assert_eq!(
        tallies,
        [
            Tally {
                sent: 0,
                failed: 1,
                dead: 0
            },
            Tally {
                sent: 0,
                failed: 1,
                dead: 0
            },
            Tally {
                sent: 0,
                failed: 0,
                dead: 1
            },
        ]
    );
    assert_eq!(env.state(msg).await, Some(MessageState::Dead));
    env.clock.advance(Duration::days(1));
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally::default(),
        "dead is never retried by itself"
    );
    let dead = env
        .vault
        .outbox()
        .list(&Caller::cli(), Some(MessageState::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead.iter().map(|m| m.id).collect::<Vec<_>>(), [msg]);

    let smtpd = Smtpd::start(port, &env.maildir());
    env.vault.outbox().retry(&Caller::cli(), msg).await.expect("requeued");
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 1,
            failed: 0,
            dead: 0
        }
    );
    assert_eq!(smtpd.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_subjects_queued_mail_is_never_sent() {
    let env = Env::new().await;
    let smtpd = Smtpd::start_any(&env.maildir());
    let job = env.delivery(smtpd.port, 3);
    let gone = env.subject("gone@example.ru").await;
    let stays = env.subject("stays@example.ru").await;
    let erased_msg = env.notice(gone).await;
    env.notice(stays).await;
    env.vault
        .subjects()
        .erase(&Caller::cli(), gone, ward_vault::DestructionReason::SubjectRequest)
        .await
        .expect("erased");
    assert_eq!(env.state(erased_msg).await, None);
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 1,
            failed: 0,
            dead: 0
        }
    );
    let mail = smtpd.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(smtpd::header(&mail[0], "To").as_deref(), Some("stays@example.ru"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_required_sends_nothing_to_a_server_without_it_and_retries_later() {
    let env = Env::new().await;
    let smtpd = Smtpd::start_any(&env.maildir());
    let job = env.delivery_with(smtpd.port, 3, TlsMode::Required);
    let id = env.subject("plain@example.ru").await;
    let msg = env.notice(id).await;
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 0,
            failed: 1,
            dead: 0
        }
    );
    assert_eq!(env.state(msg).await, Some(MessageState::Queued));
    assert!(smtpd.messages().is_empty(), "nothing went in plain text");
    // Opportunistic: plain text to a server without STARTTLS, over the pooled connections.
    let job = env.delivery_with(smtpd.port, 3, TlsMode::Opportunistic);
    env.clock.advance(Duration::seconds(30));
    let more = env.notice(id).await;
    assert_eq!(
        job.drain().await.expect("a run"),
        Tally {
            sent: 2,
            failed: 0,
            dead: 0
        }
    );
    assert_eq!(env.state(more).await, Some(MessageState::Sent));
    assert_eq!(smtpd.deliveries(2, std::time::Duration::from_secs(10)).len(), 2);
}
