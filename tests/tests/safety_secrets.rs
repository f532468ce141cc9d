//! Safety of secret references and transport, end to end (issue 9, items 16–19): `fromFile`
//! is confined to the spec set's root and small regular files, `fromEnv` may not name
//! migspec's own credentials, loopback requests never go through a proxy, and the emulator's
//! admin endpoints refuse foreign origins and hosts.
//!
//! Hostile specs are written with `std::fs::write`, never with `Cloud::write`: that helper
//! creates the files a spec references, which for `../../../../etc/hostname` would be a
//! file outside the workspace.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::cloud::{Cloud, describe};

/// Where the DstInfo password of the shipped orders spec is: line 34, column 5.
const DST_PASSWORD: &str = "specs/orders-mysql.yaml:34:5: orders-to-cdb: /spec/DstInfo/Password";

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A workspace with the shipped orders spec (its environment secrets provided).
fn orders() -> Cloud {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/orders-mysql.yaml",
        &Cloud::shipped("orders-mysql.yaml"),
    );
    cloud
}

/// Rewrites the orders spec with `reference` as its DstInfo password (without creating
/// any file the reference names).
fn dst_password(cloud: &Cloud, reference: &str) {
    let text = Cloud::shipped("orders-mysql.yaml").replace(
        "Password: {fromEnv: ORDERS_DST_PASSWORD}",
        &format!("Password: {reference}"),
    );
    assert!(text.contains(reference));
    std::fs::write(cloud.dir().join("specs/orders-mysql.yaml"), text).unwrap();
}

/// `migspec.yaml` of the workspace (keeping the fast poll interval).
fn settings(cloud: &Cloud, text: &str) {
    std::fs::write(
        cloud.dir().join("migspec.yaml"),
        format!("pollInterval: 50ms\n{text}"),
    )
    .unwrap();
}

/// Runs a command, killing it (and failing the test) when it takes longer than 60 s:
/// a secret read that blocks must fail the test, not hang it.
fn run_bounded(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("migspec did not finish in 60 s:\n{}", describe(&output));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn plan(cloud: &Cloud) -> Output {
    let mut command = cloud.migspec();
    command.args(["plan", "specs/"]);
    run_bounded(command)
}

/// The plan is refused with exit 1, `expected` on the error line of the reference and
/// `help` on its help line; nothing reaches the emulator.
fn refused(cloud: &Cloud, output: &Output, expected: &str, help: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    let text = stderr(output);
    assert!(
        text.contains(&format!("error: {expected}\n  help: {help}\n")),
        "expected\nerror: {expected}\n  help: {help}\nin\n{}",
        describe(output)
    );
    assert!(
        text.contains("1 secret(s) could not be read: nothing was planned"),
        "{}",
        describe(output)
    );
    assert_eq!(cloud.creates(), 0, "{}", describe(output));
}

fn root_of(cloud: &Cloud) -> String {
    cloud.dir().canonicalize().unwrap().display().to_string()
}

#[test]
fn from_file_outside_the_root_is_refused_where_it_is_written() {
    let cloud = orders();
    let root = root_of(&cloud);
    let help = format!(
        "move the file under {root} or list its directory in `secrets: {{fileDirs: [...]}}` of migspec.yaml"
    );

    dst_password(&cloud, "{fromFile: ../../../../../../../../etc/hostname}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: secret file `specs/../../../../../../../../etc/hostname` resolves to /etc/hostname, outside the spec set's root {root}"
        ),
        &help,
    );

    dst_password(&cloud, "{fromFile: /etc/hostname}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: secret file `/etc/hostname` resolves to /etc/hostname, outside the spec set's root {root}"
        ),
        &help,
    );

    // A symbolic link inside the root is followed before the check.
    std::os::unix::fs::symlink("/etc/hostname", cloud.dir().join("specs/linked")).unwrap();
    dst_password(&cloud, "{fromFile: linked}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: secret file `specs/linked` resolves to /etc/hostname, outside the spec set's root {root}"
        ),
        &help,
    );

    // `--emulator` gives unset secrets placeholders, never a refused one.
    let mut command = cloud.migspec();
    command.args(["plan", "specs/", "--emulator"]);
    refused(
        &cloud,
        &run_bounded(command),
        &format!(
            "{DST_PASSWORD}: secret file `specs/linked` resolves to /etc/hostname, outside the spec set's root {root}"
        ),
        &help,
    );
}

