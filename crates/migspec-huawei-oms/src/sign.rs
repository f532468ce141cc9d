//! The `SDK-HMAC-SHA256` request signer of Huawei Cloud's API gateway (reference §6.2).
//!
//! The algorithm, step by step:
//!
//! 1. **Signed headers**: every header present at signing time whose name contains no `_`,
//!    lower-cased, sorted, joined with `;`.
//! 2. **Canonical headers**: `name:value\n` for each signed header, the value trimmed.
//! 3. **Canonical URI**: the path percent-decoded, split on `/`, each segment encoded with
//!    only RFC 3986 unreserved characters kept (upper-case hex), re-joined, and a trailing
//!    `/` appended when missing (the request line keeps none).
//! 4. **Canonical query**: pairs sorted by key then value, each encoded as in 3, `k=v`
//!    joined with `&` (this is also the query string sent on the wire).
//! 5. **Payload hash**: lower-case hex SHA-256 of the body.
//! 6. **Canonical request**: method, URI, query, headers, signed headers and payload hash,
//!    one per line.
//! 7. **String to sign**: `SDK-HMAC-SHA256\n{X-Sdk-Date}\n{hex sha256(canonical request)}`.
//! 8. **Signature**: hex HMAC-SHA256 keyed with the SK itself; there is no key derivation.
//!
//! The result goes into `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…,
//! Signature=…`. Vectors 1–4 of reference §6.3 and the end-to-end vectors of §6.4 are unit
//! tests of this module.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header carrying the signing time.
pub const SDK_DATE_HEADER: &str = "X-Sdk-Date";

/// Everything the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SigningInput<'a> {
    /// The HTTP method (`GET`, `PUT`, …).
    pub method: &'a str,
    /// The request path as it goes on the wire (percent-encoded), without the query.
    pub path: &'a str,
    /// The query pairs, unencoded, in any order.
    pub query: &'a [(String, String)],
    /// Every header present at signing time (name, value), including `Host` and
    /// `X-Sdk-Date`. Names containing `_` are sent but not signed.
    pub headers: &'a [(String, String)],
    /// The body bytes exactly as sent (empty for none).
    pub body: &'a [u8],
}

/// A computed signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The `SignedHeaders` list (`content-type;host;x-project-id;x-sdk-date`).
    pub signed_headers: String,
    /// The hex signature.
    pub signature: String,
}

impl Signature {
    /// The `Authorization` header value for `access_key`.
    #[must_use]
    pub fn authorization(&self, access_key: &str) -> String {
        format!(
            "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
            self.signed_headers, self.signature
        )
    }
}

/// Percent-encodes `bytes`, keeping only RFC 3986 unreserved characters, upper-case hex.
#[must_use]
pub fn encode_unreserved(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let (Some(high), Some(low)) = (
                hex_value(bytes.get(index + 1).copied()),
                hex_value(bytes.get(index + 2).copied()),
            )
        {
            out.push(high << 4 | low);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    out
}

fn hex_value(byte: Option<u8>) -> Option<u8> {
    match byte? {
        digit @ b'0'..=b'9' => Some(digit - b'0'),
        letter @ b'a'..=b'f' => Some(letter - b'a' + 10),
        letter @ b'A'..=b'F' => Some(letter - b'A' + 10),
        _ => None,
    }
}

/// Step 3: the canonical URI of a wire path (with the trailing-slash rule).
#[must_use]
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode(path);
    let mut uri = decoded
        .split(|&byte| byte == b'/')
        .map(encode_unreserved)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Step 4: the canonical query string, which is also the query string to send.
#[must_use]
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{}={}",
                encode_unreserved(key.as_bytes()),
                encode_unreserved(value.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Steps 1, 2 and 5–6: the canonical request and the signed-header list.
#[must_use]
pub fn canonical_request(input: &SigningInput<'_>) -> (String, String) {
    let mut headers: Vec<(String, &str)> = input
        .headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        canonical_uri(input.path),
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        hex::encode(Sha256::digest(input.body))
    );
    (canonical, signed_headers)
}

/// Step 7: the string to sign.
#[must_use]
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Signs a request with a secret key. The `X-Sdk-Date` header must be among
/// `input.headers` (its value is part of the string to sign); without it the date line is
/// empty and the gateway refuses the request.
#[must_use]
pub fn sign(secret_key: &str, input: &SigningInput<'_>) -> Signature {
    let (canonical, signed_headers) = canonical_request(input);
    let sdk_date = input
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(SDK_DATE_HEADER))
        .map_or("", |(_, value)| value.trim());
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(string_to_sign(sdk_date, &canonical).as_bytes());
    Signature {
        signed_headers,
        signature: hex::encode(mac.finalize().into_bytes()),
    }
}

