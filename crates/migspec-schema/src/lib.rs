//! migspec schemas and validation.
