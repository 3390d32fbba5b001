package io.jtensor.cli;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code jtensor launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P]
 * [--backend nccl|mpi] -- <command ...>}: starts the N workers of this node and waits for them.
 *
 * <p>The command is a jtensor command ({@code train ...}, run in a JVM like this one) or any program. With
 * {@code nccl} the launcher starts the workers itself with torchrun's variables ({@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}); with {@code mpi} it runs
 * them under {@code mpirun}, which wires them (a cluster user can call {@code mpirun} or {@code srun} directly
 * instead). Output lines are prefixed {@code [rank R]}; see {@link Workers} for fail-fast, Ctrl-C and why no
 * worker outlives the launcher.
 */
final class LaunchCommand {
    static final List<Flag> FLAGS = List.of(
            Flag.value("nproc-per-node", "N", null, "workers to start on this node (one per GPU for nccl)"),
            Flag.value("nnodes", "M", "1", "nodes in the job"),
            Flag.value("node-rank", "R", "0", "this node's index, 0..M-1"),
            Flag.value("master-addr", "HOST", "127.0.0.1", "host of rank 0 (NCCL's bootstrap listens there)"),
            Flag.value("master-port", "PORT", "29500", "port of rank 0's bootstrap"),
            Flag.value("backend", "NAME", "nccl", "nccl: start the workers with torchrun's variables; mpi: run them under mpirun"));

    /** The commands {@link Main} runs: a launch of one of these starts jtensor itself in each worker. */
    static final Set<String> JTENSOR_COMMANDS = Set.of("train", "eval", "devices", "help");

    private LaunchCommand() {}

    /** What to start: one process per local rank (nccl) or one mpirun (mpi). */
    record Plan(String backend, int nprocPerNode, int nnodes, int nodeRank, String masterAddr, int masterPort, List<String> command) {
        int worldSize() { return nprocPerNode * nnodes; }

        /** The torchrun variables of local rank i. */
        Map<String, String> torchrunEnv(int local) {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("RANK", String.valueOf(nodeRank * nprocPerNode + local));
            env.put("WORLD_SIZE", String.valueOf(worldSize()));
            env.put("LOCAL_RANK", String.valueOf(local));
            env.put("LOCAL_WORLD_SIZE", String.valueOf(nprocPerNode));
            env.put("GROUP_RANK", String.valueOf(nodeRank));
            env.put("MASTER_ADDR", masterAddr);
            env.put("MASTER_PORT", String.valueOf(masterPort));
            return env;
        }

        /**
         * mpirun for the mpi backend: root may run it, ranks may outnumber cores and are not pinned, each line is
         * tagged with its rank (the launcher rewrites the tags). The program runs through env because mpirun
         * rewrites the class path of an executable named java (its Java-bindings support) and breaks it.
         */
        List<String> mpirunCommand(String mpirun, boolean root) {
            List<String> cmd = new ArrayList<>(List.of(mpirun));
            if (root) cmd.add("--allow-run-as-root");
            cmd.addAll(List.of("--oversubscribe", "--bind-to", "none", "--tag-output", "-np", String.valueOf(nprocPerNode), "/usr/bin/env"));
            cmd.addAll(command);
            return cmd;
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        int dashes = Arrays.asList(args).indexOf("--");
        String[] flags = dashes < 0 ? args : Arrays.copyOfRange(args, 0, dashes);
        if (Arrays.asList(flags).contains("--help") || Arrays.asList(flags).contains("-h")) {
            out.print(usage());
            return 0;
        }
        Plan plan;
        try {
            plan = plan(flags, dashes < 0 ? List.of() : List.of(Arrays.copyOfRange(args, dashes + 1, args.length)));
        } catch (UsageException e) {
            err.println("jtensor launch: " + e.getMessage());
            err.print(usage());
            return 2;
        }
        try {
            return Workers.run(plan, out, err);
        } catch (CommandException e) {
            err.println("jtensor launch: " + e.getMessage());
            return 1;
        }
    }

    static Plan plan(String[] flags, List<String> command) {
        ParsedArgs a = ParsedArgs.parse("launch", FLAGS, flags);
        if (!a.has("nproc-per-node")) throw new UsageException("--nproc-per-node is required");
        if (command.isEmpty()) throw new UsageException("expected the command to run after --, e.g. -- train --model mlp");
        int n = a.integer("nproc-per-node", 1);
        int nnodes = a.integer("nnodes", 1);
        int nodeRank = a.integer("node-rank", 0);
        if (nodeRank >= nnodes) throw new UsageException("--node-rank: expected 0.." + (nnodes - 1) + " for --nnodes " + nnodes + ", got " + nodeRank);
        int port = a.integer("master-port", 1);
        if (port > 65535) throw new UsageException("--master-port: expected 1..65535, got " + port);
        String backend = a.choice("backend", List.of("nccl", "mpi"));
        if (backend.equals("mpi") && nnodes > 1) {
            throw new UsageException("--backend mpi runs one node's mpirun; for several nodes call mpirun (with a hostfile) or srun directly");
        }
        return new Plan(backend, n, nnodes, nodeRank, a.string("master-addr"), port, workerCommand(command));
    }

    /** A jtensor command becomes {@code java <this JVM's flags> -cp <this class path> io.jtensor.cli.Main ...}. */
    static List<String> workerCommand(List<String> command) {
        if (!JTENSOR_COMMANDS.contains(command.get(0))) return command;
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String f : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger or agent of the launcher must not be attached to every worker (they would fight for the port).
            if (!f.startsWith("-agentlib") && !f.startsWith("-javaagent") && !f.startsWith("-Xrunjdwp")) cmd.add(f);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(command);
        return cmd;
    }

    /** The mpirun on PATH, or null. */
    static String mpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "mpirun");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    static String usage() {
        return Main.commandUsage("launch", FLAGS).replace("usage: jtensor launch [flags]",
                "usage: jtensor launch --nproc-per-node N [flags] -- <command ...>")
                + """

                the command is a jtensor command (train ...) or any program (java -cp app.jar my.Main).
                every output line is prefixed with its rank; when a worker fails the others are stopped and
                launch exits with that worker's status; Ctrl-C stops them all.

                example:
                  jtensor launch --nproc-per-node 2 --backend mpi -- train --model lenet5 --distributed mpi
                """;
    }
}
