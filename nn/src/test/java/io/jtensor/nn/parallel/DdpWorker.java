package io.jtensor.nn.parallel;

import io.jtensor.distributed.ProcessGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One rank of an mpirun job for {@link DdpMpiTest}: {@code DdpWorker SCENARIO OUTDIR} trains its shard of the
 * scenario and writes {@code OUTDIR/rank-R.txt}: the final state ("state NAME v,v,..."), the bucket launch order of
 * the last step ("launch ...") and the buckets ("buckets ..."). {@code DdpWorker GRADS_X OUTDIR} runs
 * {@link DdpGradScenario} X and writes its gradients ("grad NAME v,v,..." or "grad NAME none") or its error
 * ("error MESSAGE").
 */
public final class DdpWorker {
    private DdpWorker() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[1]);
        if (args[0].startsWith("GRADS_")) {
            try (ProcessGroup group = ProcessGroup.init("mpi")) {
                List<String> lines = new ArrayList<>();
                try {
                    DdpGradScenario.valueOf(args[0].substring(6)).rankGrads(group)
                            .forEach((k, v) -> lines.add("grad " + k + " " + (v == null ? "none" : String.join(",", Arrays.stream(v).mapToObj(Double::toString).toList()))));
                } catch (IllegalStateException e) {
                    lines.add("error " + e.getMessage());
                }
                write(dir, group.rank(), lines);
            }
            return;
        }
        DdpScenario scenario = DdpScenario.valueOf(args[0]);
        try (ProcessGroup group = ProcessGroup.init("mpi")) {
            DistributedDataParallel[] ddp = new DistributedDataParallel[1];
            Map<String, double[]> state = scenario.train(scenario.model(), group, ddp);
            List<String> lines = new ArrayList<>();
            state.forEach((k, v) -> lines.add("state " + k + " " + String.join(",", Arrays.stream(v).mapToObj(Double::toString).toList())));
            lines.add("launch " + ddp[0].lastLaunchOrder());
            lines.add("buckets " + ddp[0].bucketParameterNames());
            write(dir, group.rank(), lines);
        }
    }

    private static void write(Path dir, int rank, List<String> lines) throws IOException {
        Path tmp = dir.resolve("rank-" + rank + ".tmp");
        Files.write(tmp, lines);
        Files.move(tmp, dir.resolve("rank-" + rank + ".txt"));
    }
}
