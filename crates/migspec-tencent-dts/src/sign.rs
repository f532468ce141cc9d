//! TC3-HMAC-SHA256, the Tencent Cloud API 3.0 request signature (reference §3.2).
//!
//! [`sign`] returns every intermediate value (canonical request, its hash, the string to
//! sign, the signature and the `Authorization` header) so that tests can compare each one
//! with the published vectors, and so that a signature mismatch can be explained without
//! ever printing the key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name written in the string to sign and in `Authorization`.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningRequest<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The `Host` header exactly as sent (`dts.tencentcloudapi.com`, `127.0.0.1:8080`).
    pub host: &'a str,
    /// The query string exactly as sent, without `?` (empty for POST).
    pub query: &'a str,
    /// The `Content-Type` header exactly as sent.
    pub content_type: &'a str,
    /// The raw request body (empty for GET).
    pub payload: &'a [u8],
    /// The service, i.e. the host prefix (`dts`, `cvm`).
    pub service: &'a str,
    /// `X-TC-Timestamp`, in seconds since the Unix epoch.
    pub timestamp: i64,
    /// When set, `x-tc-action` is signed too (the variant of the current Chinese docs); the
    /// SDKs sign only `content-type;host`.
    pub signed_action: Option<&'a str>,
}

/// A signature with every intermediate value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Lowercase hex SHA-256 of the payload.
    pub hashed_payload: String,
    /// The canonical request.
    pub canonical_request: String,
    /// Lowercase hex SHA-256 of the canonical request.
    pub hashed_canonical_request: String,
    /// `yyyy-mm-dd`: the UTC date of the timestamp.
    pub date: String,
    /// `date/service/tc3_request`.
    pub credential_scope: String,
    /// `content-type;host` (or `content-type;host;x-tc-action`).
    pub signed_headers: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// Lowercase hex signature.
    pub signature: String,
    /// The value of the `Authorization` header.
    pub authorization: String,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex SHA-256.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The derived keys: `(SecretDate, SecretService, SecretSigning)`.
#[must_use]
pub fn derived_keys(secret_key: &str, date: &str, service: &str) -> ([u8; 32], [u8; 32], [u8; 32]) {
    let secret_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac(&secret_date, service.as_bytes());
    let secret_signing = hmac(&secret_service, b"tc3_request");
    (secret_date, secret_service, secret_signing)
}

/// The UTC date (`yyyy-mm-dd`) of a Unix timestamp. The docs insist on the UTC date, not
/// Beijing time: a request signed at 00:44 Beijing time carries the previous day. A timestamp
/// before 1970 is read as the epoch.
#[must_use]
pub fn utc_date(timestamp: i64) -> String {
    let since_epoch = std::time::Duration::from_secs(u64::try_from(timestamp).unwrap_or(0));
    let mut text =
        humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + since_epoch).to_string();
    // `2024-01-02T03:04:05Z`: the date is the first ten characters.
    text.truncate(10);
    text
}

