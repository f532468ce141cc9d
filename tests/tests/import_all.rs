//! Issue 13, item 13: `migspec import --all KIND --region R [--tag K=V] --out DIR` adopts
//! every existing job or task group: listed in paged calls, one spec file per object named
//! after its address, objects the state already owns skipped (and named), existing files
//! never overwritten, everything recorded in the state; the imported set plans no create,
//! delete or configuration change against the emulator.

mod support;

use support::cloud::{Cloud, describe};

const ID_FILTERS: &[(&str, &str)] = &[
    (r"dts-[a-z0-9]{8}", "dts-XXXXXXXX"),
    (
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    ),
];

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The shipped specs of both DTS API versions and OMS, applied in the default state.
fn existing() -> Cloud {
    let mut cloud = Cloud::start(None);
    for name in [
        "orders-mysql.yaml",
        "inventory-2021.yaml",
        "media-archive-oms.yaml",
    ] {
        cloud.write(&format!("specs/{name}"), &Cloud::shipped(name));
    }
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "running"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    cloud
}

fn import_all(cloud: &Cloud, kind: &str, region: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        "--all",
        kind,
        "--region",
        region,
        "--out",
        "imported",
        "--state-dir",
        "adopted",
    ];
    args.extend_from_slice(extra);
    cloud.run(&args)
}

