//! A real server for each test: the API router on 127.0.0.1:0, over a real vault, over a
//! real store: a SQLite file in a temporary directory, or a fresh schema in the PostgreSQL
//! test database (see `ward_store_postgres::testing`).
//!
//! A test written once runs on both backends with [`both_backends!`]; [`Server::start`]
//! gives a SQLite server to tests that need one.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use tempfile::TempDir;
use time::macros::datetime;
use ward_api::{ApiConfig, ProblemCode, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, ROUTER_CODES};
use ward_core::access::Role;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy};
use ward_store::Store;
use ward_store_postgres::{testing, PgStore};
use ward_store_sqlite::SqliteStore;
use ward_vault::{KeyMaterial, Vault, VaultConfig};

/// Personal values that tests submit where they are invalid; no error may echo them.
pub const SECRET: &str = "secret-value-123";
pub const SECRET_NUMBER: i64 = 5_551_234_987;

/// Log output of the whole test binary, captured by one global subscriber (a per-test
/// subscriber would race with callsite caching across test threads).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

static LOGS: OnceLock<LogBuffer> = OnceLock::new();

fn capture_logs() -> &'static LogBuffer {
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        buffer
    })
}

/// Everything logged so far by every test's server.
pub fn captured_logs() -> String {
    let bytes = capture_logs()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The storage backend under a test server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A new schema in the PostgreSQL test database.
    Postgres,
}

/// Where a server's data lives; dropping it removes a SQLite server's directory.
enum Storage {
    Sqlite(TempDir),
    /// The store (sharing the server's pool) and its schema, to close and drop after the test.
    Postgres(PgStore, String),
}

pub struct Server {
    pub base: String,
    pub client: Client,
    /// An admin token, made with the CLI caller: the bootstrap key.
    pub admin: String,
    pub vault: Vault,
    /// The vault's clock, standing at 2026-03-01 09:00 UTC until a test moves it.
    pub clock: FakeClock,
    pub spec: Value,
    storage: Storage,
}

/// Runs `test` on a new server over `backend` with `config`, then, if it passed on
/// PostgreSQL, closes the store and drops its schema (a failed test's schema is left for
/// inspection, and swept by a later run). Skips the test when the backend is not available
/// and may be skipped (see [`Server::start_with_on`]).
pub async fn run<F, Fut>(backend: Backend, config: ApiConfig, test: F)
where
    F: FnOnce(Server) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = Server::start_with_on(backend, config).await else {
        return;
    };
    let postgres = match &server.storage {
        Storage::Postgres(store, schema) => Some((store.clone(), schema.clone())),
        Storage::Sqlite(_) => None,
    };
    test(server).await;
    if let Some((store, schema)) = postgres {
        store.close().await;
        testing::drop_schema(&schema).await;
    }
}

/// Makes the test `async fn $name(s: Server)` defined next to it run on each backend, as
/// `$name::sqlite` and `$name::postgres`, each on its own server (with `ApiConfig::default()`
/// or the given config). The function stays an ordinary function, formatted and linted as
/// such; the module of tests shares its name (modules and functions do not clash).
///
/// ```ignore
/// both_backends!(withdrawal_stops_consent_purposes);
/// async fn withdrawal_stops_consent_purposes(s: Server) { ... }
/// ```
macro_rules! both_backends {
    ($name:ident) => {
        $crate::support::both_backends!($name, ::ward_api::ApiConfig::default());
    };
    ($name:ident, $config:expr) => {
        mod $name {
            // The config expression is written in the parent module, with its imports.
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, $config, super::$name).await;
            }

            #[::tokio::test]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, $config, super::$name).await;
            }
        }
    };
}
pub(crate) use both_backends;

/// A finished response, with what was asked.
pub struct Resp {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Server {
    /// A server over SQLite with the default config.
    pub async fn start() -> Server {
        Self::start_on(Backend::Sqlite)
            .await
            .expect("SQLite is always available")
    }

    /// A server over `backend` with the default config; see [`Server::start_with_on`].
    pub async fn start_on(backend: Backend) -> Option<Server> {
        Self::start_with_on(backend, ApiConfig::default()).await
    }

