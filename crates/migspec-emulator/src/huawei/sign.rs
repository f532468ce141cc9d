//! SDK-HMAC-SHA256 verification, written from the OMS API reference (§6.2).
//!
//! Unlike TC3 there is no key derivation: the signature is `HMAC-SHA256(SK, StringToSign)`.
//! The canonical URI always ends in `/` even though the request line does not, the
//! query is parsed, sorted and re-encoded, and the signed headers are exactly the ones
//! the client listed (their received values, trimmed, case kept).

use hmac::{Hmac, KeyInit, Mac};
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

use crate::encoding::{encode_unreserved, parse_query, percent_decode};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name at the start of the `Authorization` header.
pub(crate) const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The largest accepted distance between `X-Sdk-Date` and the server clock (15 minutes).
pub(crate) const MAX_SKEW_SECS: i64 = 15 * 60;

/// Why a request failed verification (all answered with 401 `APIGW.0301`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SdkSignError {
    /// The header is malformed.
    Malformed(String),
    /// `X-Sdk-Date` is missing, malformed or too far from the server clock.
    Expired(String),
    /// Unknown access key.
    UnknownAccessKey,
    /// The signature does not match.
    Mismatch,
}

impl SdkSignError {
    /// The `error_msg` of the 401 answer, in the gateway's wording.
    pub(crate) fn message(&self) -> String {
        let detail = match self {
            Self::Malformed(why) => format!("authorization header is malformed: {why}"),
            Self::Expired(why) => why.clone(),
            Self::UnknownAccessKey => "Get secretKey failed, ak not exist".to_owned(),
            Self::Mismatch => "verify aksk signature fail".to_owned(),
        };
        format!("Incorrect IAM authentication information: {detail}")
    }
}

/// The parts of `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SdkAuthorization {
    pub(crate) access_key: String,
    pub(crate) signed_headers: String,
    pub(crate) signature: String,
}

impl SdkAuthorization {
    pub(crate) fn parse(value: &str) -> Result<Self, SdkSignError> {
        let malformed = |why: &str| SdkSignError::Malformed(why.to_owned());
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| {
                malformed("expected `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`")
            })?;
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Access=") {
                access = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            } else {
                return Err(malformed("unexpected element"));
            }
        }
        match (access, signed, signature) {
            (Some(access), Some(signed), Some(signature))
                if !access.is_empty()
                    && !signed.is_empty()
                    && !signature.is_empty()
                    && signature.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Ok(Self {
                    access_key: access.to_owned(),
                    signed_headers: signed.to_owned(),
                    signature: signature.to_ascii_lowercase(),
                })
            }
            _ => Err(malformed(
                "Access, SignedHeaders and a hex Signature are required",
            )),
        }
    }
}

/// §6.2 step 3: decode the path, re-encode each segment, and append a trailing `/`.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    let decoded = percent_decode(raw_path, false);
    let mut out = decoded
        .split(|&b| b == b'/')
        .map(encode_unreserved)
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// §6.2 step 4: parse the received query, sort by key then value, re-encode.
pub(crate) fn canonical_query(raw_query: &str) -> String {
    let mut pairs = parse_query(raw_query);
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

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// What the verifier needs from a received request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SdkRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) raw_path: &'a str,
    pub(crate) raw_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// §6.2 step 6: the canonical request.
pub(crate) fn canonical_request(
    request: &SdkRequest<'_>,
    signed_headers: &str,
) -> Result<String, SdkSignError> {
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let lower = name.to_ascii_lowercase();
        let value = header_text(request.headers, &lower).ok_or(SdkSignError::Mismatch)?;
        canonical_headers.push_str(&lower);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }
    let content_sha = header_text(request.headers, "x-sdk-content-sha256");
    let payload_hash = match content_sha {
        Some(value) if !request.body.is_empty() => value.trim().to_owned(),
        _ => hex::encode(Sha256::digest(request.body)),
    };
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.raw_path),
        canonical_query(request.raw_query),
        canonical_headers,
        signed_headers,
        payload_hash
    ))
}

