// Drives yaml-language-server over stdio (LSP JSON-RPC) the way an editor does, against the
// checked-in schemas/migspec.schema.json, and checks what a person editing a spec sees:
//
// 1. a diagnostic on a misspelt key;
// 2. a type error that names the field's title, not an internal `$defs` name;
// 3. key completion inside `spec.MigrateOption`;
// 4. hover on an enum value: its meaning, said once;
// 5. hover on a secret field (`Password`): the field's own description.
//
// Usage: node tests/editor/check.mjs PATH/TO/yaml-language-server REPO_ROOT [--dump]
// Exits 0 when every check passes, 1 otherwise (printing what was seen).

import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [server, root, ...flags] = process.argv.slice(2);
if (!server || !root) {
  console.error("usage: node check.mjs PATH/TO/yaml-language-server REPO_ROOT [--dump]");
  process.exit(2);
}
const dump = flags.includes("--dump");

// The spec is never written to disk: the server gets its text with didOpen. Its URI sits
// in specs/ so that the modeline's relative path resolves to the checked-in schema.
const uri = pathToFileURL(path.join(root, "specs", "editor-check.yaml")).href;
const lines = [
  "# yaml-language-server: $schema=../schemas/migspec.schema.json",
  "apiVersion: migspec/v1",
  "kind: TencentDtsMigrateJob",
  "metadata: {name: editor-check}",
  "spec:",
  "  region: ap-guangzhou",
  "  JobNmae: orders", // misspelt JobName
  "  MigrateOption:",
  "    RunMode: 1",
  "    ", // completion here
  "  SrcDatabaseType: mysql",
  "  SrcAccessType: cvm",
  "  SrcInfo: {CvmInstanceId: ins-1a2b3c4d, Port: 3306, User: dts, Region: ap-guangzhou,",
  "            Password: {fromEnv: SRC_PASSWORD}}",
  "  DstDatabaseType: mysql",
  "  DstAccessType: cdb",
  "  DstInfo: 5", // wrong type: an object is expected
  "lifecycle: {desired: running}",
  "",
];
const text = lines.join("\n");
const lineOf = (needle) => lines.findIndex((line) => line.includes(needle));
const at = (needle, offset = 0) => ({
  line: lineOf(needle),
  character: lines[lineOf(needle)].indexOf(needle) + offset,
});

const child = spawn(process.execPath, [server, "--stdio"], {
  stdio: ["pipe", "pipe", "inherit"],
});
const timer = setTimeout(() => fail("timed out after 30s"), 30_000);

let buffer = Buffer.alloc(0);
let nextId = 1;
const pending = new Map();
const diagnostics = [];
let diagnosticsSeen = null;
const diagnosticsArrived = new Promise((resolve) => (diagnosticsSeen = resolve));

function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
  child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  child.stdin.write(body);
}
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}
const notify = (method, params) => send({ method, params });

const settings = {
  yaml: {
    validate: true,
    hover: true,
    completion: true,
    format: { enable: false },
    schemaStore: { enable: false },
    schemas: {},
  },
};

function onMessage(message) {
  if (message.id !== undefined && message.method === undefined) {
    pending.get(message.id)?.(message.result ?? message.error);
    pending.delete(message.id);
    return;
  }
  if (message.method === "workspace/configuration") {
    // One answer per item asked for: the `yaml` section, or nothing.
    const result = message.params.items.map((item) =>
      item.section === "yaml" ? settings.yaml : item.section ? null : settings,
    );
    send({ id: message.id, result });
    return;
  }
  if (message.id !== undefined) {
    send({ id: message.id, result: null }); // client/registerCapability and the like
    return;
  }
  if (message.method === "textDocument/publishDiagnostics" && message.params.uri === uri) {
    diagnostics.splice(0, diagnostics.length, ...message.params.diagnostics);
    if (diagnostics.length > 0) diagnosticsSeen();
  }
}