    /// A server over `backend` with `config`. `None` when PostgreSQL is not reachable and
    /// its tests may be skipped (a notice says so on stderr); when it is required (`CI` or
    /// `WARD_REQUIRE_POSTGRES=1`) an unreachable PostgreSQL panics instead. A PostgreSQL
    /// server's schema outlives it unless the test runs through [`run`]; later runs sweep it.
    pub async fn start_with_on(backend: Backend, config: ApiConfig) -> Option<Server> {
        capture_logs();
        let (store, storage): (Arc<dyn Store>, Storage) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = SqliteStore::open(&dir.path().join("ward.db"))
                    .await
                    .expect("open the SQLite store");
                (Arc::new(store), Storage::Sqlite(dir))
            }
            Backend::Postgres => {
                let (store, schema) = testing::fresh_store().await?;
                (Arc::new(store.clone()), Storage::Postgres(store, schema))
            }
        };
        let policy = Policy::parse(DEFAULT_POLICY).expect("the default policy parses");
        let clock = FakeClock::new(datetime!(2026-03-01 09:00 UTC));
        let vault = Vault::open(
            store,
            KeyMaterial::generate(24),
            policy,
            DEFAULT_POLICY,
            Arc::new(clock.clone()),
            VaultConfig::default(),
        )
        .await
        .expect("open the vault");
        let (_, token) = vault
            .api_keys()
            .create(&Caller::cli(), "bootstrap admin", Role::Admin, &[])
            .await
            .expect("bootstrap key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = ward_api::router(vault.clone(), config);
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let spec = serde_json::to_value(ward_api::openapi()).expect("spec as JSON");
        Some(Server {
            base: format!("http://{addr}"),
            client: Client::builder().no_proxy().build().expect("client"),
            admin: token.expose(),
            vault,
            clock,
            spec,
            storage,
        })
    }

