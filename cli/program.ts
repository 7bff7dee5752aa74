import { Command, CommanderError, InvalidArgumentError } from "commander";
import { packageVersion } from "../components/runner/self";
import { type AuditOptions, auditCommand } from "./commands/audit";
import { checkCommand } from "./commands/check";
import { diffCommand } from "./commands/diff";
import { type RadiusOptions, radiusCommand } from "./commands/radius";
import { recommendCommand } from "./commands/recommend";
import { renderCommand } from "./commands/render";
import { reviewCommand } from "./commands/review";
import { simulateCommand } from "./commands/simulate";
import { EXIT, type Io, processIo } from "./io";

/** Parses a count given on the command line: digits only, at least 1 (not "abc", "-5", "1e3" or "2.5"). */
function positiveInteger(value: string): number {
  if (!/^[0-9]+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return Number(value);
}

/**
 * What the CLI says when a command failed in a way no command anticipated (a bug): one line, exit
 * 2, never a stack trace (BLASTRADIUS_DEBUG=1 prints it for a bug report).
 */
export function internalError(e: unknown, io: Io): number {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const firstLine = message.split("\n")[0]!.slice(0, 500);
  io.err(
    code && /^E[A-Z]+$/.test(code)
      ? `blastradius: ${firstLine} (${code}); nothing more was done`
      : `blastradius: internal error: ${firstLine} (this is a bug; BLASTRADIUS_DEBUG=1 shows where)`,
  );
  if (process.env.BLASTRADIUS_DEBUG === "1" && e instanceof Error && e.stack) io.err(e.stack);
  return EXIT.INVALID;
}

/**
 * Runs the CLI on `args` (without node and script) and resolves to the exit code: 0, 1 or 2, for
 * every input. An exception no command handles ends as exit 2 with one line (internalError).
 */
export async function run(args: readonly string[], io: Io = processIo): Promise<number> {
  try {
    return await runCommands(args, io);
  } catch (e) {
    return internalError(e, io);
  }
}

async function runCommands(args: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command("blastradius")
    .description("Micro-segmentation you can prove: check, render and review movement-path policies.")
    .version(packageVersion(), "-v, --version", "print the installed version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command("check")
    .description("parse, validate and compile a policy; print every problem")
    .argument("<policy>", "policy file (YAML or JSON)")
    .action((policy: string) => {
      code = checkCommand(policy, io);
    });

  program
    .command("render")
    .description("write each target's native artefacts without Pulumi")
    .argument("<policy>", "policy file (YAML or JSON)")
    .requiredOption("--out <dir>", "output directory")
    .action((policy: string, opts: { out: string }) => {
      code = renderCommand(policy, opts.out, io);
    });

  program
    .command("review")
    .description("run a stack (or render a policy) offline under Pulumi mocks and prove it")
    .argument("<input>", "a stack directory (with Pulumi.yaml) or a policy file")
    .option("--stack <name>", "stack whose Pulumi.<name>.yaml config to use")
    .option("--policy <file>", "the stack's policy file (default: policy.yaml beside Pulumi.yaml)")
    .option("--json <file>", "write the review JSON")
    .option("--markdown <file>", "write the review as Markdown")
    .option("--emit <file>", "write every recorded resource as JSON [{type, name, id, inputs}]")
    .option(
      "--quota <id=n...>",
      "a raised provider limit, e.g. aws.rulesPerSecurityGroup=200 (default: documented defaults)",
    )
    .option(
      "--timeout <seconds>",
      "stop a stack's program that has not finished after this long (default 600)",
    )
    .action(
      async (
        input: string,
        opts: {
          stack?: string;
          policy?: string;
          json?: string;
          markdown?: string;
          emit?: string;
          quota?: string[];
          timeout?: string;
        },
      ) => {
        code = await reviewCommand(input, opts, io);
      },
    );

  program
    .command("radius")
    .description(
      "what a compromise reaches in any number of hops, from the rendered rules (chains, witnesses)",
    )
    .argument("<input>", "a stack directory (with Pulumi.yaml) or a policy file")
    .requiredOption(
      "--from <name>",
      "the compromised workload, peer or segment (workload:, peer:, segment: say which)",
    )
    .option("--to <name>", "only this workload, peer or segment; exit 1 when it is reached")
    .option("--hops <n>", "only chains of at most n hops")
    .option("--json <file>", "write {from, reached: [{name, kind, hops, chain}]}")
    .option("--markdown <file>", "write the chains as Markdown with a Mermaid graph")
    .option("--stack <name>", "stack whose Pulumi.<name>.yaml config to use")
    .option("--policy <file>", "the stack's policy file (default: policy.yaml beside Pulumi.yaml)")
    .action(async (input: string, opts: RadiusOptions) => {
      code = await radiusCommand(input, opts, io);
    });

  program
    .command("diff")
    .description("semantic diff of two reviews: which paths opened or closed, on which target")
    .argument("<old>", "review JSON written by review --json")
    .argument("<new>", "review JSON written by review --json")
    .option("--markdown <file>", "write the diff as Markdown")
    .option("--json <file>", "write the diff as JSON")
    .option(
      "--fail-on <conditions...>",
      "exit 1 when: opened (an enforce forbid opened or widened, or a reach: any chain opened; the default), broken (an allow broke), grown (a blast radius grew), never",
    )
    .action(
      (oldFile: string, newFile: string, opts: { markdown?: string; json?: string; failOn?: string[] }) => {
        code = diffCommand(oldFile, newFile, opts, io);
      },
    );

  program
    .command("simulate")
    .description("replay observed flow logs against a policy: what enforcing would break")
    .argument("<policy>", "policy file (YAML or JSON)")
    .requiredOption(
      "--flows <files...>",
      "flow logs: AWS VPC (text), GCP (JSON lines), Azure NSG/VNet (JSON), Hubble (jsonpb)",
    )
    .option("--json <file>", "write the report as JSON")
    .option("--format <format>", "force the format: aws, gcp, azure or hubble")
    .option("--aws-format <fields>", "AWS custom format for files without a header line")
    .option("--limit <n>", "groups listed per section (a positive whole number)", positiveInteger)
    .action(
      async (
        policy: string,
        opts: { flows: string[]; json?: string; format?: string; awsFormat?: string; limit?: number },
      ) => {
        code = await simulateCommand(policy, opts, io);
      },
    );

  program
    .command("recommend")
    .description(
      "draft the narrowest allow paths covering observed flows, with evidence, for a human to review",
    )
    .requiredOption("--flows <files...>", "flow logs (as for simulate)")
    .option("--policy <file>", "the policy whose placements map the flows; the output is it plus the drafts")
    .option("--out <file>", "write the YAML here (never the policy file)")
    .option("--fragment", "print only the drafted peers, segments and paths")
    .option("--format <format>", "force the format: aws, gcp, azure or hubble")
    .option("--aws-format <fields>", "AWS custom format for files without a header line")
    .action(
      async (opts: {
        flows: string[];
        policy?: string;
        out?: string;
        fragment?: boolean;
        format?: string;
        awsFormat?: string;
      }) => {
        code = await recommendCommand(opts, io);
      },
    );

  program
    .command("audit")
    .description("prove the policy against exports of what is live, and list live rules it does not explain")
    .argument("<policy>", "policy file (YAML or JSON)")
    .option("--aws <file>", "aws ec2 describe-security-groups JSON")
    .option("--aws-nacls <file>", "aws ec2 describe-network-acls JSON")
    .option("--gcp <file>", "gcloud compute firewall-rules list --format=json")
    .option("--azure <files...>", "az network nsg show / list JSON")
    .option("--cilium <file>", "kubectl get cnp -A -o json")
    .option("--cilium-cluster <name>", "the cluster the Cilium export comes from")
    .option("--bluefield <host=file...>", "ovs-ofctl dump-flows output per DPU host")
    .option(
      "--aws-instances <file>",
      "aws ec2 describe-instances JSON: what each instance's interfaces carry",
    )
    .option(
      "--aws-interfaces <file>",
      "aws ec2 describe-network-interfaces JSON: what each interface carries",
    )
    .option(
      "--gcp-instances <file>",
      "gcloud compute instances list --format=json: each VM's account and tags",
    )
    .option("--azure-nics <files...>", "az network nic list JSON: each NIC's ASGs, NSG, subnet and tags")
    .option("--kubernetes-pods <file>", "kubectl get pods -A -o json: the labels each pod carries")
    .option("--json <file>", "write the audit as JSON (the review JSON plus `unexplained`)")
    .action((policy: string, opts: AuditOptions) => {
      code = auditCommand(policy, opts, io);
    });

  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.OK : EXIT.INVALID;
    }
    throw e;
  }
  return code;
}
