//! TC3-HMAC-SHA256 verification, written from the API reference (§3.2–§3.4).
//!
//! The verifier rebuilds the canonical request from what was *received*: the raw body
//! bytes (never re-serialised), the raw query string for GET, and the received values of
//! exactly the headers listed in `SignedHeaders` (so any `Host`, a `Content-Type` with or
//! without charset, and a signed `x-tc-action` all work).

use hmac::{Hmac, KeyInit, Mac};
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

use crate::clock::utc_date;

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name at the start of the `Authorization` header and the string to sign.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The largest accepted distance between `X-TC-Timestamp` and the server clock.
pub(crate) const MAX_SKEW_SECS: i64 = 300;

/// Why a request failed verification; each maps onto one `AuthFailure.*` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tc3Error {
    /// `AuthFailure.InvalidAuthorization`: the header is malformed.
    InvalidAuthorization(String),
    /// `AuthFailure.SignatureExpire`: the timestamp is too far from the server clock.
    SignatureExpire,
    /// `AuthFailure.SecretIdNotFound`: unknown SecretId.
    SecretIdNotFound,
    /// `AuthFailure.SignatureFailure`: the signature does not match.
    SignatureFailure(String),
}

/// The parts of a `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tc3Authorization {
    pub(crate) secret_id: String,
    pub(crate) date: String,
    pub(crate) service: String,
    pub(crate) signed_headers: String,
    pub(crate) signature: String,
}

impl Tc3Authorization {
    pub(crate) fn parse(value: &str) -> Result<Self, Tc3Error> {
        let invalid = |why: &str| Tc3Error::InvalidAuthorization(why.to_owned());
        let rest = value
            .strip_prefix(ALGORITHM)
            .filter(|rest| rest.starts_with(' '))
            .ok_or_else(|| {
                invalid("the Authorization header must start with `TC3-HMAC-SHA256 `")
            })?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v.trim());
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed_headers = Some(v.trim());
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v.trim());
            } else if !part.is_empty() {
                return Err(invalid("unexpected element in the Authorization header"));
            }
        }
        let credential = credential
            .ok_or_else(|| invalid("Credential is missing from the Authorization header"))?;
        let signed_headers = signed_headers
            .ok_or_else(|| invalid("SignedHeaders is missing from the Authorization header"))?;
        let signature = signature
            .ok_or_else(|| invalid("Signature is missing from the Authorization header"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [secret_id, date, service, terminator] = scope.as_slice() else {
            return Err(invalid(
                "Credential must be SecretId/Date/service/tc3_request",
            ));
        };
        if *terminator != "tc3_request"
            || secret_id.is_empty()
            || date.is_empty()
            || service.is_empty()
        {
            return Err(invalid(
                "Credential must be SecretId/Date/service/tc3_request",
            ));
        }
        if signed_headers.is_empty() || signature.is_empty() {
            return Err(invalid("SignedHeaders and Signature must not be empty"));
        }
        Ok(Self {
            secret_id: (*secret_id).to_owned(),
            date: (*date).to_owned(),
            service: (*service).to_owned(),
            signed_headers: signed_headers.to_owned(),
            signature: signature.to_owned(),
        })
    }
}