    /// Sends a request; `body` as JSON if given.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.checked(Resp::read(method, path, req.send().await.expect("send")).await)
    }

    /// Sends a request with extra headers (values as raw bytes); `body` as JSON if given.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &[u8])],
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            let value = reqwest::header::HeaderValue::from_bytes(value).expect("a header value");
            req = req.header(*name, value);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.checked(Resp::read(method, path, req.send().await.expect("send")).await)
    }

    /// Sends raw bytes with a content type (or none).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        self.checked(Resp::read(method, path, req.send().await.expect("send")).await)
    }

    /// A GET that asks for a media type.
    pub async fn get_accepting(&self, path: &str, token: &str, accept: &str) -> Resp {
        let req = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, accept);
        self.checked(Resp::read(Method::GET, path, req.send().await.expect("send")).await)
    }

    /// Checks every response a test receives, whatever the test asserts of it: a problem
    /// must carry a code Ward has, with that code's status, and one the spec declares for the
    /// operation (or one the router answers on any path); a batch's per-subject problems must
    /// be ones `POST /v1/subjects` declares. So every error path the suite exercises also
    /// proves the spec lists the code for that route.
    fn checked(&self, r: Resp) -> Resp {
        let is_problem = r
            .header(reqwest::header::CONTENT_TYPE.as_str())
            .is_some_and(|ct| ct == PROBLEM_CONTENT_TYPE);
        if is_problem {
            let code = r.json()["code"].as_str().map(str::to_owned).unwrap_or_default();
            self.assert_declared(&r.method, &r.path, &code, r.status, &r.text);
        }
        if r.method == Method::POST && r.path.split('?').next() == Some("/v1/subjects/batch") && r.status == 200 {
            let body = r.json();
            for item in body["results"].as_array().into_iter().flatten() {
                let problem = &item["problem"];
                if let Some(code) = problem["code"].as_str() {
                    let status = problem["status"]
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(0);
                    self.assert_declared(&Method::POST, "/v1/subjects", code, status, &problem.to_string());
                }
            }
        }
        r
    }

    fn assert_declared(&self, method: &Method, path: &str, code: &str, status: u16, text: &str) {
        let known =
            ProblemCode::parse(code).unwrap_or_else(|| panic!("{method} {path}: `{code}` is no ProblemCode: {text}"));
        assert_eq!(
            status,
            known.status(),
            "{method} {path}: `{code}` with another status: {text}"
        );
        if ROUTER_CODES.contains(&known) {
            return;
        }
        let declared = self.declared_codes(method, path);
        assert!(
            declared.iter().any(|c| c == code),
            "{method} {path}: answered `{code}`, which the spec does not declare for it (declares {declared:?}): {text}"
        );
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// The directory holding the server's SQLite database (`ward.db` and its WAL).
    ///
    /// # Panics
    ///
    /// On PostgreSQL, whose files are the database server's, out of a test's reach.
    pub fn data_dir(&self) -> &std::path::Path {
        match &self.storage {
            Storage::Sqlite(dir) => dir.path(),
            Storage::Postgres(..) => panic!("a PostgreSQL server has no data directory of its own"),
        }
    }

    /// Every row of the journal table, each column as text, read raw with SQL over the
    /// store's own file (SQLite) or schema (PostgreSQL), not through Ward's decoders.
    pub async fn journal_rows_raw(&self) -> Vec<String> {
        match &self.storage {
            Storage::Sqlite(dir) => {
                let conn = rusqlite::Connection::open_with_flags(
                    dir.path().join("ward.db"),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("open ward.db");
                let mut stmt = conn.prepare("SELECT * FROM journal ORDER BY seq").expect("select");
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |row| {
                        let mut cols = Vec::with_capacity(n);
                        for i in 0..n {
                            cols.push(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => String::new(),
                                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                                rusqlite::types::ValueRef::Real(v) => v.to_string(),
                                rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                                    String::from_utf8_lossy(b).into_owned()
                                }
                            });
                        }
                        Ok(cols.join("|"))
                    })
                    .expect("query");
                rows.map(|r| r.expect("row")).collect()
            }
            Storage::Postgres(_, schema) => {
                let mut conn = testing::connect_raw().await.expect("PostgreSQL is reachable");
                let sql = format!("SELECT t::text FROM \"{schema}\".journal t ORDER BY t.seq");
                sqlx::query_scalar::<_, String>(&sql)
                    .fetch_all(&mut conn)
                    .await
                    .expect("read the journal table")
            }
        }
    }

    /// Every row of every table of the store, each column as text, read raw with SQL like
    /// [`Server::journal_rows_raw`]: what a copy of the database would show.
    pub async fn all_rows_raw(&self) -> Vec<String> {
        match &self.storage {
            Storage::Sqlite(dir) => {
                let conn = rusqlite::Connection::open_with_flags(
                    dir.path().join("ward.db"),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("open ward.db");
                let mut tables = conn
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .expect("list tables");
                let tables: Vec<String> = tables
                    .query_map([], |r| r.get(0))
                    .expect("tables")
                    .map(|t| t.expect("table"))
                    .collect();
                let mut out = Vec::new();
                for table in tables {
                    let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).expect("select");
                    let n = stmt.column_count();
                    let rows = stmt
                        .query_map([], |row| {
                            let mut cols = Vec::with_capacity(n);
                            for i in 0..n {
                                cols.push(match row.get_ref(i)? {
                                    rusqlite::types::ValueRef::Null => String::new(),
                                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                                        String::from_utf8_lossy(b).into_owned()
                                    }
                                });
                            }
                            Ok(format!("{table}|{}", cols.join("|")))
                        })
                        .expect("query");
                    out.extend(rows.map(|r| r.expect("row")));
                }
                out
            }
            Storage::Postgres(_, schema) => {
                let mut conn = testing::connect_raw().await.expect("PostgreSQL is reachable");
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                )
                .bind(schema)
                .fetch_all(&mut conn)
                .await
                .expect("list tables");
                let mut out = Vec::new();
                for table in tables {
                    let sql = format!("SELECT '{table}|' || t::text FROM \"{schema}\".\"{table}\" t");
                    out.extend(
                        sqlx::query_scalar::<_, String>(&sql)
                            .fetch_all(&mut conn)
                            .await
                            .expect("read a table"),
                    );
                }
                out
            }
        }
    }

    /// Creates a service key for `purposes` over HTTP; returns its token.
    pub async fn service_key(&self, purposes: &[&str]) -> String {
        let r = self
            .post(
                "/v1/keys",
                &self.admin,
                json!({"name": "service", "role": "service", "purposes": purposes}),
            )
            .await;
        r.json_with(201)["token"].as_str().expect("token").to_owned()
    }

    /// Registers Anna for `registration`, consenting to marketing; returns her id.
    pub async fn anna(&self) -> String {
        let r = self.post("/v1/subjects", &self.admin, anna_body()).await;
        r.json_with(201)["id"].as_str().expect("id").to_owned()
    }

    /// Registers a subject like [`Server::anna`] with an e-mail address of her own
    /// ([`another_anna`]); returns the id.
    pub async fn another_anna(&self) -> String {
        let r = self.post("/v1/subjects", &self.admin, another_anna()).await;
        r.json_with(201)["id"].as_str().expect("id").to_owned()
    }

    /// The `x-problem-codes` the spec declares for the operation serving `method` `path`.
    pub fn declared_codes(&self, method: &Method, path: &str) -> Vec<String> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &Value)> = None;
        for (template, item) in self.spec["paths"].as_object().expect("paths") {
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != segments.len() {
                continue;
            }
            let matches = t
                .iter()
                .zip(&segments)
                .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')));
            let Some(op) = item.get(method.as_str().to_ascii_lowercase()) else {
                continue;
            };
            let statics = t.iter().zip(&segments).filter(|(a, b)| a == b).count();
            if matches && best.is_none_or(|(s, _)| statics > s) {
                best = Some((statics, op));
            }
        }
        let Some((_, op)) = best else { return Vec::new() };
        op["x-problem-codes"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Asserts `r` is a problem document with `status` and `code`, that the spec declares the
    /// code for the operation, and that it echoes no secret value. Returns its body.
    pub fn problem(&self, r: &Resp, status: u16, code: &str) -> Value {
        assert_eq!(r.status, status, "{} {}: {}", r.method, r.path, r.text);
        assert_problem_shape(r, code);
        if code != "not_found" && code != "method_not_allowed" {
            let declared = self.declared_codes(&r.method, &r.path);
            assert!(
                declared.iter().any(|c| c == code),
                "{} {}: the spec does not declare `{code}` (declares {declared:?})",
                r.method,
                r.path
            );
        }
        r.json()
    }
}

