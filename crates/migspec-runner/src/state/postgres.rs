//! The team state backend: PostgreSQL, through tokio-postgres.
//!
//! # Tables
//!
//! All in one schema (`migspec` by default), created by the versioned [`MIGRATIONS`] on
//! first use:
//!
//! - `schema_version(version, applied_at)`: one row per migration applied;
//! - `meta`: one row: `format_version`, `lineage`, `serial`, `salt`, and `unknown` (the
//!   top-level fields a newer migspec wrote, kept as they are);
//! - `objects(address, kind, remote_id, resource)`: one row per address, the [`Resource`]
//!   as jsonb (with its salted secret fingerprints: they are always read and written with
//!   their record, so a separate table would only turn one upsert per step into several);
//! - `journal(seq, address, entry)`: appended, the last [`JOURNAL_KEEP`] kept;
//! - `applied_plans(seq, id, plan)`: appended, the last [`PLANS_KEEP`] kept;
//! - `lock_holder`: one row naming the apply that holds the lock (written after taking it).
//!
//! # Guarantees
//!
//! - [`HeldState::record`] writes one step in its own transaction (the address's row, its
//!   journal rows, the applied plan, the serial bumped with `WHERE serial = $expected`):
//!   what was recorded survives a crash, and a step costs the same however many objects
//!   the state holds. [`HeldState::write`] replaces everything in one transaction.
//! - The lock is a session advisory lock on a dedicated connection held for the whole run,
//!   and every write of that run goes through that connection: the server releases the
//!   lock when the process dies, and a run whose session is gone cannot write any more.
//! - The URL's password never appears in a message ([`redact_url`]).

use std::fmt::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, GenericClient};

use super::{
    HeldState, JOURNAL_KEEP, LockInfo, PLANS_KEEP, STATE_FORMAT_VERSION, State, StateBackend,
    StateChange, StateError, StateFuture, UnknownFields,
};

/// The schema used when the settings name none.
pub const DEFAULT_SCHEMA: &str = "migspec";

/// The schema migrations, in order: migration `n` (1-based) brings the schema to version
/// `n`. `{schema}` stands for the quoted schema name. Never edit one that shipped: add one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the state, one row per object, journal and plan rows appended.
    r#"
CREATE TABLE {schema}.meta (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    format_version integer NOT NULL,
    lineage text NOT NULL,
    serial bigint NOT NULL,
    salt text NOT NULL,
    unknown jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE {schema}.objects (
    address text PRIMARY KEY,
    kind text NOT NULL,
    remote_id text,
    resource jsonb NOT NULL
);
CREATE TABLE {schema}.journal (
    seq bigint PRIMARY KEY,
    address text NOT NULL,
    entry jsonb NOT NULL
);
CREATE TABLE {schema}.applied_plans (
    seq bigint PRIMARY KEY,
    id text NOT NULL,
    plan jsonb NOT NULL
);
CREATE TABLE {schema}.lock_holder (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    backend_pid integer NOT NULL,
    holder jsonb NOT NULL
);
"#,
    // 2: when the state was last written (for people looking at the database), and the
    // journal by address (`state show`).
    r"
ALTER TABLE {schema}.meta ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX journal_by_address ON {schema}.journal (address, seq);
",
];

/// The newest schema version this migspec knows.
fn known_version() -> i32 {
    i32::try_from(MIGRATIONS.len()).expect("fewer than 2^31 migrations")
}

/// The state in a PostgreSQL database, in one schema.
#[derive(Clone)]
pub struct PostgresState {
    config: tokio_postgres::Config,
    tls: Tls,
    redacted: String,
    schema: String,
}

impl std::fmt::Debug for PostgresState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the config: it holds the password.
        formatter
            .debug_struct("PostgresState")
            .field("url", &self.redacted)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// How the connection is secured.
#[derive(Clone)]
enum Tls {
    /// No TLS (`sslmode=disable`, or a loopback host without `sslmode`).
    Plain,
    /// rustls with this configuration.
    Rustls(Arc<rustls::ClientConfig>),
}

