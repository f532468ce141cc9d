//! Test harness: an emulator on port 0 with a manual clock, a tiny HTTP client, and
//! client-side signers written independently of the emulator's verifiers (from the
//! reference's step-by-step algorithm, as a client would).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::too_many_arguments,
    reason = "shared test helpers; not every test file uses every helper"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use migspec_emulator::{
    EmulatorConfig, HuaweiCredential, ManualClock, PhaseDurations, RunningEmulator,
    TencentCredential,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const SECRET_ID: &str = "AKIDtestEmulator000000000000000001";
pub const SECRET_KEY: &str = "testSecretKey000000000000000000001";
pub const AK: &str = "TESTAK00000000000001";
pub const SK: &str = "testSecretKey0000000000000000000000000001";
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "test-token";
pub const REGION: &str = "ap-guangzhou";
pub const V2018: &str = "2018-03-30";
pub const V2021: &str = "2021-12-06";

/// Every phase lasts one second unless a test says otherwise.
pub fn durations() -> PhaseDurations {
    PhaseDurations::uniform(Duration::from_secs(1))
}

/// The default test configuration (manual clock, test credentials, 1 s phases).
pub fn config(clock: &ManualClock) -> EmulatorConfig {
    EmulatorConfig::default()
        .with_clock(Arc::new(clock.clone()))
        .with_durations(durations())
        .with_tencent_credentials(vec![TencentCredential::new(SECRET_ID, SECRET_KEY)])
        .with_huawei_credentials(vec![HuaweiCredential::new(AK, SK)])
        .with_huawei_tokens(vec![TOKEN.to_owned()])
}

pub struct Harness {
    pub emulator: RunningEmulator,
    pub clock: ManualClock,
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection. `Err` means the connection closed without an answer.
pub async fn send(addr: SocketAddr, request: Request<Full<Bytes>>) -> Result<Answer, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

// ---------------------------------------------------------------------------------------
// Client-side TC3-HMAC-SHA256 (reference §3.2).

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `yyyy-mm-dd` (UTC) of a Unix timestamp.
pub fn utc_day(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap();
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What to put in a signed Tencent request.
#[derive(Debug, Clone)]
pub struct Tc3 {
    pub secret_id: String,
    pub secret_key: String,
    pub timestamp: u64,
    pub method: Method,
    pub query: String,
    pub content_type: String,
    pub host: String,
    pub service: String,
    pub sign_action: bool,
}

pub fn tc3_authorization(tc3: &Tc3, action: &str, body: &[u8]) -> String {
    let mut headers = vec![
        ("content-type", tc3.content_type.to_lowercase()),
        ("host", tc3.host.to_lowercase()),
    ];
    if tc3.sign_action {
        headers.push(("x-tc-action", action.to_lowercase()));
    }
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(";");
    let query = if tc3.method == Method::GET {
        tc3.query.as_str()
    } else {
        ""
    };
    let canonical = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        tc3.method,
        query,
        canonical_headers,
        signed_headers,
        sha256_hex(body)
    );
    let date = utc_day(tc3.timestamp);
    let scope = format!("{date}/{}/tc3_request", tc3.service);
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
        tc3.timestamp,
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac_sha256(format!("TC3{}", tc3.secret_key).as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, tc3.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&k_signing, to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        tc3.secret_id
    )
}

// ---------------------------------------------------------------------------------------
// Client-side SDK-HMAC-SHA256 (reference §6.2).

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `yyyymmddThhmmssZ` of a Unix timestamp.
pub fn sdk_date(secs: u64) -> String {
    let day = utc_day(secs).replace('-', "");
    let rest = secs % 86_400;
    format!(
        "{day}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Signs an OMS request; returns (query string to send, headers to send).
pub fn sdk_sign(
    ak: &str,
    sk: &str,
    method: &Method,
    path: &str,
    query: &[(&str, &str)],
    host: &str,
    date: &str,
    body: &[u8],
) -> (String, Vec<(String, String)>) {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("host".to_owned(), host.to_owned()),
        ("x-project-id".to_owned(), PROJECT.to_owned()),
        ("x-sdk-date".to_owned(), date.to_owned()),
    ];
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let uri = if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    let canonical = format!(
        "{method}\n{uri}\n{canonical_query}\n{canonical_headers}\n{signed}\n{}",
        sha256_hex(body)
    );
    let to_sign = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let signature = hex::encode(hmac_sha256(sk.as_bytes(), to_sign.as_bytes()));
    headers.push((
        "authorization".to_owned(),
        format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={signature}"),
    ));
    (canonical_query, headers)
}

// ---------------------------------------------------------------------------------------
// The harness.

impl Harness {
    pub async fn start() -> Self {
        let clock = ManualClock::new();
        Self::with(&clock, config(&clock)).await
    }

    pub async fn with(clock: &ManualClock, config: EmulatorConfig) -> Self {
        let emulator = migspec_emulator::start(config)
            .await
            .expect("emulator starts");
        Self {
            emulator,
            clock: clock.clone(),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.emulator.addr()
    }

    pub fn host(&self) -> String {
        self.addr().to_string()
    }

    pub fn advance(&self, duration: Duration) {
        self.clock.advance(duration);
    }

    pub fn advance_secs(&self, secs: u64) {
        self.advance(Duration::from_secs(secs));
    }

    pub fn tc3(&self) -> Tc3 {
        Tc3 {
            secret_id: SECRET_ID.to_owned(),
            secret_key: SECRET_KEY.to_owned(),
            timestamp: self.clock.now_secs(),
            method: Method::POST,
            query: String::new(),
            content_type: "application/json".to_owned(),
            host: self.host(),
            service: "dts".to_owned(),
            sign_action: false,
        }
    }

    /// A signed Tencent POST with full control over the signing inputs.
    pub async fn dts_signed(
        &self,
        tc3: &Tc3,
        version: &str,
        action: &str,
        region: Option<&str>,
        body: &[u8],
    ) -> Answer {
        let authorization = tc3_authorization(tc3, action, body);
        let uri = if tc3.query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", tc3.query)
        };
        let mut builder = Request::builder()
            .method(tc3.method.clone())
            .uri(uri)
            .header("host", &tc3.host)
            .header("content-type", &tc3.content_type)
            .header("x-tc-action", action)
            .header("x-tc-version", version)
            .header("x-tc-timestamp", tc3.timestamp.to_string())
            .header("authorization", authorization);
        if let Some(region) = region {
            builder = builder.header("x-tc-region", region);
        }
        let request = builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        send(self.addr(), request).await.expect("answer")
    }

    /// A Tencent call in `REGION`; returns the `Response` object.
    pub async fn dts(&self, version: &str, action: &str, params: Value) -> Value {
        self.dts_in(Some(REGION), version, action, params).await
    }

    pub async fn dts_in(
        &self,
        region: Option<&str>,
        version: &str,
        action: &str,
        params: Value,
    ) -> Value {
        let body = serde_json::to_vec(&params).unwrap();
        let answer = self
            .dts_signed(&self.tc3(), version, action, region, &body)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "Tencent answers HTTP 200");
        assert_eq!(
            answer.content_type(),
            Some("application/json"),
            "Content-Type exactly application/json"
        );
        let json = answer.json();
        let response = json
            .get("Response")
            .cloned()
            .unwrap_or_else(|| panic!("no Response envelope: {json}"));
        let request_id = response["RequestId"]
            .as_str()
            .unwrap_or_else(|| panic!("no RequestId: {response}"));
        assert!(
            uuid::Uuid::parse_str(request_id).is_ok_and(|id| id.get_version_num() == 4),
            "RequestId is a uuid v4: {request_id}"
        );
        response
    }

    /// A Tencent call that must succeed.
    pub async fn dts_ok(&self, version: &str, action: &str, params: Value) -> Value {
        let response = self.dts(version, action, params.clone()).await;
        assert!(
            response.get("Error").is_none(),
            "{action} {params} failed: {response}"
        );
        response
    }

    /// A Tencent call that must fail; returns (code, message).
    pub async fn dts_err(&self, version: &str, action: &str, params: Value) -> (String, String) {
        let response = self.dts(version, action, params.clone()).await;
        let error = response
            .get("Error")
            .unwrap_or_else(|| panic!("{action} {params} should fail: {response}"));
        let keys: Vec<&String> = response.as_object().unwrap().keys().collect();
        assert_eq!(
            keys.len(),
            2,
            "an error response has only Error and RequestId: {response}"
        );
        (
            error["Code"].as_str().unwrap().to_owned(),
            error["Message"].as_str().unwrap().to_owned(),
        )
    }

    /// Asserts a failure with `code` whose message mentions `needle`.
    pub async fn dts_expect(
        &self,
        version: &str,
        action: &str,
        params: Value,
        code: &str,
        needle: &str,
    ) {
        let (actual, message) = self.dts_err(version, action, params).await;
        assert_eq!(actual, code, "{action}: {message}");
        assert!(
            message.contains(needle),
            "{action}: message `{message}` should mention `{needle}`"
        );
    }

    /// A signed OMS request; `path` is below `/v2/{PROJECT}`.
    pub async fn oms(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let full = format!("/v2/{PROJECT}{path}");
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let date = sdk_date(self.clock.now_secs());
        let (query_string, headers) =
            sdk_sign(AK, SK, &method, &full, query, &self.host(), &date, &body);
        let uri = if query_string.is_empty() {
            full
        } else {
            format!("{full}?{query_string}")
        };
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        send(
            self.addr(),
            builder.body(Full::new(Bytes::from(body))).unwrap(),
        )
        .await
        .expect("answer")
    }

    /// An OMS call; returns (HTTP status, JSON body or Null).
    pub async fn oms_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let answer = self.oms(method, path, query, body).await;
        assert!(
            answer.headers.contains_key("x-request-id"),
            "OMS answers carry X-Request-Id"
        );
        (answer.status.as_u16(), answer.json())
    }

    /// Asserts an OMS error: HTTP status, `error_code`, and a message mentioning `needle`.
    pub async fn oms_expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
        code: &str,
        needle: &str,
    ) {
        let (actual, json) = self.oms_json(method, path, &[], body).await;
        assert_eq!(actual, status, "{path}: {json}");
        assert_eq!(json["error_code"], code, "{path}: {json}");
        let message = json["error_msg"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{path}: message `{message}` should mention `{needle}`"
        );
    }

    pub async fn show(&self, group_id: &str) -> Value {
        let (status, json) = self
            .oms_json(Method::GET, &format!("/taskgroups/{group_id}"), &[], None)
            .await;
        assert_eq!(status, 200, "show {group_id}: {json}");
        json
    }

    /// An unauthenticated admin request with a JSON body.
    pub async fn admin_with(&self, method: Method, path: &str, body: &Value) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap())))
            .unwrap();
        let answer = send(self.addr(), request).await.expect("answer");
        (answer.status.as_u16(), answer.json())
    }

    /// An unauthenticated admin request.
    pub async fn admin(&self, method: Method, path: &str) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host())
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send(self.addr(), request).await.expect("answer");
        (answer.status.as_u16(), answer.json())
    }
}