#[test]
fn from_file_reads_only_small_regular_files() {
    let cloud = orders();
    let dir = cloud.dir().join("specs");

    // A FIFO would block the read until a writer came: it is refused without opening it
    // for a blocking read.
    let status = Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    dst_password(&cloud, "{fromFile: pipe}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!("{DST_PASSWORD}: secret file `specs/pipe` is a fifo, not a regular file"),
        "point `fromFile` at a regular file that holds only the secret",
    );

    std::fs::create_dir(dir.join("folder")).unwrap();
    dst_password(&cloud, "{fromFile: folder}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!("{DST_PASSWORD}: secret file `specs/folder` is a directory, not a regular file"),
        "point `fromFile` at a regular file that holds only the secret",
    );

    std::fs::write(dir.join("big"), vec![b'x'; 64 * 1024 + 1]).unwrap();
    dst_password(&cloud, "{fromFile: big}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: secret file `specs/big` is larger than 65536 bytes, the limit for a secret file"
        ),
        "a secret file holds one value; point `fromFile` at a file of at most 64 KiB",
    );

    // Exactly at the cap is fine.
    std::fs::write(dir.join("big"), vec![b'x'; 64 * 1024]).unwrap();
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));

    // A device inside an allowed directory is still not a regular file (and /dev/zero is
    // never read).
    settings(&cloud, "secrets:\n  fileDirs: [/dev]\n");
    dst_password(&cloud, "{fromFile: /dev/zero}");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: secret file `/dev/zero` is a character device, not a regular file"
        ),
        "point `fromFile` at a regular file that holds only the secret",
    );
}

#[test]
fn from_file_reads_the_root_and_the_directories_migspec_yaml_lists() {
    let cloud = orders();
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("dst-password"), "from-shared\n").unwrap();
    let shared_path = shared.path().canonicalize().unwrap();
    dst_password(
        &cloud,
        &format!("{{fromFile: {}/dst-password}}", shared_path.display()),
    );
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr(&output).contains("outside the spec set's root"),
        "{}",
        describe(&output)
    );

    settings(
        &cloud,
        &format!("secrets:\n  fileDirs: [{}]\n", shared_path.display()),
    );
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));

    // Relative directories are relative to migspec.yaml; the spec's own directory needs
    // no listing.
    std::fs::create_dir(cloud.dir().join("specs/secrets")).unwrap();
    std::fs::write(cloud.dir().join("specs/secrets/pw"), "in-root\n").unwrap();
    dst_password(&cloud, "{fromFile: secrets/pw}");
    settings(&cloud, "");
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));

    settings(&cloud, "secrets:\n  fileDirs: [does-not-exist]\n");
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr(&output).contains("migspec.yaml: secrets.fileDirs: cannot use directory"),
        "{}",
        describe(&output)
    );
}

#[test]
fn from_env_may_not_name_migspecs_own_credentials() {
    let cloud = orders();
    for variable in [
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_TOKEN",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    ] {
        dst_password(&cloud, &format!("{{fromEnv: {variable}}}"));
        let mut command = cloud.migspec();
        command
            .env("TENCENTCLOUD_TOKEN", "a-token")
            .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", "a-token")
            .args(["plan", "specs/"]);
        refused(
            &cloud,
            &run_bounded(command),
            &format!(
                "{DST_PASSWORD}: environment variable `{variable}` holds migspec's own cloud credentials and cannot be a spec's secret"
            ),
            &format!(
                "give this field its own variable; to send this credential on purpose, list `{variable}` by name in `secrets: {{allowEnv: [...]}}` of migspec.yaml"
            ),
        );
    }

    // A glob does not unlock a credential; its exact name does.
    dst_password(&cloud, "{fromEnv: TENCENTCLOUD_SECRET_KEY}");
    settings(&cloud, "secrets:\n  allowEnv: ['*']\n");
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr(&output).contains("holds migspec's own cloud credentials"),
        "{}",
        describe(&output)
    );
    settings(
        &cloud,
        "secrets:\n  allowEnv: ['ORDERS_*', TENCENTCLOUD_SECRET_KEY]\n",
    );
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

#[test]
fn migspec_yaml_allows_and_denies_environment_variables() {
    let cloud = orders();
    settings(&cloud, "secrets:\n  denyEnv: ['ORDERS_SRC_*']\n");
    refused(
        &cloud,
        &plan(&cloud),
        "specs/orders-mysql.yaml:26:5: orders-to-cdb: /spec/SrcInfo/Password: environment variable `ORDERS_SRC_PASSWORD` is denied by `secrets.denyEnv` pattern `ORDERS_SRC_*` in migspec.yaml",
        "use a variable that `secrets.denyEnv` does not match",
    );

    settings(&cloud, "secrets:\n  allowEnv: ['ORDERS_SRC_*']\n");
    refused(
        &cloud,
        &plan(&cloud),
        &format!(
            "{DST_PASSWORD}: environment variable `ORDERS_DST_PASSWORD` is not matched by `secrets.allowEnv` in migspec.yaml"
        ),
        "use a variable that `secrets.allowEnv` matches, or add a pattern for this one",
    );

    // Deny wins over allow.
    settings(
        &cloud,
        "secrets:\n  allowEnv: ['ORDERS_*']\n  denyEnv: [ORDERS_DST_PASSWORD]\n",
    );
    let output = plan(&cloud);
    assert!(
        stderr(&output).contains("is denied by `secrets.denyEnv` pattern `ORDERS_DST_PASSWORD`"),
        "{}",
        describe(&output)
    );

    settings(&cloud, "secrets:\n  allowEnv: ['ORDERS_*']\n");
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));

    // The project id is not a credential: the shipped OMS spec uses it.
    let mut oms = Cloud::start(None);
    oms.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    let output = plan(&oms);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));

    settings(&cloud, "secrets:\n  allowEnv: ['bad glob!']\n");
    let output = plan(&cloud);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr(&output).contains("migspec.yaml: secrets.allowEnv: `bad glob!` is not a pattern of environment variable names"),
        "{}",
        describe(&output)
    );
}