/// Signs a request with `secret_id`/`secret_key`.
#[must_use]
pub fn sign(request: &SigningRequest<'_>, secret_id: &str, secret_key: &str) -> Signed {
    let hashed_payload = sha256_hex(request.payload);
    let mut headers = vec![
        (
            "content-type",
            request.content_type.trim().to_ascii_lowercase(),
        ),
        ("host", request.host.trim().to_ascii_lowercase()),
    ];
    if let Some(action) = request.signed_action {
        headers.push(("x-tc-action", action.trim().to_ascii_lowercase()));
    }
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n/\n{}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}",
        request.method, request.query
    );
    let hashed_canonical_request = sha256_hex(canonical_request.as_bytes());
    let date = utc_date(request.timestamp);
    let credential_scope = format!("{date}/{}/tc3_request", request.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{hashed_canonical_request}",
        request.timestamp
    );
    let (_, _, secret_signing) = derived_keys(secret_key, &date, request.service);
    let signature = hex::encode(hmac(&secret_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    Signed {
        hashed_payload,
        canonical_request,
        hashed_canonical_request,
        date,
        credential_scope,
        signed_headers,
        string_to_sign,
        signature,
        authorization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 86-byte payload of vectors A–C (the Chinese value as `\uXXXX` escapes).
    const CVM_PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const ID_A: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const KEY_A: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    fn cvm<'a>(payload: &'a str, signed_action: Option<&'a str>) -> SigningRequest<'a> {
        SigningRequest {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            query: "",
            content_type: "application/json; charset=utf-8",
            payload: payload.as_bytes(),
            service: "cvm",
            timestamp: 1_551_113_065,
            signed_action,
        }
    }

    #[test]
    fn vector_a_classic_docs() {
        assert_eq!(CVM_PAYLOAD.len(), 86);
        let signed = sign(&cvm(CVM_PAYLOAD, None), ID_A, KEY_A);
        assert_eq!(
            signed.hashed_payload,
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            signed.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            signed.hashed_canonical_request,
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            signed.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let (date, service, signing) = derived_keys(KEY_A, "2019-02-25", "cvm");
        assert_eq!(
            hex::encode(date),
            "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a"
        );
        assert_eq!(
            hex::encode(service),
            "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050"
        );
        assert_eq!(
            hex::encode(signing),
            "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1"
        );
        assert_eq!(
            signed.signature,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn vector_b_masked_key() {
        let signed = sign(
            &cvm(CVM_PAYLOAD, None),
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
        );
        assert_eq!(
            signed.hashed_canonical_request,
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            signed.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn vector_b_negative_reordered_payload_changes_everything() {
        let reordered = r#"{"Limit": 1, "Filters": [{"Name": "instance-name", "Values": ["\u672a\u547d\u540d"]}]}"#;
        let signed = sign(
            &cvm(reordered, None),
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
        );
        assert!(signed.hashed_payload.starts_with("f9dac7c1784d"));
        assert!(signed.hashed_canonical_request.starts_with("6f591fa8a4be"));
        assert_eq!(
            signed.signature,
            "b74c852d4dc00bdf326a77a4248dccf32f1a4d08ff6efc604f00c7057f193adb"
        );
    }

    #[test]
    fn vector_c_signs_x_tc_action() {
        let key = "********************************";
        let signed = sign(&cvm(CVM_PAYLOAD, Some("DescribeInstances")), ID_A, key);
        assert!(
            signed
                .canonical_request
                .contains("host:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n")
        );
        assert_eq!(signed.signed_headers, "content-type;host;x-tc-action");
        assert_eq!(
            signed.hashed_canonical_request,
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        let (date, service, signing) = derived_keys(key, "2019-02-25", "cvm");
        assert_eq!(
            hex::encode(date),
            "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
        );
        assert_eq!(
            hex::encode(service),
            "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
        );
        assert_eq!(
            hex::encode(signing),
            "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
        );
        assert_eq!(
            signed.signature,
            "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
        );
        assert!(
            signed
                .authorization
                .ends_with("SignedHeaders=content-type;host;x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f")
        );
    }

    #[test]
    fn cross_combination_key_a_with_signed_action() {
        let signed = sign(&cvm(CVM_PAYLOAD, Some("DescribeInstances")), ID_A, KEY_A);
        assert_eq!(
            signed.hashed_canonical_request,
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        assert_eq!(
            signed.signature,
            "644be983de9a8a3f00db8eadaba61467c3b429e2215758ba897b738ca469fd26"
        );
    }

    fn dts<'a>(
        method: &'a str,
        query: &'a str,
        content_type: &'a str,
        payload: &'a [u8],
    ) -> SigningRequest<'a> {
        SigningRequest {
            method,
            host: "dts.tencentcloudapi.com",
            query,
            content_type,
            payload,
            service: "dts",
            timestamp: 1_700_000_000,
            signed_action: None,
        }
    }

    #[test]
    fn vector_d_dts_post() {
        let body = br#"{"JobId": "dts-1kl0iy0v", "Limit": 10}"#;
        let signed = sign(&dts("POST", "", "application/json", body), ID_A, KEY_A);
        assert_eq!(signed.date, "2023-11-14");
        assert_eq!(
            signed.hashed_payload,
            "1fbc7a314d099fa5781f74cc86056b1fc3a7361bc370b2ee91ee9f04f438cae3"
        );
        assert_eq!(
            signed.hashed_canonical_request,
            "7a4af06e2962fa0d2bf7c79e56ce13fd6bd55717207896eccc20bfe0d9ccc445"
        );
        assert_eq!(
            signed.string_to_sign,
            "TC3-HMAC-SHA256\n1700000000\n2023-11-14/dts/tc3_request\n7a4af06e2962fa0d2bf7c79e56ce13fd6bd55717207896eccc20bfe0d9ccc445"
        );
        assert_eq!(
            signed.signature,
            "7d235b51fd5c1dadc12b39688abab3b43110abeb6931e0b44ab21c3da94c83f3"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/dts/tc3_request, SignedHeaders=content-type;host, Signature=7d235b51fd5c1dadc12b39688abab3b43110abeb6931e0b44ab21c3da94c83f3"
        );
    }

    #[test]
    fn vector_d_dts_get() {
        let signed = sign(
            &dts(
                "GET",
                "JobId=dts-1kl0iy0v&Limit=10",
                "application/x-www-form-urlencoded",
                b"",
            ),
            ID_A,
            KEY_A,
        );
        assert_eq!(
            signed.hashed_payload,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signed.hashed_canonical_request,
            "2cc29784c7613969187b70e59c64ba4ee87977838ae03eafda8da2528a39b385"
        );
        assert_eq!(
            signed.signature,
            "6bbe74a431de406e245604367ccc7310abeb13abe44e05dfaa6941525f66aeb4"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/dts/tc3_request, SignedHeaders=content-type;host, Signature=6bbe74a431de406e245604367ccc7310abeb13abe44e05dfaa6941525f66aeb4"
        );
    }

    #[test]
    fn utc_dates_cross_midnight_and_leap_years() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(4_107_542_399), "2100-02-28");
        // A clock before 1970 cannot sign a request the API accepts; it is read as the epoch.
        assert_eq!(utc_date(-1), "1970-01-01");
    }
}