impl PostgresState {
    /// The state at `url` (`postgres://user:password@host:port/db?sslmode=…`) in `schema`.
    /// Nothing is connected until the first call.
    ///
    /// TLS: `sslmode=disable` is plain; `require` encrypts without checking the server's
    /// certificate (as libpq does); `verify-ca` and `verify-full` check it against
    /// `sslrootcert=FILE` or the system's roots, and the host name. Without `sslmode`, a
    /// loopback host is plain and any other is `verify-full`.
    ///
    /// # Errors
    ///
    /// [`StateError::Settings`] for a URL that does not parse, a schema that is not a plain
    /// lower-case identifier, or an unreadable `sslrootcert`.
    pub fn new(url: &str, schema: &str) -> Result<Self, StateError> {
        let redacted = redact_url(url);
        let settings = |message: String| StateError::Settings {
            url: redacted.clone(),
            message,
        };
        if !is_identifier(schema) {
            return Err(settings(format!(
                "schema `{schema}` is not a plain identifier: use lower-case letters, digits and `_` (at most 63, not starting with a digit)"
            )));
        }
        let (url, tls_options) = split_tls_options(url);
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|error| {
            settings(format!(
                "the URL does not parse ({error}); write postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require"
            ))
        })?;
        if config.get_application_name().is_none() {
            config.application_name("migspec");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let loopback = config.get_hosts().iter().all(|host| match host {
            Host::Tcp(name) => matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1"),
            #[cfg(unix)]
            Host::Unix(_) => true,
        });
        let mode = tls_options
            .mode
            .clone()
            .unwrap_or_else(|| if loopback { "disable" } else { "verify-full" }.to_owned());
        let tls = match mode.as_str() {
            "disable" => {
                config.ssl_mode(SslMode::Disable);
                Tls::Plain
            }
            "require" => {
                config.ssl_mode(SslMode::Require);
                Tls::Rustls(Arc::new(unverified_tls()))
            }
            "prefer" | "verify-ca" | "verify-full" => {
                config.ssl_mode(if mode == "prefer" {
                    SslMode::Prefer
                } else {
                    SslMode::Require
                });
                Tls::Rustls(Arc::new(
                    verified_tls(tls_options.root_cert.as_deref()).map_err(settings)?,
                ))
            }
            other => {
                return Err(settings(format!(
                    "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        };
        Ok(Self {
            config,
            tls,
            redacted,
            schema: schema.to_owned(),
        })
    }

    /// The schema the state lives in.
    #[must_use]
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The statement text with `{schema}` replaced by the quoted schema.
    fn sql(&self, text: &str) -> String {
        text.replace("{schema}", &format!("\"{}\"", self.schema))
    }

    /// The advisory lock key text (hashed by the server with `hashtextextended`).
    fn lock_key(&self) -> String {
        format!("migspec-state:{}", self.schema)
    }

    fn error(&self, action: &'static str) -> impl Fn(tokio_postgres::Error) -> StateError + '_ {
        move |error| StateError::database(&self.redacted, action, &error)
    }

    /// A new connection (its driver spawned on the runtime), with the schema migrated.
    async fn connect(&self, action: &'static str) -> Result<Client, StateError> {
        let mut client = match &self.tls {
            Tls::Plain => {
                let (client, connection) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(self.error(action))?;
                tokio::spawn(connection);
                client
            }
            Tls::Rustls(config) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new((**config).clone());
                let (client, connection) =
                    self.config.connect(tls).await.map_err(self.error(action))?;
                tokio::spawn(connection);
                client
            }
        };
        self.migrate(&mut client).await?;
        Ok(client)
    }

    /// Brings the schema to the newest version, in one transaction (serialized between
    /// concurrent runs by a transaction advisory lock); refuses a newer schema.
    async fn migrate(&self, client: &mut Client) -> Result<(), StateError> {
        let error = self.error("migrate the schema");
        let transaction = client.transaction().await.map_err(&error)?;
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&format!("migspec-migrate:{}", self.schema)],
            )
            .await
            .map_err(&error)?;
        transaction
            .batch_execute(&self.sql(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.schema_version (
                     version integer PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 );",
            ))
            .await
            .map_err(&error)?;
        let current: i32 = transaction
            .query_one(
                &self.sql("SELECT coalesce(max(version), 0) FROM {schema}.schema_version"),
                &[],
            )
            .await
            .map_err(&error)?
            .get(0);
        let known = known_version();
        if current > known {
            return Err(StateError::SchemaTooNew {
                url: self.redacted.clone(),
                schema: self.schema.clone(),
                found: current,
                known,
            });
        }
        for (version, migration) in (1..)
            .zip(MIGRATIONS)
            .skip(usize::try_from(current).unwrap_or(0))
        {
            transaction
                .batch_execute(&self.sql(migration))
                .await
                .map_err(&error)?;
            transaction
                .execute(
                    &self.sql("INSERT INTO {schema}.schema_version (version) VALUES ($1)"),
                    &[&version],
                )
                .await
                .map_err(&error)?;
        }
        transaction.commit().await.map_err(&error)
    }

    /// Reads the whole state through `client` (in one repeatable-read snapshot).
    async fn read_with(&self, client: &mut Client) -> Result<State, StateError> {
        let error = self.error("read the state");
        let transaction = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(&error)?;
        let Some(meta) = transaction
            .query_opt(
                &self.sql(
                    "SELECT format_version, lineage, serial, salt, unknown FROM {schema}.meta",
                ),
                &[],
            )
            .await
            .map_err(&error)?
        else {
            return Ok(State::new());
        };
        let format_version: i32 = meta.get(0);
        if i64::from(format_version) > i64::from(STATE_FORMAT_VERSION) {
            return Err(StateError::TooNew {
                path: self.describe().into(),
                found: u64::try_from(format_version).unwrap_or(0),
            });
        }
        let serial: i64 = meta.get(2);
        let unknown: serde_json::Value = meta.get(4);
        let mut raw = match unknown {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        raw.insert("format_version".into(), format_version.into());
        raw.insert("lineage".into(), meta.get::<_, String>(1).into());
        raw.insert("serial".into(), serial.into());
        raw.insert("salt".into(), meta.get::<_, String>(3).into());
        let resources: serde_json::Map<String, serde_json::Value> = transaction
            .query(
                &self.sql("SELECT address, resource FROM {schema}.objects ORDER BY address"),
                &[],
            )
            .await
            .map_err(&error)?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        raw.insert("resources".into(), resources.into());
        let journal: Vec<serde_json::Value> = transaction
            .query(
                &self.sql("SELECT entry FROM {schema}.journal ORDER BY seq"),
                &[],
            )
            .await
            .map_err(&error)?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        raw.insert("journal".into(), journal.into());
        let plans: Vec<serde_json::Value> = transaction
            .query(
                &self.sql("SELECT plan FROM {schema}.applied_plans ORDER BY seq"),
                &[],
            )
            .await
            .map_err(&error)?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        // Absent when empty, as the state serializes it (else it would look like a field
        // this migspec does not know).
        if !plans.is_empty() {
            raw.insert("applied_plans".into(), plans.into());
        }
        transaction.commit().await.map_err(&error)?;
        let raw = serde_json::Value::Object(raw);
        let mut state: State =
            serde_json::from_value(raw.clone()).map_err(|error| StateError::Corrupt {
                path: self.describe().into(),
                message: error.to_string(),
            })?;
        state.unknown = UnknownFields::between(&raw, &state);
        Ok(state)
    }

    /// Who the holder row names, when its session still holds an advisory lock.
    async fn holder(&self, client: &impl GenericClient) -> LockInfo {
        let row = client
            .query_opt(
                &self.sql(
                    "SELECT h.holder FROM {schema}.lock_holder h
                     WHERE EXISTS (SELECT 1 FROM pg_locks l
                                   WHERE l.locktype = 'advisory' AND l.granted
                                     AND l.pid = h.backend_pid)",
                ),
                &[],
            )
            .await
            .ok()
            .flatten();
        row.and_then(|row| serde_json::from_value(row.get(0)).ok())
            .unwrap_or_else(|| LockInfo {
                pid: 0,
                host: "unknown".to_owned(),
                command: "unknown".to_owned(),
                since: "unknown".to_owned(),
            })
    }

    fn locked(&self, holder: LockInfo) -> StateError {
        StateError::DatabaseLocked {
            url: self.redacted.clone(),
            schema: self.schema.clone(),
            holder: Box::new(holder),
        }
    }
}

impl StateBackend for PostgresState {
    fn describe(&self) -> String {
        format!("{} (schema {})", self.redacted, self.schema)
    }

    fn read(&self) -> StateFuture<'_, State> {
        Box::pin(async move {
            let mut client = self.connect("read the state").await?;
            self.read_with(&mut client).await
        })
    }

    fn lock(&self, info: LockInfo, wait: Duration) -> StateFuture<'_, Box<dyn HeldState>> {
        Box::pin(async move {
            let client = self.connect("take the lock").await?;
            let error = self.error("take the lock");
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let taken: bool = client
                    .query_one(
                        "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                        &[&self.lock_key()],
                    )
                    .await
                    .map_err(&error)?
                    .get(0);
                if taken {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(self.locked(self.holder(&client).await));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let holder = serde_json::to_value(&info).expect("lock info serializes");
            client
                .execute(
                    &self.sql(
                        "INSERT INTO {schema}.lock_holder (id, backend_pid, holder)
                         VALUES (true, pg_backend_pid(), $1)
                         ON CONFLICT (id) DO UPDATE
                         SET backend_pid = excluded.backend_pid, holder = excluded.holder",
                    ),
                    &[&holder],
                )
                .await
                .map_err(&error)?;
            let held: Box<dyn HeldState> = Box::new(PostgresHeld {
                backend: self.clone(),
                client: Mutex::new(Some(client)),
            });
            Ok(held)
        })
    }

    fn force_unlock(&self) -> StateFuture<'_, Option<LockInfo>> {
        Box::pin(async move {
            let client = self.connect("clear the lock").await?;
            let error = self.error("clear the lock");
            // Taking the lock is the race-free test that no live session holds it.
            let taken: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                    &[&self.lock_key()],
                )
                .await
                .map_err(&error)?
                .get(0);
            if !taken {
                return Err(self.locked(self.holder(&client).await));
            }
            let row = client
                .query_opt(
                    &self.sql("DELETE FROM {schema}.lock_holder RETURNING holder"),
                    &[],
                )
                .await
                .map_err(&error)?;
            client
                .execute(
                    "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                    &[&self.lock_key()],
                )
                .await
                .map_err(&error)?;
            Ok(row.and_then(|row| serde_json::from_value(row.get(0)).ok()))
        })
    }
}

/// A [`PostgresState`] under its advisory lock, with the connection that holds it.
struct PostgresHeld {
    backend: PostgresState,
    /// `None` only while dropping.
    client: Mutex<Option<Client>>,
}

impl Drop for PostgresHeld {
    fn drop(&mut self) {
        // Closing the session releases the lock; the holder row is cleared first, so that
        // `state unlock --force` later names only holders that died. Where that cannot be
        // waited for (no multi-threaded runtime), the row stays: it names a session that
        // holds nothing, which `holder` ignores and the next lock overwrites.
        let Some(client) = self.client.get_mut().take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let sql = self
            .backend
            .sql("DELETE FROM {schema}.lock_holder WHERE backend_pid = pg_backend_pid()");
        let key = self.backend.lock_key();
        let release = async move {
            let _ = client.execute(&sql, &[]).await;
            let _ = client
                .execute(
                    "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                    &[&key],
                )
                .await;
        };
        if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| {
                runtime.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(2), release).await;
                });
            });
        } else {
            runtime.spawn(release);
        }
    }
}