// ---------------------------------------------------------------------------------------
// Request bodies.

/// A valid 2018 CreateMigrateJob request (MySQL on CVM → TencentDB, full + incremental).
pub fn create_2018(name: &str) -> Value {
    serde_json::json!({
        "JobName": name,
        "MigrateOption": {"RunMode": 1, "MigrateType": 3, "MigrateObject": 2, "ConsistencyType": 5, "IsOverrideRoot": 0},
        "SrcDatabaseType": "mysql",
        "SrcAccessType": "cvm",
        "SrcInfo": {"CvmInstanceId": "ins-1a2b3c4d", "Port": 3306, "User": "dts", "Password": "src-secret", "Region": REGION},
        "DstDatabaseType": "mysql",
        "DstAccessType": "cdb",
        "DstInfo": {"InstanceId": "cdb-9z8y7x6w", "Region": REGION, "User": "root", "Password": "dst-secret"},
        "DatabaseInfo": "[{\"Database\":\"orders\",\"Table\":[\"orders\",\"order_items\"]}]",
        "Tags": [{"TagKey": "team", "TagValue": "payments"}]
    })
}

/// A valid 2021 ModifyMigrationJob request for a mysql → mysql job in `REGION`.
pub fn modify_2021(job_id: &str, migrate_type: &str) -> Value {
    serde_json::json!({
        "JobId": job_id,
        "RunMode": "immediate",
        "MigrateOption": {"DatabaseTable": {"ObjectMode": "partial", "Databases": [{"DbName": "orders", "DBMode": "all"}]}, "MigrateType": migrate_type},
        "SrcInfo": {"Region": REGION, "AccessType": "extranet", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"Host": "10.0.0.1", "Port": 3306, "User": "dts", "Password": "src-secret"}]},
        "DstInfo": {"Region": REGION, "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                    "Info": [{"InstanceId": "cdb-12345678", "User": "root", "Password": "dst-secret"}]}
    })
}