/// The problem+json shape, with no secret in it.
pub fn assert_problem_shape(r: &Resp, code: &str) {
    let ct = r
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(ct, PROBLEM_CONTENT_TYPE, "{} {}", r.method, r.path);
    let body = r.json();
    assert_eq!(body["code"], code, "{} {}: {}", r.method, r.path, r.text);
    assert_eq!(body["type"], format!("{PROBLEM_TYPE_BASE}{code}"));
    assert_eq!(body["status"], r.status);
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].is_string());
    assert_no_secret(r);
}

pub fn assert_no_secret(r: &Resp) {
    assert!(
        !r.text.contains(SECRET),
        "{} {} echoes a submitted value: {}",
        r.method,
        r.path,
        r.text
    );
    assert!(
        !r.text.contains(&SECRET_NUMBER.to_string()),
        "{} {} echoes a submitted value: {}",
        r.method,
        r.path,
        r.text
    );
}

impl Resp {
    async fn read(method: Method, path: &str, r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        Resp {
            method,
            path: path.to_owned(),
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("{} {}: not JSON ({e}): {}", self.method, self.path, self.text))
    }

    /// Asserts the status and returns the JSON body.
    pub fn json_with(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{} {}: {}", self.method, self.path, self.text);
        self.json()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An e-mail address no other call returns: e-mail is unique in the default policy, so every
/// subject a test registers with it needs its own.
pub fn fresh_email(name: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{name}.{n}@example.org")
}

/// [`anna_body`] with an e-mail address of her own ([`fresh_email`]): for tests that register
/// more than one subject.
pub fn another_anna() -> Value {
    let mut body = anna_body();
    body["fields"]["email"] = json!(fresh_email("anna"));
    body
}

pub fn anna_body() -> Value {
    json!({
        "purpose": "registration",
        "fields": {
            "email": "Anna.Petrova@Example.RU",
            "phone": "+7 (916) 123-45-67",
            "full_name": "Анна Петрова",
            "postal_address": "Moscow, Tverskaya 1",
        },
        "consents": ["marketing"],
        "evidence": {"channel": "web_form", "ip": "203.0.113.7", "user_agent": "Firefox"},
    })
}
