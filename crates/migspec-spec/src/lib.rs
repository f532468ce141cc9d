//! migspec spec documents.