impl PostgresHeld {
    fn conflict(&self, expected: u64, found: i64) -> StateError {
        StateError::Conflict {
            path: self.backend.describe().into(),
            expected,
            found: u64::try_from(found).unwrap_or(0),
        }
    }
}

fn serial_i64(serial: u64) -> i64 {
    i64::try_from(serial).expect("a serial below 2^63")
}

impl HeldState for PostgresHeld {
    fn write<'a>(&'a self, state: &'a mut State) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let backend = &self.backend;
            if state.format_version > STATE_FORMAT_VERSION {
                return Err(StateError::TooNew {
                    path: backend.describe().into(),
                    found: u64::from(state.format_version),
                });
            }
            let mut guard = self.client.lock().await;
            let client = guard.as_mut().expect("the client is there until drop");
            let error = backend.error("write the state");
            let transaction = client.transaction().await.map_err(&error)?;
            let found = transaction
                .query_opt(
                    &backend.sql("SELECT serial, lineage FROM {schema}.meta FOR UPDATE"),
                    &[],
                )
                .await
                .map_err(&error)?;
            if let Some(row) = found {
                let (serial, lineage): (i64, String) = (row.get(0), row.get(1));
                if lineage == state.lineage && serial != serial_i64(state.serial) {
                    return Err(self.conflict(state.serial, serial));
                }
            }
            let serial = state.serial + 1;
            let mut value = serde_json::to_value(&*state).expect("state serializes");
            state.unknown.merge_into(state, &mut value);
            let object = value.as_object_mut().expect("a state is an object");
            // Empty lists and maps are not serialized: send them as empty JSON, not `null`.
            let resources = object
                .remove("resources")
                .unwrap_or_else(|| serde_json::json!({}));
            let journal = object
                .remove("journal")
                .unwrap_or_else(|| serde_json::json!([]));
            let plans = object
                .remove("applied_plans")
                .unwrap_or_else(|| serde_json::json!([]));
            for known in ["format_version", "lineage", "serial", "salt"] {
                object.remove(known);
            }
            let unknown = serde_json::Value::Object(std::mem::take(object));
            let format_version =
                i32::try_from(state.format_version).expect("a small format version");
            transaction
                .batch_execute(&backend.sql(
                    "DELETE FROM {schema}.meta; DELETE FROM {schema}.objects;
                     DELETE FROM {schema}.journal; DELETE FROM {schema}.applied_plans;",
                ))
                .await
                .map_err(&error)?;
            transaction
                .execute(
                    &backend.sql(
                        "INSERT INTO {schema}.meta (format_version, lineage, serial, salt, unknown)
                         VALUES ($1, $2, $3, $4, $5)",
                    ),
                    &[
                        &format_version,
                        &state.lineage,
                        &serial_i64(serial),
                        &state.salt,
                        &unknown,
                    ],
                )
                .await
                .map_err(&error)?;
            transaction
                .execute(
                    &backend.sql(
                        "INSERT INTO {schema}.objects (address, kind, remote_id, resource)
                         SELECT key, value->>'kind', value->>'remote_id', value
                         FROM jsonb_each($1::jsonb)",
                    ),
                    &[&resources],
                )
                .await
                .map_err(&error)?;
            transaction
                .execute(
                    &backend.sql(
                        "INSERT INTO {schema}.journal (seq, address, entry)
                         SELECT n, entry->>'address', entry
                         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(entry, n)",
                    ),
                    &[&journal],
                )
                .await
                .map_err(&error)?;
            transaction
                .execute(
                    &backend.sql(
                        "INSERT INTO {schema}.applied_plans (seq, id, plan)
                         SELECT n, plan->>'id', plan
                         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(plan, n)",
                    ),
                    &[&plans],
                )
                .await
                .map_err(&error)?;
            transaction.commit().await.map_err(&error)?;
            state.serial = serial;
            Ok(())
        })
    }

    fn record<'a>(&'a self, state: &'a mut State, change: &'a StateChange) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let backend = &self.backend;
            let mut guard = self.client.lock().await;
            let client = guard.as_mut().expect("the client is there until drop");
            let error = backend.error("record a step");
            let transaction = client.transaction().await.map_err(&error)?;
            let expected = serial_i64(state.serial);
            let bumped = transaction
                .execute(
                    &backend.sql(
                        "UPDATE {schema}.meta SET serial = serial + 1, updated_at = now()
                         WHERE serial = $1 AND lineage = $2",
                    ),
                    &[&expected, &state.lineage],
                )
                .await
                .map_err(&error)?;
            if bumped == 0 {
                // The first write of a new state creates its row; any other row is someone
                // else's write.
                let format_version =
                    i32::try_from(state.format_version).expect("a small format version");
                let unknown = serde_json::Value::Object(state.unknown.top.clone());
                let inserted = transaction
                    .execute(
                        &backend.sql(
                            "INSERT INTO {schema}.meta (format_version, lineage, serial, salt, unknown)
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                        ),
                        &[
                            &format_version,
                            &state.lineage,
                            &(expected + 1),
                            &state.salt,
                            &unknown,
                        ],
                    )
                    .await
                    .map_err(&error)?;
                if inserted == 0 {
                    let found: i64 = transaction
                        .query_one(&backend.sql("SELECT serial FROM {schema}.meta"), &[])
                        .await
                        .map_err(&error)?
                        .get(0);
                    return Err(self.conflict(state.serial, found));
                }
            }
            match &change.resource {
                Some(resource) => {
                    let mut value = serde_json::to_value(resource).expect("resource serializes");
                    if let Some((remote_id, extra)) = state.unknown.resources.get(&change.address)
                        && (remote_id.is_none()
                            || remote_id.as_ref() == resource.remote_id.as_ref())
                        && let Some(object) = value.as_object_mut()
                    {
                        for (name, field) in extra {
                            object.entry(name.clone()).or_insert_with(|| field.clone());
                        }
                    }
                    transaction
                        .execute(
                            &backend.sql(
                                "INSERT INTO {schema}.objects (address, kind, remote_id, resource)
                                 VALUES ($1, $2, $3, $4)
                                 ON CONFLICT (address) DO UPDATE SET kind = excluded.kind,
                                     remote_id = excluded.remote_id, resource = excluded.resource",
                            ),
                            &[
                                &change.address.0,
                                &resource.kind,
                                &resource.remote_id.as_ref().map(|id| id.0.as_str()),
                                &value,
                            ],
                        )
                        .await
                        .map_err(&error)?;
                }
                None => {
                    transaction
                        .execute(
                            &backend.sql("DELETE FROM {schema}.objects WHERE address = $1"),
                            &[&change.address.0],
                        )
                        .await
                        .map_err(&error)?;
                }
            }
            if !change.journal.is_empty() {
                let entries = serde_json::to_value(&change.journal).expect("journal serializes");
                let keep = i64::try_from(JOURNAL_KEEP).expect("a small bound");
                transaction
                    .execute(
                        &backend.sql(
                            "INSERT INTO {schema}.journal (seq, address, entry)
                             SELECT (SELECT coalesce(max(seq), 0) FROM {schema}.journal) + n,
                                    entry->>'address', entry
                             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(entry, n)",
                        ),
                        &[&entries],
                    )
                    .await
                    .map_err(&error)?;
                transaction
                    .execute(
                        &backend.sql(
                            "DELETE FROM {schema}.journal
                             WHERE seq <= (SELECT max(seq) FROM {schema}.journal) - $1",
                        ),
                        &[&keep],
                    )
                    .await
                    .map_err(&error)?;
            }
            if let Some(plan) = &change.plan {
                let value = serde_json::to_value(plan).expect("plan serializes");
                let keep = i64::try_from(PLANS_KEEP).expect("a small bound");
                transaction
                    .execute(
                        &backend.sql(
                            "INSERT INTO {schema}.applied_plans (seq, id, plan)
                             SELECT coalesce(max(seq), 0) + 1, $1, $2 FROM {schema}.applied_plans",
                        ),
                        &[&plan.id, &value],
                    )
                    .await
                    .map_err(&error)?;
                transaction
                    .execute(
                        &backend.sql(
                            "DELETE FROM {schema}.applied_plans
                             WHERE seq <= (SELECT max(seq) FROM {schema}.applied_plans) - $1",
                        ),
                        &[&keep],
                    )
                    .await
                    .map_err(&error)?;
            }
            transaction.commit().await.map_err(&error)?;
            state.apply(change);
            state.serial += 1;
            Ok(())
        })
    }
}

