//! Shared pieces of the fuzz targets (see `README.md`): how each target turns the fuzzer's
//! bytes into the input of the code under test, kept here so that the regression tests in
//! `tests/` and the AFL binaries in `src/bin/` run exactly the same code.

use migspec_emulator::fuzzing::{Answer, Emulator};

/// Spec loading and validation: the bytes as one spec file, through `migspec validate`'s
/// path (YAML, documents, schema, rules). Non-UTF-8 input is read lossily, as a file would
/// fail earlier with its own error.
pub fn spec(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let report = migspec_schema::validate_source(
        "fuzz.yaml",
        &text,
        migspec_schema::Options {
            allow_literal_secrets: true,
        },
    );
    // Every diagnostic must render (a span past the end of the source would panic miette).
    for diagnostic in &report.diagnostics {
        let _ = diagnostic.to_string();
    }
    // A valid document must re-serialise: the plan stores it.
    for document in &report.documents {
        let _ = serde_json::to_string(&document.document);
    }
}

#[cfg(feature = "runner")]
/// A saved plan file (`migspec apply plan.json`, `migspec show plan.json`): parsed, then
/// every method `apply` calls on a loaded plan, and a JSON round trip.
pub fn plan(data: &[u8]) {
    let Ok(plan) = serde_json::from_slice::<migspec_runner::plan::Plan>(data) else {
        return;
    };
    let _ = plan.summary_line();
    let _ = plan.has_changes();
    let _ = plan.action_differences(&plan);
    let _ = plan
        .binding
        .stale_reasons(&plan.binding.lineage, &plan.binding.addresses);
    let mut restricted = plan.clone();
    let _ = restricted.restricted_to(&plan.binding.addresses);
    let text = serde_json::to_string(&plan).expect("a loaded plan serialises");
    let again: migspec_runner::plan::Plan =
        serde_json::from_str(&text).expect("a saved plan loads again");
    assert_eq!(again, plan, "a plan changed through a save and load");
}

#[cfg(feature = "runner")]
/// The local state backend's files: `data` is `state.json`, then optionally a NUL byte
/// and `state.log`, written into `dir` and read as `migspec` reads them.
pub fn state(dir: &std::path::Path, data: &[u8]) {
    let (snapshot, log) = match data.iter().position(|&byte| byte == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let backend = migspec_runner::state::LocalState::new(dir);
    std::fs::write(backend.path(), snapshot).expect("write state.json");
    match log {
        Some(log) => std::fs::write(backend.log_path(), log).expect("write state.log"),
        None => match std::fs::remove_file(backend.log_path()) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => panic!("remove state.log: {error}"),
        },
    }
    if let Ok(state) = backend.read() {
        // What was read must be writable again (the next apply does it).
        let _ = serde_json::to_string(&state).expect("a loaded state serialises");
    }
}

/// Which emulator API a request is sent to.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    /// Tencent DTS (`POST /`, `GET /?…`).
    Tencent,
    /// Huawei OMS v2 (`/v2/{project_id}/…`).
    Huawei,
}

/// One emulator request: the first byte holds flags (bit 0: authenticate with the default
/// credentials, so that the body parsers are reached; bit 1: send a second request after
/// it, for state-machine paths), the rest is an HTTP/1.1 request (request line, headers,
/// blank line, body) as hyper would frame it.
pub fn emulator(service: Service, data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let emulator = Emulator::new();
    let mut rest = rest;
    for round in 0..2 {
        let Some((request, used)) = parse_request(service, rest) else {
            return;
        };
        let (method, target, headers, body) = request;
        let answer = emulator.handle(method, &target, headers, body, flags & 1 == 1);
        if let Answer::Response(status, body) = &answer {
            // The emulator answers JSON, or nothing.
            assert!(
                body.is_empty() || serde_json::from_slice::<serde_json::Value>(body).is_ok(),
                "status {status}: the emulator answered something that is not JSON: {}",
                String::from_utf8_lossy(body)
            );
        }
        if round == 1 || flags & 2 == 0 {
            return;
        }
        emulator.advance_ms(u64::from(flags >> 2) * 1000);
        rest = &rest[used..];
    }
}

type Request = (hyper::Method, String, hyper::HeaderMap, hyper::body::Bytes);

/// Frames one request with httparse (hyper's own parser), and takes `Content-Length`
/// bytes of body (all the rest without one). `None` for what hyper would refuse.
fn parse_request(service: Service, data: &[u8]) -> Option<(Request, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(head) = parsed.parse(data).ok()? else {
        return None;
    };
    let method = hyper::Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    let mut target = parsed.path?.to_owned();
    if matches!(service, Service::Huawei) && !target.starts_with("/v2/") {
        // Keep the Huawei target on its service (the Tencent one takes every other path).
        target.insert_str(0, "/v2");
    }
    let mut map = hyper::HeaderMap::new();
    let mut length = None;
    for header in parsed.headers.iter() {
        let name = hyper::header::HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        let value = hyper::header::HeaderValue::from_bytes(header.value).ok()?;
        if name == hyper::header::CONTENT_LENGTH {
            length = Some(
                std::str::from_utf8(header.value)
                    .ok()?
                    .trim()
                    .parse::<usize>()
                    .ok()?,
            );
        }
        map.append(name, value);
    }
    let body = &data[head..];
    let take = length.unwrap_or(body.len()).min(body.len());
    Some((
        (
            method,
            target,
            map,
            hyper::body::Bytes::copy_from_slice(&body[..take]),
        ),
        head + take,
    ))
}

/// Replays the kept corpus (`corpus/<target>/`) and every input that once crashed or hung a
/// target (`regressions/<target>/`) through the same code as the AFL binaries, without AFL:
/// `cargo test --lib --manifest-path fuzz/Cargo.toml` (a unit test module, because the AFL
/// binaries link only under `cargo afl`, and an integration test would build them).
#[cfg(test)]
mod corpus {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    /// The files of `fuzz/<kind>/<target>/`, sorted (none when the directory is absent).
    fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(kind)
            .join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.is_file()
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        files
    }

    /// Runs `run` on every kept input of `target`; each must finish, without panicking, within
    /// five seconds (a debug build on a loaded machine; the fuzz runs' hang limit is one second
    /// in release).
    fn replay(target: &str, run: impl Fn(&[u8])) {
        let corpus = inputs("corpus", target);
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} holds no input");
        for path in corpus.iter().chain(inputs("regressions", target).iter()) {
            let data = std::fs::read(path).expect("read an input");
            let started = Instant::now();
            run(&data);
            let took = started.elapsed();
            assert!(
                took < Duration::from_secs(5),
                "{} took {took:?}",
                path.display()
            );
        }
    }

    #[test]
    fn spec_inputs_replay() {
        replay("spec", crate::spec);
    }

    #[test]
    fn tencent_inputs_replay() {
        replay("tencent", |data| {
            crate::emulator(crate::Service::Tencent, data);
        });
    }

    #[test]
    fn huawei_inputs_replay() {
        replay("huawei", |data| {
            crate::emulator(crate::Service::Huawei, data);
        });
    }

    #[cfg(feature = "runner")]
    #[test]
    fn plan_inputs_replay() {
        replay("plan", crate::plan);
    }

    #[cfg(feature = "runner")]
    #[test]
    fn state_inputs_replay() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        replay("state", |data| crate::state(dir.path(), data));
    }
}