/// What the verifier needs from a received request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tc3Request<'a> {
    pub(crate) method: &'a str,
    /// The query string as received (without `?`); empty for POST.
    pub(crate) raw_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Hex SHA-256 of the payload, honouring `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
pub(crate) fn payload_hash(headers: &HeaderMap, body: &[u8]) -> String {
    let unsigned = header_text(headers, "x-tc-content-sha256")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("UNSIGNED-PAYLOAD"));
    if unsigned {
        hex::encode(Sha256::digest(b"UNSIGNED-PAYLOAD"))
    } else {
        hex::encode(Sha256::digest(body))
    }
}

/// The canonical request of §3.2 step 1, built from the received request.
pub(crate) fn canonical_request(
    request: &Tc3Request<'_>,
    signed_headers: &str,
) -> Result<String, Tc3Error> {
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let lower = name.trim().to_ascii_lowercase();
        let value = header_text(request.headers, &lower).ok_or_else(|| {
            Tc3Error::SignatureFailure(format!(
                "signed header `{lower}` is not present in the request"
            ))
        })?;
        canonical_headers.push_str(&lower);
        canonical_headers.push(':');
        canonical_headers.push_str(&value.trim().to_ascii_lowercase());
        canonical_headers.push('\n');
    }
    let query = if request.method.eq_ignore_ascii_case("GET") {
        request.raw_query
    } else {
        ""
    };
    Ok(format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        query,
        canonical_headers,
        signed_headers,
        payload_hash(request.headers, request.body)
    ))
}

/// The string to sign of §3.2 step 2.
pub(crate) fn string_to_sign(
    timestamp: &str,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The derived signing key of §3.2 step 3.
pub(crate) fn signing_key(secret_key: &str, date: &str, service: &str) -> Vec<u8> {
    let secret_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac(&secret_date, service.as_bytes());
    hmac(&secret_service, b"tc3_request")
}

/// Verifies a TC3 request and returns the SecretId it was signed with.
///
/// `now_secs` is the server clock; `None` skips the expiry check (used for the
/// published vectors, whose timestamps are years old).
pub(crate) fn verify(
    request: &Tc3Request<'_>,
    authorization: &str,
    secret_key_of: impl Fn(&str) -> Option<String>,
    now_secs: Option<i64>,
) -> Result<String, Tc3Error> {
    let auth = Tc3Authorization::parse(authorization)?;
    let timestamp_text = header_text(request.headers, "x-tc-timestamp").ok_or_else(|| {
        Tc3Error::InvalidAuthorization("the X-TC-Timestamp header is missing".to_owned())
    })?;
    let timestamp_text = timestamp_text.trim().to_owned();
    let timestamp: i64 = timestamp_text.parse().map_err(|_| {
        Tc3Error::InvalidAuthorization("X-TC-Timestamp must be a Unix time in seconds".to_owned())
    })?;
    if let Some(now) = now_secs
        && (now - timestamp).abs() > MAX_SKEW_SECS
    {
        return Err(Tc3Error::SignatureExpire);
    }
    let secret_key = secret_key_of(&auth.secret_id).ok_or(Tc3Error::SecretIdNotFound)?;
    if auth.date != utc_date(timestamp) {
        return Err(Tc3Error::SignatureFailure(format!(
            "the credential date {} is not the UTC date of X-TC-Timestamp ({})",
            auth.date,
            utc_date(timestamp)
        )));
    }
    let canonical = canonical_request(request, &auth.signed_headers)?;
    let to_sign = string_to_sign(&timestamp_text, &auth.date, &auth.service, &canonical);
    let expected = hex::decode(&auth.signature)
        .map_err(|_| Tc3Error::SignatureFailure("the signature is not hex".to_owned()))?;
    let mut mac = HmacSha256::new_from_slice(&signing_key(&secret_key, &auth.date, &auth.service))
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(to_sign.as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| Tc3Error::SignatureFailure("signature mismatch".to_owned()))?;
    Ok(auth.secret_id)
}

#[cfg(test)]
mod tests {
    use hyper::header::{HeaderName, HeaderValue};

    use super::*;

    const PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const ID_A: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY_A: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn cvm_headers(timestamp: &str) -> HeaderMap {
        headers(&[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Host", "cvm.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeInstances"),
            ("X-TC-Timestamp", timestamp),
            ("X-TC-Version", "2017-03-12"),
            ("X-TC-Region", "ap-guangzhou"),
        ])
    }

    fn authorization(id: &str, date_service: &str, signed: &str, signature: &str) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={id}/{date_service}/tc3_request, SignedHeaders={signed}, Signature={signature}"
        )
    }

    fn flip_one_bit(hex_text: &str) -> String {
        let mut bytes = hex::decode(hex_text).expect("hex");
        bytes[0] ^= 1;
        hex::encode(bytes)
    }

    fn key_lookup(id: &'static str, key: &'static str) -> impl Fn(&str) -> Option<String> {
        move |candidate| (candidate == id).then(|| key.to_owned())
    }

    #[test]
    fn vector_a_intermediate_values_and_signature() {
        let headers = cvm_headers("1551113065");
        let request = Tc3Request {
            method: "POST",
            raw_query: "",
            headers: &headers,
            body: PAYLOAD.as_bytes(),
        };
        assert_eq!(
            payload_hash(&headers, PAYLOAD.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let canonical = canonical_request(&request, "content-type;host").expect("canonical");
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            hex::encode(signing_key(KEY_A, "2019-02-25", "cvm")),
            "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"
        );
        let signature = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";
        let auth = authorization(ID_A, "2019-02-25/cvm", "content-type;host", signature);
        assert_eq!(
            verify(&request, &auth, key_lookup(ID_A, KEY_A), None),
            Ok(ID_A.to_owned())
        );
        // Same vector checked against a clock exactly at the timestamp: not expired.
        assert!(
            verify(
                &request,
                &auth,
                key_lookup(ID_A, KEY_A),
                Some(1_551_113_065)
            )
            .is_ok()
        );
        let tampered = authorization(
            ID_A,
            "2019-02-25/cvm",
            "content-type;host",
            &flip_one_bit(signature),
        );
        assert!(matches!(
            verify(&request, &tampered, key_lookup(ID_A, KEY_A), None),
            Err(Tc3Error::SignatureFailure(_))
        ));
    }

    #[test]
    fn vector_b_masked_key() {
        let headers = cvm_headers("1551113065");
        let request = Tc3Request {
            method: "POST",
            raw_query: "",
            headers: &headers,
            body: PAYLOAD.as_bytes(),
        };
        let id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
        let signature = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c";
        let auth = authorization(id, "2019-02-25/cvm", "content-type;host", signature);
        let lookup = key_lookup(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
        );
        assert!(verify(&request, &auth, &lookup, None).is_ok());
        let tampered = authorization(
            id,
            "2019-02-25/cvm",
            "content-type;host",
            &flip_one_bit(signature),
        );
        assert!(verify(&request, &tampered, &lookup, None).is_err());
        // The negative test of the official demo: the same keys in the other order change everything.
        let reordered = r#"{"Limit": 1, "Filters": [{"Name": "instance-name", "Values": ["\u672a\u547d\u540d"]}]}"#;
        let reordered_request = Tc3Request {
            body: reordered.as_bytes(),
            ..request
        };
        assert!(verify(&reordered_request, &auth, &lookup, None).is_err());
    }

    #[test]
    fn vector_c_signs_x_tc_action() {
        let headers = cvm_headers("1551113065");
        let request = Tc3Request {
            method: "POST",
            raw_query: "",
            headers: &headers,
            body: PAYLOAD.as_bytes(),
        };
        let signed = "content-type;host;x-tc-action";
        let canonical = canonical_request(&request, signed).expect("canonical");
        assert!(canonical.contains("x-tc-action:describeinstances\n"));
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        let stars = "********************************";
        assert_eq!(
            hex::encode(signing_key(stars, "2019-02-25", "cvm")),
            "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
        );
        let signature = "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f";
        let auth = authorization(ID_A, "2019-02-25/cvm", signed, signature);
        let lookup = move |candidate: &str| (candidate == ID_A).then(|| stars.to_owned());
        assert!(verify(&request, &auth, lookup, None).is_ok());
        let tampered = authorization(ID_A, "2019-02-25/cvm", signed, &flip_one_bit(signature));
        assert!(verify(&request, &tampered, lookup, None).is_err());
        // Cross combination: the example key with x-tc-action signed.
        let cross = authorization(
            ID_A,
            "2019-02-25/cvm",
            signed,
            "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26",
        );
        assert!(verify(&request, &cross, key_lookup(ID_A, KEY_A), None).is_ok());
    }

    fn dts_headers(content_type: &str) -> HeaderMap {
        headers(&[
            ("Content-Type", content_type),
            ("Host", "dts.tencentcloudapi.com"),
            ("X-TC-Action", "DescribeMigrateJobs"),
            ("X-TC-Timestamp", "1700000000"),
            ("X-TC-Version", "2018-03-30"),
            ("X-TC-Region", "ap-guangzhou"),
        ])
    }

    #[test]
    fn vector_d_post_from_the_python_sdk() {
        let headers = dts_headers("application/json");
        let body = br#"{"JobId": "dts-1kl0iy0v", "Limit": 10}"#;
        let request = Tc3Request {
            method: "POST",
            raw_query: "",
            headers: &headers,
            body,
        };
        assert_eq!(
            payload_hash(&headers, body),
            "1fbc7a314d099fa5781f74cc86056b1fc3a7361bc370b2ee91ee9f04f438cae3"
        );
        let canonical = canonical_request(&request, "content-type;host").expect("canonical");
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "7a4af06e2962fa0d2bf7c79e56ce13fd6bd55717207896eccc20bfe0d9ccc445"
        );
        let signature = "7d235b51fd5c1dadc12b39688abab3b43110abeb6931e0b44ab21c3da94c83f3";
        let auth = authorization(ID_A, "2023-11-14/dts", "content-type;host", signature);
        assert!(
            verify(
                &request,
                &auth,
                key_lookup(ID_A, KEY_A),
                Some(1_700_000_100)
            )
            .is_ok()
        );
        let tampered = authorization(
            ID_A,
            "2023-11-14/dts",
            "content-type;host",
            &flip_one_bit(signature),
        );
        assert!(verify(&request, &tampered, key_lookup(ID_A, KEY_A), None).is_err());
        // One bit of the body changed.
        let mut flipped = body.to_vec();
        flipped[3] ^= 1;
        let flipped_request = Tc3Request {
            body: &flipped,
            ..request
        };
        assert!(verify(&flipped_request, &auth, key_lookup(ID_A, KEY_A), None).is_err());
    }

    #[test]
    fn vector_d_get_signs_the_raw_query() {
        let headers = dts_headers("application/x-www-form-urlencoded");
        let request = Tc3Request {
            method: "GET",
            raw_query: "JobId=dts-1kl0iy0v&Limit=10",
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&request, "content-type;host").expect("canonical");
        assert_eq!(
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "2cc29784c7613969187b70e59c64ba4ee87977838ae03eafda8da2528a39b385"
        );
        let signature = "6bbe74a431de406e245604367ccc7310abeb13abe44e05dfaa6941525f66aeb4";
        let auth = authorization(ID_A, "2023-11-14/dts", "content-type;host", signature);
        assert!(verify(&request, &auth, key_lookup(ID_A, KEY_A), None).is_ok());
        let reordered = Tc3Request {
            raw_query: "Limit=10&JobId=dts-1kl0iy0v",
            ..request
        };
        assert!(verify(&reordered, &auth, key_lookup(ID_A, KEY_A), None).is_err());
        let tampered = authorization(
            ID_A,
            "2023-11-14/dts",
            "content-type;host",
            &flip_one_bit(signature),
        );
        assert!(verify(&request, &tampered, key_lookup(ID_A, KEY_A), None).is_err());
    }

    #[test]
    fn expiry_unknown_id_and_malformed_headers() {
        let headers = dts_headers("application/json");
        let body = br#"{"JobId": "dts-1kl0iy0v", "Limit": 10}"#;
        let request = Tc3Request {
            method: "POST",
            raw_query: "",
            headers: &headers,
            body,
        };
        let auth = authorization(
            ID_A,
            "2023-11-14/dts",
            "content-type;host",
            "7d235b51fd5c1dadc12b39688abab3b43110abeb6931e0b44ab21c3da94c83f3",
        );
        assert_eq!(
            verify(
                &request,
                &auth,
                key_lookup(ID_A, KEY_A),
                Some(1_700_000_301)
            ),
            Err(Tc3Error::SignatureExpire)
        );
        assert_eq!(
            verify(
                &request,
                &auth,
                key_lookup(ID_A, KEY_A),
                Some(1_699_999_699)
            ),
            Err(Tc3Error::SignatureExpire)
        );
        assert!(
            verify(
                &request,
                &auth,
                key_lookup(ID_A, KEY_A),
                Some(1_700_000_300)
            )
            .is_ok()
        );
        assert_eq!(
            verify(&request, &auth, key_lookup("AKIDother", KEY_A), None),
            Err(Tc3Error::SecretIdNotFound)
        );
        for bad in [
            "Bearer abc",
            "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/dts, SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256 SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=ab",
        ] {
            assert!(
                matches!(
                    verify(&request, bad, key_lookup(ID_A, KEY_A), None),
                    Err(Tc3Error::InvalidAuthorization(_))
                ),
                "{bad}"
            );
        }
        // A credential date that is not the UTC date of the timestamp.
        let wrong_date = authorization(ID_A, "2023-11-15/dts", "content-type;host", "00");
        assert!(matches!(
            verify(&request, &wrong_date, key_lookup(ID_A, KEY_A), None),
            Err(Tc3Error::SignatureFailure(_))
        ));
    }
}
