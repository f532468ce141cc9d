//! The address marker: how a task group is found again without its id.
//!
//! OMS task groups have no name and no tags, so migspec appends a marker to the
//! `description` it sends at creation:
//!
//! ```text
//! <spec description> migspec:address=<metadata.name>
//! ```
//!
//! or, when the spec has no description, just `migspec:address=<metadata.name>`. The
//! marker is always the end of the description. `metadata.name` is at most 63 characters of
//! `a-z`, `0-9` and `-`, so the marker takes at most 80 characters and the spec's
//! description (at most 170) keeps the whole within the API's 255; the marker uses none
//! of the characters OMS forbids (`^ < > & " '`).
//!
//! The id in migspec's state stays the primary identity; the marker is how a create that
//! crashed before its id was recorded is found again (`observe` with no remote id), and
//! what a create checks first so that a repeated create adopts the group instead of making
//! a second one.

/// The text that starts a marker: [`migspec_provider::MARKER_KEY`] and `=` (a literal, as a
/// `const` cannot be concatenated from another; a test holds the two together).
pub const PREFIX: &str = "migspec:address=";

/// The marker of an address: `migspec:address=<address>`.
#[must_use]
pub fn marker(address: &str) -> String {
    format!("{PREFIX}{address}")
}

/// The description sent at creation: the spec's description, a space, and the marker.
#[must_use]
pub fn with_marker(description: Option<&str>, address: &str) -> String {
    match description
        .map(str::trim_end)
        .filter(|text| !text.is_empty())
    {
        Some(text) => format!("{text} {}", marker(address)),
        None => marker(address),
    }
}

/// Where the marker starts in a description, if it ends with one.
fn marker_start(description: &str) -> Option<usize> {
    let start = description.rfind(PREFIX)?;
    let address = &description[start + PREFIX.len()..];
    let well_formed = !address.is_empty()
        && address
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    let at_boundary = start == 0 || description[..start].ends_with(' ');
    (well_formed && at_boundary).then_some(start)
}

/// The address a description's marker names, if it has one.
#[must_use]
pub fn address_of(description: &str) -> Option<&str> {
    marker_start(description).map(|start| &description[start + PREFIX.len()..])
}

/// The description without its marker (what the spec wrote).
#[must_use]
pub fn strip(description: &str) -> &str {
    match marker_start(description) {
        Some(start) => description[..start].trim_end_matches(' '),
        None => description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_shared_marker_key_and_an_equals_sign() {
        assert_eq!(PREFIX, format!("{}=", migspec_provider::MARKER_KEY));
    }

    #[test]
    fn markers_round_trip() {
        let description = with_marker(Some("media archive 2023-2024"), "media-archive");
        assert_eq!(
            description,
            "media archive 2023-2024 migspec:address=media-archive"
        );
        assert_eq!(address_of(&description), Some("media-archive"));
        assert_eq!(strip(&description), "media archive 2023-2024");

        let bare = with_marker(None, "x");
        assert_eq!(bare, "migspec:address=x");
        assert_eq!(address_of(&bare), Some("x"));
        assert_eq!(strip(&bare), "");
        assert_eq!(with_marker(Some("  "), "x"), "migspec:address=x");
    }

    #[test]
    fn only_a_well_formed_final_marker_counts() {
        assert_eq!(address_of("no marker here"), None);
        assert_eq!(address_of("migspec:address=a b"), None);
        assert_eq!(address_of("xmigspec:address=a"), None);
        assert_eq!(address_of("migspec:address="), None);
        assert_eq!(strip("plain"), "plain");
        let longest = with_marker(Some(&"d".repeat(170)), &"a".repeat(63));
        assert_eq!(longest.chars().count(), 170 + 1 + 16 + 63);
        assert!(longest.chars().count() <= 255);
    }
}