/// A valid OMS create request.
pub fn create_group(description: &str) -> Value {
    serde_json::json!({
        "src_node": {"ak": "SRCAK", "sk": "SRCSK", "region": "cn-hangzhou", "object_key": ["2024/"], "bucket": "src-bucket", "cloud_type": "Aliyun"},
        "description": description,
        "dst_node": {"ak": "DSTAK", "sk": "DSTSK", "region": "cn-north-4", "bucket": "dst-bucket", "save_prefix": "archive/"},
        "enable_failed_object_recording": true,
        "task_type": "PREFIX",
        "bandwidth_policy": [{"end": "06:00", "max_bandwidth": 104_857_600, "start": "00:00"}]
    })
}

impl Harness {
    /// Creates a 2018 job and returns its id.
    pub async fn create_2018(&self, name: &str) -> String {
        let response = self
            .dts_ok(V2018, "CreateMigrateJob", create_2018(name))
            .await;
        response["JobId"].as_str().unwrap().to_owned()
    }

    /// The 2018 `MigrateJobInfo` of a job.
    pub async fn job_2018(&self, job_id: &str) -> Value {
        let response = self
            .dts_ok(
                V2018,
                "DescribeMigrateJobs",
                serde_json::json!({"JobId": job_id}),
            )
            .await;
        assert_eq!(response["TotalCount"], 1, "{response}");
        response["JobList"][0].clone()
    }