/// Whether `name` is a schema name used as is: lower-case ASCII letters, digits and `_`,
/// not starting with a digit, at most 63 bytes (PostgreSQL's limit).
fn is_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'_')
}

/// `sslmode` and `sslrootcert` of a URL, which tokio-postgres does not take in full.
#[derive(Debug, Default, PartialEq, Eq)]
struct TlsOptions {
    mode: Option<String>,
    root_cert: Option<String>,
}

/// The URL without its `sslmode`/`sslrootcert` query parameters, and their values. A
/// key=value connection string is returned as it is (tokio-postgres reads its `sslmode`).
fn split_tls_options(url: &str) -> (String, TlsOptions) {
    let mut options = TlsOptions::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), options);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return (url.to_owned(), options);
    }
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslmode", value)) => options.mode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => options.root_cert = Some(value.to_owned()),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, options)
}

/// The URL with its password removed (`postgres://user@host/db`), for messages. A
/// key=value connection string loses its `password=…`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let authority = match authority.rsplit_once('@') {
            Some((user_info, host)) => {
                let user = user_info
                    .split_once(':')
                    .map_or(user_info, |(user, _)| user);
                format!("{user}@{host}")
            }
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| !pair.starts_with("password="))
                    .collect();
                if kept.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path}?{}", kept.join("&"))
                }
            }
            None => tail.to_owned(),
        };
        return format!("{scheme}://{authority}{tail}");
    }
    // key=value form: drop the password (a value may be quoted and hold spaces).
    let mut out = String::new();
    let mut rest = url.trim_start();
    while !rest.is_empty() {
        let (pair, after) = next_pair(rest);
        if !pair.trim_start().starts_with("password") {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{}", pair.trim());
        }
        rest = after.trim_start();
    }
    out
}

