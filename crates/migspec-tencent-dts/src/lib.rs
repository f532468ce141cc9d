//! migspec provider for Tencent Cloud DTS migration jobs (being built).
