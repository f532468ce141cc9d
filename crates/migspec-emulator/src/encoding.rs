//! Percent-encoding helpers shared by the signature verifiers and the query parsers.

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); invalid escapes are kept verbatim.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything except the RFC 3986 unreserved characters, upper-case hex.
pub(crate) fn encode_unreserved(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
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

/// Splits a raw query string into decoded (key, value) pairs, in order (form encoding:
/// `+` is a space). Empty segments are skipped; a key without `=` has an empty value.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            (
                String::from_utf8_lossy(&percent_decode(key, true)).into_owned(),
                String::from_utf8_lossy(&percent_decode(value, true)).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_and_encode() {
        assert_eq!(percent_decode("a%20b%2Fc%2A~", false), b"a b/c*~");
        assert_eq!(percent_decode("a+b", true), b"a b");
        assert_eq!(percent_decode("a+b", false), b"a+b");
        assert_eq!(percent_decode("100%", false), b"100%");
        assert_eq!(percent_decode("%zz%4", false), b"%zz%4");
        assert_eq!(encode_unreserved(b"a b/c*~"), "a%20b%2Fc%2A~");
        assert_eq!(encode_unreserved("未".as_bytes()), "%E6%9C%AA");
    }

    #[test]
    fn query_pairs_keep_order() {
        let pairs = parse_query("JobId=dts-1&Limit=10&TagFilters.0.TagValue.0=v%201&flag");
        assert_eq!(pairs[0], ("JobId".to_owned(), "dts-1".to_owned()));
        assert_eq!(pairs[2].1, "v 1");
        assert_eq!(pairs[3], ("flag".to_owned(), String::new()));
    }
}
