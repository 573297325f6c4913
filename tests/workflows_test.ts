// Copyright 2026 the @birkhoff/mhc authors. MIT license.
// The GitHub workflows do what the README says: CI runs .ci/run (the same
// checks and tests, lavapipe installed, the pinned Deno), and a version tag
// publishes to JSR with OIDC (no token secret) after `deno task check`. Every
// action is pinned to a full version. (The schema itself is checked by
// action-validator in `deno task check`.)
import { assert, assertEquals, assertMatch } from "@std/assert";
import { describe, it } from "@std/testing/bdd";
import { parse } from "yaml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on": string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const workflow = (name: string) =>
  parse(read(`.github/workflows/${name}`)) as Workflow;

/** The Deno version .ci/run installs. */
const PINNED_DENO = read(".ci/run").match(/^DENO_VERSION=(\S+)$/m)?.[1];

/** The steps of the only job of `w`. */
function onlyJob(w: Workflow): Job {
  const jobs = Object.values(w.jobs);
  assertEquals(jobs.length, 1, "one job");
  return jobs[0];
}

/** Index of the first step whose `run` matches `re`, or -1. */
const runs = (job: Job, re: RegExp) =>
  job.steps.findIndex((s) => s.run !== undefined && re.test(s.run));

describe("the GitHub workflows", () => {
  it("pin every action to a full version and install the Deno that .ci/run pins", () => {
    assert(PINNED_DENO, "DENO_VERSION in .ci/run");
    for (const name of ["ci.yml", "publish.yml"]) {
      const job = onlyJob(workflow(name));
      assertMatch(job["runs-on"], /^ubuntu-/);
      const actions = job.steps.filter((s) => s.uses);
      assert(actions.length >= 2, `${name}: checkout and setup-deno`);
      for (const s of actions) {
        assertMatch(s.uses!, /^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/, name);
      }
      const deno = actions.find((s) =>
        s.uses!.startsWith("denoland/setup-deno@")
      );
      assertEquals(String(deno?.with?.["deno-version"]), PINNED_DENO, name);
    }
  });

  it("run .ci/run on every push and pull request, with lavapipe installed first", () => {
    const w = workflow("ci.yml");
    assert("push" in w.on && "pull_request" in w.on);
    const job = onlyJob(w);
    const lavapipe = runs(job, /apt-get install .*mesa-vulkan-drivers/);
    const ci = runs(job, /^bash \.ci\/run\s*$/);
    assert(lavapipe >= 0, "installs mesa-vulkan-drivers");
    assert(ci > lavapipe, "runs .ci/run after installing lavapipe");
    assertEquals(w.permissions, { contents: "read" });
  });

  it("publish on a version tag with OIDC, after deno task check, with no token", () => {
    const w = workflow("publish.yml");
    const push = w.on.push as { tags?: string[] };
    assertEquals(Object.keys(w.on), ["push"]);
    assertEquals(push.tags, ["v*"]);
    const job = onlyJob(w);
    const permissions = { ...w.permissions, ...job.permissions };
    assertEquals(permissions["id-token"], "write");
    const check = runs(job, /^deno task check\s*$/);
    const publish = runs(job, /^deno publish\s*$/);
    assert(check >= 0 && publish > check, "deno task check, then deno publish");
    assert(!read(".github/workflows/publish.yml").includes("secrets."));
  });
});
