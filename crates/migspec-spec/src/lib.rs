//! migspec spec documents.
pub mod yaml;