#[test]
fn every_existing_object_is_adopted_once_into_its_own_file_and_plans_no_config_change() {
    let cloud = existing();
    let source = cloud.state();

    // A tag nobody carries selects nothing (the filter is sent, not applied afterwards).
    let none = import_all(
        &cloud,
        "TencentDtsMigrateJob",
        "ap-guangzhou",
        &["--tag", "owner=nobody"],
    );
    assert_eq!(none.status.code(), Some(0), "{}", describe(&none));
    assert_eq!(
        stderr(&none),
        "Imported 0 TencentDtsMigrateJob object(s) from ap-guangzhou into imported\n"
    );

    let dts = import_all(
        &cloud,
        "TencentDtsMigrateJob",
        "ap-guangzhou",
        &["--tag", "owner=payments"],
    );
    assert_eq!(dts.status.code(), Some(0), "{}", describe(&dts));
    let region_2021 = source["resources"]["inventory-2021"]["location"]["region"]
        .as_str()
        .expect("the 2021 job's region is recorded")
        .to_owned();
    let v2021 = import_all(&cloud, "TencentDtsMigrationJob", &region_2021, &[]);
    assert_eq!(v2021.status.code(), Some(0), "{}", describe(&v2021));
    let oms = import_all(&cloud, "HuaweiOmsTaskGroup", "cn-north-4", &[]);
    assert_eq!(oms.status.code(), Some(0), "{}", describe(&oms));
    insta::with_settings!({filters => ID_FILTERS.to_vec()}, {
        insta::assert_snapshot!(format!("{}{}{}", stderr(&dts), stderr(&v2021), stderr(&oms)));
    });

    let mut files: Vec<String> = std::fs::read_dir(cloud.dir().join("imported"))
        .expect("the imported directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "inventory-2021.yaml",
            "media-archive.yaml",
            "orders-to-cdb.yaml"
        ]
    );
    let orders = std::fs::read_to_string(cloud.dir().join("imported/orders-to-cdb.yaml"))
        .expect("the orders spec");
    insta::with_settings!({filters => ID_FILTERS.to_vec()}, {
        insta::assert_snapshot!(orders);
    });

    // The new state records the same objects under the same addresses.
    let adopted: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cloud.dir().join("adopted/state.json")).expect("the state"),
    )
    .expect("JSON");
    for address in ["orders-to-cdb", "inventory-2021", "media-archive"] {
        assert_eq!(
            adopted["resources"][address]["remote_id"], source["resources"][address]["remote_id"],
            "{address}: {adopted}"
        );
        assert_eq!(
            adopted["resources"][address]["file"],
            format!("imported/{address}.yaml"),
            "{adopted}"
        );
    }

    // Again: everything is owned now, so nothing is listed as new and no file is touched.
    let again = import_all(&cloud, "HuaweiOmsTaskGroup", "cn-north-4", &[]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    insta::with_settings!({filters => ID_FILTERS.to_vec()}, {
        insta::assert_snapshot!(stderr(&again), @r"
        Skipped xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (already managed by `media-archive`).
        Imported 0 HuaweiOmsTaskGroup object(s) from cn-north-4 into imported
        ");
    });

    // Another state importing into the same directory would overwrite: refused, nothing
    // written or recorded.
    let clash = cloud.run(&[
        "import",
        "--all",
        "HuaweiOmsTaskGroup",
        "--region",
        "cn-north-4",
        "--out",
        "imported",
        "--state-dir",
        "third",
    ]);
    assert_eq!(clash.status.code(), Some(1), "{}", describe(&clash));
    assert_eq!(
        stderr(&clash),
        "error: imported/media-archive.yaml exist(s) already: nothing was imported or written. Move them away, or import into another --out directory\n"
    );
    assert!(!cloud.dir().join("third/state.json").exists());

    // Round trip: the imported 2018 job and OMS group plan no create, delete, forget or
    // configuration change. What is left are the secrets no API returns, which migspec never
    // sent to these jobs (the existing rule for imported objects: they plan as
    // `(sensitive, unknown: will be sent)`). The 2021 job is left out: its only difference
    // is the same unknown passwords, but API 2021-12-06 cannot modify a job that is
    // readyComplete, so sending them plans a re-create, which is blocked.
    let mut plan = cloud.migspec();
    plan.args([
        "plan",
        "imported/orders-to-cdb.yaml",
        "imported/media-archive.yaml",
        "--state-dir",
        "adopted",
        "--format",
        "json",
    ]);
    for text in [&orders] {
        for line in text.lines() {
            if let Some((_, variable)) = line.split_once("fromEnv: ") {
                plan.env(variable.trim(), "a-secret");
            }
        }
    }
    for file in ["inventory-2021.yaml", "media-archive.yaml"] {
        let text = std::fs::read_to_string(cloud.dir().join("imported").join(file))
            .expect("an imported spec");
        for line in text.lines() {
            if let Some((_, variable)) = line.split_once("fromEnv: ") {
                plan.env(variable.trim(), "a-secret");
            }
        }
    }
    let plan = plan.output().expect("migspec runs");
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("a plan");
    assert_eq!(document["summary"]["create"], 0, "{document}");
    assert_eq!(document["summary"]["delete"], 0, "{document}");
    assert!(
        document["forget"].as_array().is_none_or(Vec::is_empty),
        "{document}"
    );
    assert!(
        document["blocked"].as_array().is_none_or(Vec::is_empty),
        "{document}"
    );
    let changed: Vec<String> = document["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .flat_map(|change| change["actions"].as_array().cloned().unwrap_or_default())
        .flat_map(|action| action["changes"].as_array().cloned().unwrap_or_default())
        .filter(|field| field["before"]["kind"] != "unknown")
        .map(|field| field.to_string())
        .collect();
    assert!(
        changed.is_empty(),
        "fields other than unreadable secrets differ: {changed:?}"
    );
}

#[test]
fn a_provider_without_tags_refuses_a_tag_filter() {
    let cloud = Cloud::start(None);
    let refused = import_all(
        &cloud,
        "HuaweiOmsTaskGroup",
        "cn-north-4",
        &["--tag", "team=media"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert_eq!(
        stderr(&refused),
        "error: cannot list HuaweiOmsTaskGroup in cn-north-4: --tag team=media: Huawei OMS task groups carry no tags, so they cannot be selected by one; leave --tag out for HuaweiOmsTaskGroup\n"
    );
    let usage = cloud.run(&[
        "import",
        "--all",
        "HuaweiOmsTaskGroup",
        "--region",
        "cn-north-4",
    ]);
    assert_eq!(usage.status.code(), Some(2), "{}", describe(&usage));
}

#[test]
fn issue_13_an_imported_set_whose_secrets_are_vouched_for_plans_empty() {
    let cloud = existing();
    for (kind, region) in [
        ("TencentDtsMigrateJob", "ap-guangzhou".to_owned()),
        (
            "TencentDtsMigrationJob",
            cloud.state()["resources"]["inventory-2021"]["location"]["region"]
                .as_str()
                .expect("the 2021 job's region is recorded")
                .to_owned(),
        ),
        ("HuaweiOmsTaskGroup", "cn-north-4".to_owned()),
    ] {
        let imported = import_all(&cloud, kind, &region, &["--secrets-in-use"]);
        assert_eq!(imported.status.code(), Some(0), "{}", describe(&imported));
        assert!(
            stderr(&imported).contains("taken as the ones in use"),
            "{}",
            describe(&imported)
        );
    }
    let mut plan = cloud.migspec();
    plan.args([
        "plan",
        "imported/",
        "--state-dir",
        "adopted",
        "--detailed-exitcode",
    ]);
    for entry in std::fs::read_dir(cloud.dir().join("imported")).expect("the imported specs") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("a spec");
        for line in text.lines() {
            if let Some((_, variable)) = line.split_once("fromEnv: ") {
                plan.env(variable.trim().trim_end_matches('}').trim(), "a-secret");
            }
        }
    }
    let plan = plan.output().expect("migspec runs");
    assert_eq!(
        plan.status.code(),
        Some(0),
        "the adopted set plans changes: {}",
        describe(&plan)
    );

    // Without the vouching, the same set plans the secrets as unknown (the safe default).
    let mut unvouched = cloud.migspec();
    unvouched.args([
        "import",
        "--all",
        "TencentDtsMigrateJob",
        "--region",
        "ap-guangzhou",
        "--out",
        "unvouched",
        "--state-dir",
        "unvouched-state",
    ]);
    let unvouched = unvouched.output().expect("migspec runs");
    assert_eq!(unvouched.status.code(), Some(0), "{}", describe(&unvouched));
    let mut replan = cloud.migspec();
    replan.args([
        "plan",
        "unvouched/",
        "--state-dir",
        "unvouched-state",
        "--detailed-exitcode",
    ]);
    let text = std::fs::read_to_string(cloud.dir().join("unvouched/orders-to-cdb.yaml"))
        .expect("the unvouched spec");
    for line in text.lines() {
        if let Some((_, variable)) = line.split_once("fromEnv: ") {
            replan.env(variable.trim().trim_end_matches('}').trim(), "a-secret");
        }
    }
    let replan = replan.output().expect("migspec runs");
    assert_eq!(replan.status.code(), Some(2), "{}", describe(&replan));
    assert!(
        String::from_utf8_lossy(&replan.stdout).contains("unknown: will be sent"),
        "{}",
        describe(&replan)
    );
}

/// Requests of a (service, action) the emulator received, every API version.
fn requests(stats: &serde_json::Value, service: &str, action: &str) -> u64 {
    stats["services"][service]["versions"]
        .as_object()
        .map_or(0, |versions| {
            versions
                .values()
                .filter_map(|actions| actions[action]["requests"].as_u64())
                .sum()
        })
}

#[test]
fn import_all_reads_its_objects_in_one_batch_not_one_read_per_object() {
    const COPIES: usize = 12;
    let mut cloud = Cloud::start(None);
    for (shipped, name, prefix) in [
        ("media-archive-oms.yaml", "media-archive", "media"),
        ("orders-mysql.yaml", "orders-to-cdb", "orders"),
    ] {
        let text = Cloud::shipped(shipped);
        for index in 0..COPIES {
            let address = format!("{prefix}-{index}");
            cloud.write(
                &format!("specs/{address}.yaml"),
                &text.replace(name, &address),
            );
        }
    }
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "running"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));

    let before = cloud.stats();
    let oms = import_all(&cloud, "HuaweiOmsTaskGroup", "cn-north-4", &[]);
    assert_eq!(oms.status.code(), Some(0), "{}", describe(&oms));
    let after = cloud.stats();
    let lists =
        requests(&after, "huawei", "ListTaskGroup") - requests(&before, "huawei", "ListTaskGroup");
    let shows =
        requests(&after, "huawei", "ShowTaskGroup") - requests(&before, "huawei", "ShowTaskGroup");
    // The listing of `--all`, then one listing for the imports (12 groups fit a page);
    // one ShowTaskGroup per group before.
    assert_eq!((lists, shows), (2, 0), "{after}");

    let before = after;
    let dts = import_all(&cloud, "TencentDtsMigrateJob", "ap-guangzhou", &[]);
    assert_eq!(dts.status.code(), Some(0), "{}", describe(&dts));
    let after = cloud.stats();
    let describes = requests(&after, "tencent", "DescribeMigrateJobs")
        - requests(&before, "tencent", "DescribeMigrateJobs");
    // The listing of `--all` and one for the imports; one tag-filtered describe per job
    // (and a describe by id for each job whose address tag differs) before.
    assert_eq!(describes, 2, "{after}");
    for (prefix, imported) in [("media", &oms), ("orders", &dts)] {
        assert!(
            stderr(imported).contains(&format!("Imported {COPIES} ")),
            "{prefix}: {}",
            describe(imported)
        );
    }
}