/// The `X-Sdk-Date` value of a time: UTC `yyyymmddThhmmssZ` (e.g. `20240102T030405Z`), the
/// RFC 3339 form without its separators.
#[must_use]
pub fn sdk_date(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time.max(UNIX_EPOCH))
        .to_string()
        .replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const AK: &str = "HPUAEXAMPLEAK0000001";
    const SK: &str = "ExampleSecretKey0000000000000000000000Zz";
    const PROJECT: &str = "0123456789abcdef0123456789abcdef";
    const GROUP: &str = "5c2f4a9e-7d1b-4f0e-9a3c-2b8d6e1f0a77";
    const DATE: &str = "20240102T030405Z";
    const HOST: &str = "oms.cn-north-4.myhuaweicloud.com";
    const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn headers(content_type: &str, host: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut headers = vec![
            ("Content-Type".to_owned(), content_type.to_owned()),
            ("X-Sdk-Date".to_owned(), DATE.to_owned()),
        ];
        headers.extend(
            extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        headers.push(("Host".to_owned(), host.to_owned()));
        headers.push(("X-Project-Id".to_owned(), PROJECT.to_owned()));
        headers
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn sha256_hex(text: &str) -> String {
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn vector_1_list_with_user_agent() {
        let path = format!("/v2/{PROJECT}/taskgroups");
        let query = pairs(&[("limit", "10"), ("offset", "0"), ("status", "2")]);
        let headers = headers(
            "application/json",
            HOST,
            &[("User-Agent", "huaweicloud-usdk-python/3.0")],
        );
        let input = SigningInput {
            method: "GET",
            path: &path,
            query: &query,
            headers: &headers,
            body: b"",
        };
        let (canonical, signed) = canonical_request(&input);
        assert_eq!(
            canonical,
            format!(
                "GET\n/v2/{PROJECT}/taskgroups/\nlimit=10&offset=0&status=2\ncontent-type:application/json\nhost:{HOST}\nuser-agent:huaweicloud-usdk-python/3.0\nx-project-id:{PROJECT}\nx-sdk-date:{DATE}\n\ncontent-type;host;user-agent;x-project-id;x-sdk-date\n{EMPTY_HASH}"
            )
        );
        assert_eq!(
            string_to_sign(DATE, &canonical),
            "SDK-HMAC-SHA256\n20240102T030405Z\n3c16672ca2fda6e36aa7d7669153125c161d2e392bd78934b7396bed70dde082"
        );
        assert_eq!(
            signed,
            "content-type;host;user-agent;x-project-id;x-sdk-date"
        );
        assert_eq!(
            sign(SK, &input).authorization(AK),
            "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature=c2faed3851d8b547fbb751f8d12fbbf202f30174b9b5a6d4498b006c21e60206"
        );
        assert_eq!(canonical_query(&query), "limit=10&offset=0&status=2");
    }

    #[test]
    fn vector_2_show() {
        let path = format!("/v2/{PROJECT}/taskgroups/{GROUP}");
        let headers = headers("application/json", HOST, &[]);
        let input = SigningInput {
            method: "GET",
            path: &path,
            query: &[],
            headers: &headers,
            body: b"",
        };
        let (canonical, signed) = canonical_request(&input);
        assert!(canonical.contains(&format!("{GROUP}/\n\ncontent-type:")));
        assert_eq!(signed, "content-type;host;x-project-id;x-sdk-date");
        assert_eq!(
            sha256_hex(&canonical),
            "19f2df4e1c428bd37408705a2f2df0d70710d84fc84b5ff890ff275a814f81fc"
        );
        assert_eq!(
            sign(SK, &input).signature,
            "524685fdb6dfd08c51a381857f990a247df55d44edee044d24af77ef7b9b6c1b"
        );
    }

    #[test]
    fn vector_3_retry_with_body() {
        let path = format!("/v2/{PROJECT}/taskgroups/{GROUP}/retry");
        let body = br#"{"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "migrate_failed_object": true}"#;
        assert_eq!(body.len(), 107);
        let headers = headers("application/json;charset=UTF-8", HOST, &[]);
        let input = SigningInput {
            method: "PUT",
            path: &path,
            query: &[],
            headers: &headers,
            body,
        };
        let (canonical, signed) = canonical_request(&input);
        assert!(canonical.contains("\ncontent-type:application/json;charset=UTF-8\n"));
        assert!(
            canonical.ends_with("f416cbcf160adaee3fa4c8c61382005651407b05f58f37bab24bcbebe48e72a8")
        );
        assert_eq!(
            sha256_hex(&canonical),
            "d5a0b48579b97dfc1bebf12c7d6ada455a3881df092887cf71aee4648f6fc0e3"
        );
        assert_eq!(signed, "content-type;host;x-project-id;x-sdk-date");
        assert_eq!(
            sign(SK, &input).signature,
            "ff030dc5e83654bd2be7b5766d9743fd8a8d37d680a79a1452eb7f7216b66d4b"
        );
    }

    #[test]
    fn vector_4_query_encoding_and_unsigned_underscore_header() {
        let path = format!("/v2/{PROJECT}/tasks");
        let query = pairs(&[
            ("task_name", "a b/c*~"),
            ("group_id", "g1"),
            ("limit", "100"),
        ]);
        let headers = headers("application/json", HOST, &[("X_Custom_Unsigned", "zzz")]);
        let input = SigningInput {
            method: "GET",
            path: &path,
            query: &query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            canonical_query(&query),
            "group_id=g1&limit=100&task_name=a%20b%2Fc%2A~"
        );
        let (canonical, signed) = canonical_request(&input);
        assert_eq!(signed, "content-type;host;x-project-id;x-sdk-date");
        assert!(!canonical.contains("zzz"));
        assert_eq!(
            sha256_hex(&canonical),
            "eaeb0c1512b15c1cc735ec8ada225690efedb139105f7de5cdb0155f442669df"
        );
        assert_eq!(
            sign(SK, &input).signature,
            "e979b241793ab81779298bc24f981aa56645ba163ca1ac1ea75e6e94d05bd848"
        );
    }

    const SDK_USER_AGENT: &str = "huaweicloud-usdk-python/3.0; os/Linux##1_SMP_PREEMPT_DYNAMIC_@0#x86_64 python/3.11.7 impl/CPython; app/b8286121-013c-4183-8128-3d5b3d37352b";

    #[test]
    fn end_to_end_list_from_the_sdk_client() {
        let path = format!("/v2/{PROJECT}/taskgroups");
        let query = pairs(&[("limit", "10"), ("offset", "0"), ("status", "2")]);
        let headers = headers(
            "application/json",
            "127.0.0.1:42619",
            &[("User-Agent", SDK_USER_AGENT)],
        );
        let input = SigningInput {
            method: "GET",
            path: &path,
            query: &query,
            headers: &headers,
            body: b"",
        };
        let (canonical, signed) = canonical_request(&input);
        assert_eq!(
            signed,
            "content-type;host;user-agent;x-project-id;x-sdk-date"
        );
        assert_eq!(
            sha256_hex(&canonical),
            "79d1a8dde9b3a98bcdebacdae20386d68feea48156c3cdfcc7d43a25fbb052f3"
        );
        assert_eq!(
            sign(SK, &input).signature,
            "deb47535dcdcb8a36c3c802efb153e3e2c952ba353eb684e849235eb21ba1e1d"
        );
    }

    #[test]
    fn end_to_end_retry_from_the_sdk_client() {
        let path = format!("/v2/{PROJECT}/taskgroups/{GROUP}/retry");
        let body = br#"{"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "source_cdn_authentication_key": "cdnkey", "migrate_failed_object": true}"#;
        assert_eq!(body.len(), 150);
        let headers = headers(
            "application/json;charset=utf-8",
            "127.0.0.1:42619",
            &[("User-Agent", SDK_USER_AGENT)],
        );
        let input = SigningInput {
            method: "PUT",
            path: &path,
            query: &[],
            headers: &headers,
            body,
        };
        let (canonical, _) = canonical_request(&input);
        assert!(
            canonical.ends_with("65524a0391ebfe58dca6c78e136ad6ee419dec8e0f2ed8bcf0d208627772ef36")
        );
        assert_eq!(
            sha256_hex(&canonical),
            "1447d146c39ad80482ab295161bd8b16e33e86a6f781f08ec1423f86d6f45287"
        );
        assert_eq!(
            sign(SK, &input).signature,
            "09900c81f359c627d39c75a6e6314d8c92155fea9fcdd76635529b94042a8f77"
        );
    }

    #[test]
    fn canonical_uri_decodes_then_reencodes_each_segment() {
        assert_eq!(
            canonical_uri("/v2/%7Bproject_id%7D/taskgroups"),
            "/v2/%7Bproject_id%7D/taskgroups/"
        );
        // Decoding comes before splitting, as in the SDK and the gateway.
        assert_eq!(canonical_uri("/v2/a%2fb/"), "/v2/a/b/");
        assert_eq!(canonical_uri("/v2/a b"), "/v2/a%20b/");
        assert_eq!(canonical_uri("/v2/100%"), "/v2/100%25/");
    }

    #[test]
    fn sdk_dates_are_utc_basic_format() {
        let at = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(sdk_date(at), DATE);
        assert_eq!(sdk_date(UNIX_EPOCH), "19700101T000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(sdk_date(leap), "20000229T000000Z");
    }
}