    /// Buys one 2021 job, waits for `created`, configures it; returns its id.
    pub async fn configured_2021(&self, name: &str, migrate_type: &str) -> String {
        let response = self
            .dts_ok(V2021, "CreateMigrationService", serde_json::json!({"SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": REGION, "DstRegion": REGION, "InstanceClass": "small", "JobName": name}))
            .await;
        let job_id = response["JobIds"][0].as_str().unwrap().to_owned();
        self.advance_secs(1);
        self.dts_ok(
            V2021,
            "ModifyMigrationJob",
            modify_2021(&job_id, migrate_type),
        )
        .await;
        job_id
    }

    /// The 2021 `DescribeMigrationDetail` of a job.
    pub async fn detail_2021(&self, job_id: &str) -> Value {
        self.dts_ok(
            V2021,
            "DescribeMigrationDetail",
            serde_json::json!({"JobId": job_id}),
        )
        .await
    }

    pub async fn status_2021(&self, job_id: &str) -> String {
        self.detail_2021(job_id).await["Status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates an OMS group and returns its id.
    pub async fn create_group(&self, description: &str) -> String {
        let (status, json) = self
            .oms_json(
                Method::POST,
                "/taskgroups",
                &[],
                Some(create_group(description)),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        json["group_id"].as_str().unwrap().to_owned()
    }
}
