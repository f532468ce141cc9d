//! migspec provider for Huawei Cloud OMS v2 migration task groups (being built).
