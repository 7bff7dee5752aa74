import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { renderCommand } from "../../../cli/commands/render";
import { reviewCommand } from "../../../cli/commands/review";
import { azureModule } from "../../../components/azure/module";
import type { ReviewJson } from "../../../lib";
import { captureIo } from "../../cli/capture";
import { MIXED } from "./policies";

const FLAGSHIP = join(__dirname, "..", "..", "..", "stacks", "ai-platform", "policy.yaml");

describe("blastradius review / render with the azure target", () => {
  it("review proves forbids blocked and allows open for a policy with Azure placements", async () => {
    const dir = mkdtempSync(join(tmpdir(), "br-azure-"));
    const file = join(dir, "mixed.yaml");
    writeFileSync(file, stringify(MIXED));
    const io = captureIo();
    expect(await reviewCommand(file, { modules: [azureModule!], json: join(dir, "r.json") }, io)).toBe(0);
    const review = JSON.parse(readFileSync(join(dir, "r.json"), "utf8")) as ReviewJson;
    expect(review.targets).toEqual(["azure"]);
    expect(review.resources.azure).toBeGreaterThan(20);
    const enforce = review.forbidden.filter((f) => f.mode === "enforce");
    expect(enforce.map((f) => `${f.path}:${f.status}`).sort()).toEqual([
      "no-corp-to-db:blocked",
      "no-db-exfil:blocked",
      "no-web-to-db:blocked",
    ]);
    expect(review.allowed.every((a) => a.status === "open")).toBe(true);
  });

  it("render writes one JSON file per VNet", () => {
    const out = mkdtempSync(join(tmpdir(), "br-azure-out-"));
    const io = captureIo();
    expect(renderCommand(FLAGSHIP, out, io)).toBe(0);
    expect(readdirSync(join(out, "azure"))).toEqual(["core.json"]);
    const core = JSON.parse(readFileSync(join(out, "azure", "core.json"), "utf8"));
    expect(core.networkSecurityGroupName).toBe("nsg-ai-platform-core");
    expect(core.rules.map((r: { name: string }) => r.name)).toContain("deny-all-inbound");
  });
});