/// §6.2 step 7: the string to sign.
pub(crate) fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Verifies a signed request and returns the access key.
///
/// `now_secs` is the server clock; `None` skips the `X-Sdk-Date` window check.
pub(crate) fn verify(
    request: &SdkRequest<'_>,
    authorization: &str,
    secret_key_of: impl Fn(&str) -> Option<String>,
    now_secs: Option<i64>,
) -> Result<String, SdkSignError> {
    let auth = SdkAuthorization::parse(authorization)?;
    let sdk_date = header_text(request.headers, "x-sdk-date")
        .ok_or_else(|| SdkSignError::Expired("X-Sdk-Date is missing".to_owned()))?;
    let sdk_date = sdk_date.trim().to_owned();
    let signed_at = crate::clock::parse_sdk_date(&sdk_date).ok_or_else(|| {
        SdkSignError::Expired("X-Sdk-Date must look like 20240102T030405Z".to_owned())
    })?;
    if let Some(now) = now_secs
        && (now - signed_at).abs() > MAX_SKEW_SECS
    {
        return Err(SdkSignError::Expired(
            "the request time X-Sdk-Date is more than 15 minutes from the server time".to_owned(),
        ));
    }
    let secret_key = secret_key_of(&auth.access_key).ok_or(SdkSignError::UnknownAccessKey)?;
    let canonical = canonical_request(request, &auth.signed_headers)?;
    let expected = hex::decode(&auth.signature).map_err(|_| SdkSignError::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(secret_key.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(string_to_sign(&sdk_date, &canonical).as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| SdkSignError::Mismatch)?;
    Ok(auth.access_key)
}

#[cfg(test)]
mod tests {
    use hyper::header::{HeaderName, HeaderValue};

    use super::*;

    const AK: &str = "HPUAEXAMPLEAK0000001";
    const SK: &str = "ExampleSecretKey0000000000000000000000Zz";
    const PROJECT: &str = "0123456789abcdef0123456789abcdef";
    const GROUP: &str = "5c2f4a9e-7d1b-4f0e-9a3c-2b8d6e1f0a77";

    fn headers(host: &str, content_type: &str, extra: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        let mut add = |name: &str, value: &str| {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        };
        add("Content-Type", content_type);
        add("X-Sdk-Date", "20240102T030405Z");
        add("Host", host);
        add("X-Project-Id", PROJECT);
        for (name, value) in extra {
            add(name, value);
        }
        map
    }

    fn lookup(candidate: &str) -> Option<String> {
        (candidate == AK).then(|| SK.to_owned())
    }

    fn auth(signed: &str, signature: &str) -> String {
        format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders={signed}, Signature={signature}")
    }

    fn flip_one_bit(hex_text: &str) -> String {
        let mut bytes = hex::decode(hex_text).expect("hex");
        bytes[31] ^= 0x80;
        hex::encode(bytes)
    }

    fn assert_vector(
        request: &SdkRequest<'_>,
        signed: &str,
        canonical_hash: &str,
        signature: &str,
    ) {
        let canonical = canonical_request(request, signed).expect("canonical");
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            canonical_hash,
            "canonical request:\n{canonical}"
        );
        assert_eq!(
            verify(request, &auth(signed, signature), lookup, None),
            Ok(AK.to_owned())
        );
        // 2024-01-02T03:04:05Z plus ten minutes is inside the window, plus twenty is not.
        assert!(
            verify(
                request,
                &auth(signed, signature),
                lookup,
                Some(1_704_164_645 + 600)
            )
            .is_ok()
        );
        assert!(matches!(
            verify(
                request,
                &auth(signed, signature),
                lookup,
                Some(1_704_164_645 + 1200)
            ),
            Err(SdkSignError::Expired(_))
        ));
        assert_eq!(
            verify(
                request,
                &auth(signed, &flip_one_bit(signature)),
                lookup,
                None
            ),
            Err(SdkSignError::Mismatch)
        );
    }

    #[test]
    fn vector_1_list_with_user_agent() {
        let headers = headers(
            "oms.cn-north-4.myhuaweicloud.com",
            "application/json",
            &[("User-Agent", "huaweicloud-usdk-python/3.0")],
        );
        let path = format!("/v2/{PROJECT}/taskgroups");
        let request = SdkRequest {
            method: "GET",
            raw_path: &path,
            raw_query: "limit=10&offset=0&status=2",
            headers: &headers,
            body: b"",
        };
        let signed = "content-type;host;user-agent;x-project-id;x-sdk-date";
        let canonical = canonical_request(&request, signed).expect("canonical");
        let expected = format!(
            "GET\n/v2/{PROJECT}/taskgroups/\nlimit=10&offset=0&status=2\ncontent-type:application/json\nhost:oms.cn-north-4.myhuaweicloud.com\nuser-agent:huaweicloud-usdk-python/3.0\nx-project-id:{PROJECT}\nx-sdk-date:20240102T030405Z\n\n{signed}\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(canonical, expected);
        assert_eq!(
            string_to_sign("20240102T030405Z", &canonical),
            "SDK-HMAC-SHA256\n20240102T030405Z\n3c16672ca2fda6e36aa7d7669153125c161d2e392bd78934b7396bed70dde082"
        );
        assert_vector(
            &request,
            signed,
            "3c16672ca2fda6e36aa7d7669153125c161d2e392bd78934b7396bed70dde082",
            "c2faed3851d8b547fbb751f8d12fbbf202f30174b9b5a6d4498b006c21e60206",
        );
    }

    #[test]
    fn vector_2_show() {
        let headers = headers("oms.cn-north-4.myhuaweicloud.com", "application/json", &[]);
        let path = format!("/v2/{PROJECT}/taskgroups/{GROUP}");
        let request = SdkRequest {
            method: "GET",
            raw_path: &path,
            raw_query: "",
            headers: &headers,
            body: b"",
        };
        assert!(
            canonical_request(&request, "content-type;host;x-project-id;x-sdk-date")
                .expect("c")
                .contains("0a77/\n\n")
        );
        assert_vector(
            &request,
            "content-type;host;x-project-id;x-sdk-date",
            "19f2df4e1c428bd37408705a2f2df0d70710d84fc84b5ff890ff275a814f81fc",
            "524685fdb6dfd08c51a381857f990a247df55d44edee044d24af77ef7b9b6c1b",
        );
    }

    #[test]
    fn vector_3_retry_with_body() {
        let headers = headers(
            "oms.cn-north-4.myhuaweicloud.com",
            "application/json;charset=UTF-8",
            &[],
        );
        let path = format!("/v2/{PROJECT}/taskgroups/{GROUP}/retry");
        let body = br#"{"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "migrate_failed_object": true}"#;
        assert_eq!(body.len(), 107);
        assert_eq!(
            hex::encode(Sha256::digest(body)),
            "f416cbcf160adaee3fa4c8c61382005651407b05f58f37bab24bcbebe48e72a8"
        );
        let request = SdkRequest {
            method: "PUT",
            raw_path: &path,
            raw_query: "",
            headers: &headers,
            body,
        };
        assert_vector(
            &request,
            "content-type;host;x-project-id;x-sdk-date",
            "d5a0b48579b97dfc1bebf12c7d6ada455a3881df092887cf71aee4648f6fc0e3",
            "ff030dc5e83654bd2be7b5766d9743fd8a8d37d680a79a1452eb7f7216b66d4b",
        );
        let mut flipped = body.to_vec();
        flipped[10] ^= 1;
        let tampered = SdkRequest {
            body: &flipped,
            ..request
        };
        let signature = "ff030dc5e83654bd2be7b5766d9743fd8a8d37d680a79a1452eb7f7216b66d4b";
        assert_eq!(
            verify(
                &tampered,
                &auth("content-type;host;x-project-id;x-sdk-date", signature),
                lookup,
                None
            ),
            Err(SdkSignError::Mismatch)
        );
    }

    #[test]
    fn vector_4_query_encoding_and_unsigned_underscore_header() {
        let headers = headers(
            "oms.cn-north-4.myhuaweicloud.com",
            "application/json",
            &[("X_Custom_Unsigned", "zzz")],
        );
        let path = format!("/v2/{PROJECT}/tasks");
        let query = "group_id=g1&limit=100&task_name=a%20b%2Fc%2A~";
        assert_eq!(
            canonical_query("task_name=a%20b%2Fc%2A~&group_id=g1&limit=100"),
            query
        );
        assert_eq!(
            canonical_query("task_name=a+b%2Fc*~&limit=100&group_id=g1"),
            query
        );
        let request = SdkRequest {
            method: "GET",
            raw_path: &path,
            raw_query: query,
            headers: &headers,
            body: b"",
        };
        assert_vector(
            &request,
            "content-type;host;x-project-id;x-sdk-date",
            "eaeb0c1512b15c1cc735ec8ada225690efedb139105f7de5cdb0155f442669df",
            "e979b241793ab81779298bc24f981aa56645ba163ca1ac1ea75e6e94d05bd848",
        );
    }

    const SDK_USER_AGENT: &str = "huaweicloud-usdk-python/3.0; os/Linux##1_SMP_PREEMPT_DYNAMIC_@0#x86_64 python/3.11.7 impl/CPython; app/b8286121-013c-4183-8128-3d5b3d37352b";

    #[test]
    fn end_to_end_vectors_from_the_sdk_client() {
        let signed = "content-type;host;user-agent;x-project-id;x-sdk-date";
        let list_headers = headers(
            "127.0.0.1:42619",
            "application/json",
            &[("User-Agent", SDK_USER_AGENT)],
        );
        let list_path = format!("/v2/{PROJECT}/taskgroups");
        let list = SdkRequest {
            method: "GET",
            raw_path: &list_path,
            raw_query: "limit=10&offset=0&status=2",
            headers: &list_headers,
            body: b"",
        };
        assert_vector(
            &list,
            signed,
            "79d1a8dde9b3a98bcdebacdae20386d68feea48156c3cdfcc7d43a25fbb052f3",
            "deb47535dcdcb8a36c3c802efb153e3e2c952ba353eb684e849235eb21ba1e1d",
        );
        let retry_headers = headers(
            "127.0.0.1:42619",
            "application/json;charset=utf-8",
            &[("User-Agent", SDK_USER_AGENT)],
        );
        let retry_path = format!("/v2/{PROJECT}/taskgroups/{GROUP}/retry");
        let body = br#"{"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "source_cdn_authentication_key": "cdnkey", "migrate_failed_object": true}"#;
        assert_eq!(
            hex::encode(Sha256::digest(body)),
            "65524a0391ebfe58dca6c78e136ad6ee419dec8e0f2ed8bcf0d208627772ef36"
        );
        let retry = SdkRequest {
            method: "PUT",
            raw_path: &retry_path,
            raw_query: "",
            headers: &retry_headers,
            body,
        };
        assert_vector(
            &retry,
            signed,
            "1447d146c39ad80482ab295161bd8b16e33e86a6f781f08ec1423f86d6f45287",
            "09900c81f359c627d39c75a6e6314d8c92155fea9fcdd76635529b94042a8f77",
        );
    }

    #[test]
    fn malformed_and_unknown_keys() {
        let headers = headers("h", "application/json", &[]);
        let request = SdkRequest {
            method: "GET",
            raw_path: "/v2/p/taskgroups",
            raw_query: "",
            headers: &headers,
            body: b"",
        };
        assert!(matches!(
            verify(&request, "SDK-HMAC-SHA256 Access=x", lookup, None),
            Err(SdkSignError::Malformed(_))
        ));
        assert!(matches!(
            verify(&request, "AWS4-HMAC-SHA256 Credential=x", lookup, None),
            Err(SdkSignError::Malformed(_))
        ));
        let other = "SDK-HMAC-SHA256 Access=OTHER, SignedHeaders=host, Signature=00";
        assert_eq!(
            verify(&request, other, lookup, None),
            Err(SdkSignError::UnknownAccessKey)
        );
        assert_eq!(
            canonical_uri("/v2/%7Bproject_id%7D/taskgroups"),
            "/v2/%7Bproject_id%7D/taskgroups/"
        );
        assert_eq!(canonical_uri("/"), "/");
    }
}