/// The first `key=value` of a connection string and what follows it.
fn next_pair(text: &str) -> (&str, &str) {
    let Some(equals) = text.find('=') else {
        return (text, "");
    };
    let value = text[equals + 1..].trim_start();
    let offset = text.len() - value.len();
    if let Some(quoted) = value.strip_prefix('\'') {
        let mut escaped = false;
        for (index, character) in quoted.char_indices() {
            match character {
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => {
                    let end = offset + 1 + index + 1;
                    return (&text[..end], &text[end..]);
                }
                _ => escaped = false,
            }
        }
        return (text, "");
    }
    let end = value
        .find(char::is_whitespace)
        .map_or(text.len(), |i| offset + i);
    (&text[..end], &text[end..])
}

/// The crypto provider (aws-lc-rs, the one reqwest's rustls already builds).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// TLS that checks the server's certificate and name against `root_cert` (a PEM file) or
/// the system's roots.
fn verified_tls(root_cert: Option<&str>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|error| {
                    format!("sslrootcert {path}: {error}; give a PEM file of the server's CA")
                })?;
            for certificate in certificates {
                roots.add(certificate).map_err(|error| {
                    format!("sslrootcert {path}: {error}; give a PEM file of the server's CA")
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let _ = roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(
                    "no system root certificates to verify the server with; install ca-certificates or give sslrootcert=FILE"
                        .to_owned(),
                );
            }
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// TLS that encrypts without checking the certificate: libpq's `sslmode=require`.
fn unverified_tls() -> rustls::ClientConfig {
    let provider = provider();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(AnyCertificate(provider)));
    config
}

/// Accepts any server certificate (still checking the handshake signatures), as libpq's
/// `sslmode=require` does; `verify-full` is the mode that checks who the server is.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, expected) in [
            (
                "postgres://migspec:s3cret@db.example:5432/state?sslmode=require",
                "postgres://migspec@db.example:5432/state?sslmode=require",
            ),
            ("postgresql://u:p%40ss@h/db", "postgresql://u@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?password=x&sslmode=disable",
                "postgres://h/db?sslmode=disable",
            ),
            (
                "host=h user=u password='a b\\' c' dbname=d",
                "host=h user=u dbname=d",
            ),
            ("host=h password=p", "host=h"),
        ] {
            let redacted = redact_url(url);
            assert_eq!(redacted, expected, "{url}");
        }
        let error = PostgresState::new("postgres://u:hunter2@h:notaport/db", "migspec")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(error.contains("postgres://u@h:notaport/db"), "{error}");
        let backend = PostgresState::new("postgres://u:hunter2@127.0.0.1/db", "migspec").unwrap();
        assert!(!format!("{backend:?}").contains("hunter2"));
        assert!(!backend.describe().contains("hunter2"));
    }

    #[test]
    fn tls_options_are_taken_out_of_the_url() {
        assert_eq!(
            split_tls_options(
                "postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5"
            ),
            (
                "postgres://u@h/db?connect_timeout=5".to_owned(),
                TlsOptions {
                    mode: Some("verify-full".into()),
                    root_cert: Some("/ca.pem".into())
                }
            )
        );
        assert_eq!(
            split_tls_options("postgres://u@h/db?sslmode=require").0,
            "postgres://u@h/db"
        );
        let error = PostgresState::new("postgres://u@h/db?sslmode=sometimes", "migspec")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sslmode `sometimes`"), "{error}");
        let error = PostgresState::new(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "migspec",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("sslrootcert /nonexistent/ca.pem"), "{error}");
        // Loopback without sslmode is plain; require encrypts without a CA.
        assert!(matches!(
            PostgresState::new("postgres://u@127.0.0.1/db", "migspec")
                .unwrap()
                .tls,
            Tls::Plain
        ));
        assert!(matches!(
            PostgresState::new("postgres://u@127.0.0.1/db?sslmode=require", "migspec")
                .unwrap()
                .tls,
            Tls::Rustls(_)
        ));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["migspec", "team_a", "_x", "s1"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "1s", "Team", "a-b", "a\"b", "a;drop", &"x".repeat(64)] {
            assert!(!is_identifier(bad), "{bad}");
            assert!(PostgresState::new("postgres://h/db", bad).is_err(), "{bad}");
        }
        let backend = PostgresState::new("postgres://127.0.0.1/db", "team_a").unwrap();
        assert_eq!(
            backend.sql("SELECT 1 FROM {schema}.meta"),
            "SELECT 1 FROM \"team_a\".meta"
        );
    }

    #[test]
    fn migrations_are_in_order_and_name_only_the_schema_placeholder() {
        assert_eq!(known_version(), 2);
        for migration in MIGRATIONS {
            assert!(migration.contains("{schema}."), "{migration}");
            let without = migration.replace("{schema}", "");
            assert!(
                !without.contains('{') || without.contains("'{}'"),
                "{migration}"
            );
        }
        assert!(MIGRATIONS[0].contains("CREATE TABLE {schema}.meta"));
        assert!(MIGRATIONS[1].contains("ALTER TABLE {schema}.meta"));
    }
}