child.stdout.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const header = buffer.subarray(0, end).toString("ascii");
    const length = Number(/Content-Length: (\d+)/i.exec(header)?.[1]);
    if (buffer.length < end + 4 + length) return;
    const body = buffer.subarray(end + 4, end + 4 + length).toString("utf8");
    buffer = buffer.subarray(end + 4 + length);
    onMessage(JSON.parse(body));
  }
});

const failures = [];
const seen = {};
function check(name, ok, detail) {
  if (!ok) failures.push(`${name}: ${detail}`);
}
function fail(message) {
  console.error(`editor check: ${message}`);
  child.kill();
  process.exit(1);
}
const hoverText = (hover) => {
  const contents = hover?.contents;
  if (!contents) return "";
  if (typeof contents === "string") return contents;
  if (Array.isArray(contents)) return contents.map((c) => c.value ?? c).join("\n");
  return contents.value ?? "";
};

await request("initialize", {
  processId: process.pid,
  rootUri: pathToFileURL(root).href,
  capabilities: {
    workspace: { configuration: true },
    textDocument: {
      hover: { contentFormat: ["markdown", "plaintext"] },
      completion: { completionItem: { snippetSupport: true, documentationFormat: ["markdown"] } },
      publishDiagnostics: {},
    },
  },
  initializationOptions: {},
});
notify("initialized", {});
notify("workspace/didChangeConfiguration", { settings });
notify("textDocument/didOpen", {
  textDocument: { uri, languageId: "yaml", version: 1, text },
});
await Promise.race([
  diagnosticsArrived,
  new Promise((resolve) => setTimeout(resolve, 15_000)),
]);
seen.diagnostics = diagnostics.map((d) => ({ line: d.range.start.line, message: d.message }));

const misspelt = diagnostics.find((d) => d.range.start.line === lineOf("JobNmae"));
check(
  "a misspelt key is reported",
  misspelt && /JobNmae/.test(misspelt.message) && /not allowed/i.test(misspelt.message),
  JSON.stringify(seen.diagnostics),
);
const typed = diagnostics.find((d) => d.range.start.line === lineOf("DstInfo: 5"));
check(
  "a type error names the field's title, not a $defs name",
  typed && /Expected/.test(typed.message) && !/TencentDtsMigrateJob\./.test(typed.message),
  JSON.stringify(typed?.message ?? seen.diagnostics),
);

const completion = await request("textDocument/completion", {
  textDocument: { uri },
  position: { line: lineOf("RunMode: 1") + 1, character: 4 },
});
const labels = (completion?.items ?? completion ?? []).map((item) => item.label);
seen.completion = labels;
check(
  "keys of MigrateOption are completed",
  ["MigrateType", "MigrateObject", "ConsistencyType", "ExpectTime"].every((key) =>
    labels.includes(key),
  ) && !labels.includes("RunMode"),
  JSON.stringify(labels),
);

const enumHover = hoverText(
  await request("textDocument/hover", { textDocument: { uri }, position: at("cvm", 1) }),
);
seen.enumHover = enumHover;
const meaning = "self-built on a CVM instance";
check(
  "hover on an enum value gives its meaning once",
  enumHover.includes(meaning) &&
    enumHover.split(meaning).length === 2 &&
    !/`cvm`:\s*`cvm`/.test(enumHover),
  JSON.stringify(enumHover),
);

const secretHover = hoverText(
  await request("textDocument/hover", { textDocument: { uri }, position: at("Password", 2) }),
);
seen.secretHover = secretHover;
check(
  "hover on a secret field keeps the field's description",
  secretHover.includes("Database password") && /fromEnv/.test(secretHover),
  JSON.stringify(secretHover),
);

await request("shutdown", null);
notify("exit", null);
clearTimeout(timer);
if (dump) console.log(JSON.stringify(seen, null, 2));
if (failures.length > 0) {
  console.error(`editor check: ${failures.length} failed`);
  for (const failure of failures) console.error(`  - ${failure}`);
  process.exit(1);
}
console.log("editor check: diagnostics, completion and hover as expected (5 checks)");
process.exit(0);
