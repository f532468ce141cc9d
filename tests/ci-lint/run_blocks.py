"""Writes every `run:` block of GitHub workflow files as a shell script, for shellcheck.

GitHub expressions (`${{ ... }}`) are replaced by a plain word, so that shellcheck judges
only the shell around them; each script names its workflow, job and step in a comment so a
finding points back to the YAML.
"""

import os
import re
import sys

import yaml

EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    count = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as handle:
            workflow = yaml.safe_load(handle)
        for job_name, job in (workflow.get("jobs") or {}).items():
            for index, step in enumerate(job.get("steps") or []):
                script = step.get("run")
                if not script:
                    continue
                count += 1
                name = step.get("name", f"step {index + 1}")
                body = EXPRESSION.sub("GITHUB_EXPRESSION", script)
                target = os.path.join(out, f"{count:03d}.sh")
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write("#!/usr/bin/env bash\n")
                    handle.write(f"# {path}: jobs.{job_name}: {name}\n")
                    # GitHub runs `run:` with `bash -e {0}`.
                    handle.write("set -e\n")
                    handle.write(body)
                    if not body.endswith("\n"):
                        handle.write("\n")
    print(f"run_blocks: {count} run blocks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