/// A "proxy" on loopback that counts the connections it receives and answers each with a
/// 502, so that a request sent through it fails.
fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buffer = [0_u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

#[test]
fn loopback_requests_never_go_through_a_proxy() {
    let mut cloud = Cloud::start(None);
    cloud.write(
        "specs/media-archive-oms.yaml",
        &Cloud::shipped("media-archive-oms.yaml"),
    );
    cloud.write(
        "specs/orders-mysql.yaml",
        &Cloud::shipped("orders-mysql.yaml"),
    );
    let (proxy, seen) = counting_proxy();
    let mut command = cloud.migspec();
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env(variable, &proxy);
    }
    command.env_remove("NO_PROXY").env_remove("no_proxy").args([
        "apply",
        "specs/",
        "--auto-approve",
        "--wait",
        "none",
    ]);
    let output = run_bounded(command);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "{}", describe(&output));
    assert_eq!(cloud.accepted("huawei", "CreateTaskGroup"), 1);
    assert_eq!(cloud.accepted("tencent", "CreateMigrateJob"), 1);
}

/// One raw HTTP/1.1 request to the emulator; the status code and body.
fn raw(cloud: &Cloud, request_line: &str, headers: &[&str]) -> (u16, String) {
    let mut text = format!("{request_line} HTTP/1.1\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    cloud.request(&text)
}

#[test]
fn emulator_admin_endpoints_refuse_foreign_origins_and_hosts() {
    let cloud = orders();
    let apply = cloud.run(&["apply", "specs/", "--auto-approve", "--wait", "none"]);
    assert_eq!(apply.status.code(), Some(0), "{}", describe(&apply));
    let address = cloud.url.trim_start_matches("http://").to_owned();
    let port = address.rsplit_once(':').unwrap().1.to_owned();
    let host = format!("Host: {address}");

    let origin_refusal = r#"{"error":"emulator admin request refused: origin `http://evil.example` is not loopback; admin endpoints answer only pages and tools on this machine"}"#;
    assert_eq!(
        raw(
            &cloud,
            "POST /_emulator/reset",
            &[&host, "Origin: http://evil.example"]
        ),
        (403, origin_refusal.to_owned())
    );
    assert_eq!(
        raw(&cloud, "POST /_emulator/reset", &["Host: evil.example"]),
        (
            403,
            r#"{"error":"emulator admin request refused: host `evil.example` is not loopback; use http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT"}"#
                .to_owned()
        )
    );
    assert_eq!(
        raw(
            &cloud,
            "GET /_emulator/stats",
            &[&format!("Host: evil.example:{port}")]
        )
        .0,
        403
    );
    assert_eq!(
        raw(&cloud, "GET /_emulator/stats", &["Host: 127.evil.example"]).0,
        403
    );
    assert_eq!(
        raw(
            &cloud,
            "GET /_emulator/stats",
            &[&host, "Origin: http://localhost.evil.example"]
        )
        .0,
        403
    );
    assert_eq!(
        raw(&cloud, "GET /_emulator/stats", &[&host, "Origin: null"]).0,
        403
    );
    // HTTP/1.1 requires a Host header; a request without one is not from a local tool.
    assert_eq!(raw(&cloud, "GET /_emulator/stats", &[]).0, 403);
    // Nothing was reset.
    assert_eq!(cloud.creates(), 1);

    for good in [
        host.clone(),
        format!("Host: localhost:{port}"),
        "Host: localhost".to_owned(),
        format!("Host: [::1]:{port}"),
        "Host: 127.0.0.2".to_owned(),
    ] {
        let (status, body) = raw(&cloud, "GET /_emulator/health", &[&good]);
        assert_eq!(status, 200, "{good}: {body}");
    }
    let (status, body) = raw(
        &cloud,
        "GET /_emulator/health",
        &[&host, &format!("Origin: http://127.0.0.1:{port}")],
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw(
        &cloud,
        "POST /_emulator/reset",
        &[
            &format!("Host: localhost:{port}"),
            "Origin: http://localhost:3000",
        ],
    );
    assert_eq!((status, body.as_str()), (200, r#"{"reset":true}"#));
    assert_eq!(cloud.creates(), 0, "the reset ran");
}
